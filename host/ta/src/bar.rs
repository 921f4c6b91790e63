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
    /// An empty series with room for `n` bars. A long one's columns are backed by transparent
    /// huge pages where the system grants them on request, as numpy's arrays are: a batch
    /// streaming through 8 MB columns then misses the TLB a 512th as often.
    pub fn with_capacity(n: usize) -> Self {
        let mut series = Series::default();
        for column in [
            &mut series.open,
            &mut series.high,
            &mut series.low,
            &mut series.close,
            &mut series.volume,
        ] {
            crate::indicator::prepare(column, n);
        }
        series
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_made_with_room_is_empty_and_takes_its_bars_without_moving() {
        let mut series = Series::with_capacity(1 << 20);
        assert!(series.is_empty());
        let before = series.close.as_ptr();
        for i in 0..(1 << 20) {
            let x = i as f64;
            series.push(Bar {
                open: x,
                high: x + 1.0,
                low: x - 1.0,
                close: x,
                volume: 1.0,
            });
        }
        assert_eq!(series.len(), 1 << 20);
        assert_eq!(series.close.as_ptr(), before, "no reallocation");
        assert_eq!(series.bar(7).high, 8.0);
    }
}
