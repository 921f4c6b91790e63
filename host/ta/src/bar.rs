//! The input of every indicator: one OHLCV bar, or a whole series of them.

/// One bar's prices and volume.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bar {
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price.
    pub close: f64,
    /// Traded volume.
    pub volume: f64,
}

/// A series of bars stored column by column, as batch computations want them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Opening prices.
    pub open: Vec<f64>,
    /// Highest prices.
    pub high: Vec<f64>,
    /// Lowest prices.
    pub low: Vec<f64>,
    /// Closing prices.
    pub close: Vec<f64>,
    /// Volumes.
    pub volume: Vec<f64>,
}

impl Series {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.close.len()
    }

    /// True when the series holds no bar.
    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }

    /// The bar at `i`.
    #[inline]
    pub fn bar(&self, i: usize) -> Bar {
        Bar {
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
        }
    }

    /// Appends one bar.
    pub fn push(&mut self, bar: Bar) {
        self.open.push(bar.open);
        self.high.push(bar.high);
        self.low.push(bar.low);
        self.close.push(bar.close);
        self.volume.push(bar.volume);
    }

    /// Drops every bar, keeping the columns' room.
    pub fn clear(&mut self) {
        for column in [
            &mut self.open,
            &mut self.high,
            &mut self.low,
            &mut self.close,
            &mut self.volume,
        ] {
            column.clear();
        }
    }

    /// The first `n` bars (all of them when `n` is larger).
    pub fn head(&self, n: usize) -> Series {
        let n = n.min(self.len());
        Series {
            open: self.open[..n].to_vec(),
            high: self.high[..n].to_vec(),
            low: self.low[..n].to_vec(),
            close: self.close[..n].to_vec(),
            volume: self.volume[..n].to_vec(),
        }
    }
}
