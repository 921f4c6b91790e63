//! Volume Indicators: functions of volume.

use super::period;
use crate::bar::{Bar, Series};
use crate::blocks::window::Window;
use crate::indicator::{Indicator, Warmup};
use crate::registry::{Field, Function, Group, Param};

const HLCV: &[Field] = &[Field::High, Field::Low, Field::Close, Field::Volume];
const CLOSE_VOLUME: &[Field] = &[Field::Close, Field::Volume];
const REAL: &[&str] = &["real"];

/// Chaikin's money flow volume of a bar: the close's place in the range, from -1 at the low to
/// +1 at the high, times the volume; 0 for a bar without range.
#[inline]
fn money_flow_volume(bar: &Bar) -> f64 {
    let range = bar.high - bar.low;
    if range > 0.0 {
        (bar.close - bar.low - (bar.high - bar.close)) / range * bar.volume
    } else {
        0.0
    }
}

/// AD: the running total of money flow volume.
#[derive(Default)]
struct AccumulationDistribution {
    total: f64,
}

impl Indicator for AccumulationDistribution {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        if bar.high - bar.low > 0.0 {
            self.total += money_flow_volume(bar);
        }
        out[0] = self.total;
    }
}

/// ADOSC: fast minus slow EMA of the A/D line, both seeded with its first value.
struct ChaikinOscillator {
    ad: AccumulationDistribution,
    fast_k: f64,
    slow_k: f64,
    fast: f64,
    slow: f64,
    warmup: Warmup,
    started: bool,
}

impl ChaikinOscillator {
    fn new(fast: usize, slow: usize) -> Self {
        let k = |p: usize| 2.0 / (p as f64 + 1.0);
        Self {
            ad: AccumulationDistribution::default(),
            fast_k: k(fast),
            slow_k: k(slow),
            fast: 0.0,
            slow: 0.0,
            warmup: Warmup::new(fast.max(slow) - 1),
            started: false,
        }
    }
}

impl Indicator for ChaikinOscillator {
    fn lookback(&self) -> usize {
        self.warmup.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let mut ad = [0.0];
        self.ad.next(bar, &mut ad);
        let ad = ad[0];
        if self.started {
            self.fast = self.fast_k * ad + (1.0 - self.fast_k) * self.fast;
            self.slow = self.slow_k * ad + (1.0 - self.slow_k) * self.slow;
        } else {
            (self.fast, self.slow, self.started) = (ad, ad, true);
        }
        out[0] = if self.warmup.tick() {
            self.fast - self.slow
        } else {
            f64::NAN
        };
    }
}

/// CMF: money flow volume over volume, both summed over the window; 0 when no volume traded.
struct ChaikinMoneyFlow {
    flows: Window,
    volumes: Window,
    flow_total: f64,
    volume_total: f64,
}

impl Indicator for ChaikinMoneyFlow {
    fn lookback(&self) -> usize {
        self.flows.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        if self.flows.is_full() {
            self.flow_total -= self.flows.get(0);
            self.volume_total -= self.volumes.get(0);
        }
        let flow = money_flow_volume(bar);
        self.flows.push(flow);
        self.volumes.push(bar.volume);
        self.flow_total += flow;
        self.volume_total += bar.volume;
        out[0] = if !self.flows.is_full() {
            f64::NAN
        } else if self.volume_total > 0.0 {
            self.flow_total / self.volume_total
        } else {
            0.0
        };
    }
}

/// EFI: Elder's force index, the EMA of (close change times volume), seeded with the mean of the
/// first `period` forces; the raw force at period 1.
struct ForceIndex {
    period: usize,
    k: f64,
    prev_close: Option<f64>,
    seen: usize,
    ema: f64,
}

impl Indicator for ForceIndex {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = f64::NAN;
        let Some(prev) = self.prev_close.replace(bar.close) else {
            return;
        };
        let force = (bar.close - prev) * bar.volume;
        if self.period == 1 {
            out[0] = force;
            return;
        }
        if self.seen < self.period {
            self.seen += 1;
            self.ema += force;
            if self.seen < self.period {
                return;
            }
            self.ema /= self.period as f64;
        } else {
            self.ema = (force - self.ema).mul_add(self.k, self.ema);
        }
        out[0] = self.ema;
    }
}

/// MARKETFI: Bill Williams' market facilitation index, range per unit of volume (0 without
/// volume).
struct MarketFacilitation;

impl Indicator for MarketFacilitation {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = if bar.volume != 0.0 {
            (bar.high - bar.low) / bar.volume
        } else {
            0.0
        };
    }
}

/// The one output column of a batch, emptied with room for the series, and the series'
/// closes and volumes.
fn close_and_volume<'a>(
    series: &'a Series,
    out: &'a mut [Vec<f64>],
) -> (&'a mut Vec<f64>, &'a [f64], &'a [f64]) {
    let [column] = out else { panic!("one output") };
    let n = series.len();
    crate::indicator::prepare(column, n);
    (column, &series.close[..n], &series.volume[..n])
}

/// NVI and PVI: an index from 1000 compounding the close's percent change on the bars whose volume
/// fell (NVI) or rose (PVI) from the previous bar.
struct VolumeIndex {
    on_rise: bool,
    index: f64,
    prev: Option<(f64, f64)>,
}

impl VolumeIndex {
    fn new(on_rise: bool) -> Self {
        Self {
            on_rise,
            index: 1000.0,
            prev: None,
        }
    }
}

impl Indicator for VolumeIndex {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let (prev_close, prev_volume) = self.prev.unwrap_or((bar.close, bar.volume));
        let moved = if self.on_rise {
            bar.volume > prev_volume
        } else {
            bar.volume < prev_volume
        };
        if moved && prev_close != 0.0 {
            let mut index = self.index;
            index += (bar.close - prev_close) / prev_close * index;
            if index.is_finite() {
                self.index = index;
            }
        }
        self.prev = Some((bar.close, bar.volume));
        out[0] = self.index;
    }

    /// `next`'s steps over the series' columns, the index and the previous bar in registers.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let (column, close, volume) = close_and_volume(series, out);
        let Some((&c0, &v0)) = close.first().zip(volume.first()) else {
            return;
        };
        let on_rise = self.on_rise;
        let (mut prev_close, mut prev_volume) = self.prev.unwrap_or((c0, v0));
        let mut index = self.index;
        for (&c, &v) in close.iter().zip(volume) {
            let moved = if on_rise {
                v > prev_volume
            } else {
                v < prev_volume
            };
            if moved && prev_close != 0.0 {
                let next = index + (c - prev_close) / prev_close * index;
                if next.is_finite() {
                    index = next;
                }
            }
            (prev_close, prev_volume) = (c, v);
            column.push(index);
        }
        self.index = index;
        self.prev = Some((prev_close, prev_volume));
    }
}

/// OBV: on-balance volume, starting from the first bar's volume.
#[derive(Default)]
struct OnBalanceVolume {
    prev: Option<(f64, f64)>,
}

impl Indicator for OnBalanceVolume {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let (prev_close, mut obv) = self.prev.unwrap_or((bar.close, bar.volume));
        if bar.close > prev_close {
            obv += bar.volume;
        } else if bar.close < prev_close {
            obv -= bar.volume;
        }
        self.prev = Some((bar.close, obv));
        out[0] = obv;
    }

    /// `next`'s steps over the series' columns, the total and the previous close in registers.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let (column, close, volume) = close_and_volume(series, out);
        let Some((&c0, &v0)) = close.first().zip(volume.first()) else {
            return;
        };
        let (mut prev_close, mut obv) = self.prev.unwrap_or((c0, v0));
        for (&c, &v) in close.iter().zip(volume) {
            // Both sums computed and one chosen without a branch: the closes' ups and downs
            // are what no predictor guesses.
            let (up, down) = (obv + v, obv - v);
            obv = if c > prev_close {
                up
            } else if c < prev_close {
                down
            } else {
                obv
            };
            prev_close = c;
            column.push(obv);
        }
        self.prev = Some((prev_close, obv));
    }
}

/// PVT: the running total of the close's relative change times volume.
#[derive(Default)]
struct PriceVolumeTrend {
    total: f64,
    prev_close: Option<f64>,
}

impl Indicator for PriceVolumeTrend {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let prev = self.prev_close.replace(bar.close).unwrap_or(bar.close);
        if prev != 0.0 {
            self.total += (bar.close - prev) / prev * bar.volume;
        }
        out[0] = self.total;
    }
}

/// RVOL: the bar's volume over the mean volume of the `period` bars before it.
struct RelativeVolume {
    volumes: Window,
    total: f64,
}

impl Indicator for RelativeVolume {
    fn lookback(&self) -> usize {
        self.volumes.capacity()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = f64::NAN;
        let period = self.volumes.capacity();
        if self.volumes.is_full() {
            let baseline = self.total / period as f64;
            self.total -= self.volumes.get(0);
            self.total += bar.volume;
            out[0] = bar.volume / baseline;
        } else {
            self.total += bar.volume;
        }
        self.volumes.push(bar.volume);
    }
}

/// VWAP: the volume-weighted typical price since the first bar (0 until volume trades).
#[derive(Default)]
struct VolumeWeightedPrice {
    price_volume: f64,
    volume: f64,
    vwap: f64,
}

impl Indicator for VolumeWeightedPrice {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let typical = (bar.high + bar.low + bar.close) / 3.0;
        let weighted = typical * bar.volume;
        if typical.is_finite() && bar.volume.is_finite() {
            self.price_volume += weighted;
            self.volume += bar.volume;
        }
        if self.volume > 0.0 {
            self.vwap = self.price_volume / self.volume;
        }
        out[0] = self.vwap;
    }
}

pub(crate) static FUNCTIONS: &[Function] = &[
    Function {
        name: "AD",
        group: Group::VolumeIndicators,
        description: "Chaikin accumulation/distribution line",
        inputs: HLCV,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(AccumulationDistribution::default()),
    },
    Function {
        name: "ADOSC",
        group: Group::VolumeIndicators,
        description: "Chaikin A/D oscillator: fast EMA minus slow EMA of the A/D line",
        inputs: HLCV,
        params: &[
            Param::period("fastperiod", 3, 2),
            Param::period("slowperiod", 10, 2),
        ],
        outputs: REAL,
        build: |p| Box::new(ChaikinOscillator::new(period(p[0]), period(p[1]))),
    },
    Function {
        name: "CMF",
        group: Group::VolumeIndicators,
        description: "Chaikin money flow: money flow volume over volume across the window",
        inputs: HLCV,
        params: &[Param::period("timeperiod", 20, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(ChaikinMoneyFlow {
                flows: Window::new(period(p[0])),
                volumes: Window::new(period(p[0])),
                flow_total: 0.0,
                volume_total: 0.0,
            })
        },
    },
    Function {
        name: "EFI",
        group: Group::VolumeIndicators,
        description: "Elder's force index: EMA of close change times volume",
        inputs: CLOSE_VOLUME,
        params: &[Param::period("timeperiod", 13, 1)],
        outputs: REAL,
        build: |p| {
            let period = period(p[0]);
            Box::new(ForceIndex {
                period,
                k: 2.0 / (period + 1) as f64,
                prev_close: None,
                seen: 0,
                ema: 0.0,
            })
        },
    },
    Function {
        name: "MARKETFI",
        group: Group::VolumeIndicators,
        description: "Market facilitation index: range per unit of volume",
        inputs: &[Field::High, Field::Low, Field::Volume],
        params: &[],
        outputs: REAL,
        build: |_| Box::new(MarketFacilitation),
    },
    Function {
        name: "NVI",
        group: Group::VolumeIndicators,
        description: "Negative volume index: compounds price changes on falling volume",
        inputs: CLOSE_VOLUME,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(VolumeIndex::new(false)),
    },
    Function {
        name: "OBV",
        group: Group::VolumeIndicators,
        description: "On-balance volume",
        inputs: CLOSE_VOLUME,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(OnBalanceVolume::default()),
    },
    Function {
        name: "PVI",
        group: Group::VolumeIndicators,
        description: "Positive volume index: compounds price changes on rising volume",
        inputs: CLOSE_VOLUME,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(VolumeIndex::new(true)),
    },
    Function {
        name: "PVT",
        group: Group::VolumeIndicators,
        description: "Price volume trend: running total of relative close change times volume",
        inputs: CLOSE_VOLUME,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(PriceVolumeTrend::default()),
    },
    Function {
        name: "RVOL",
        group: Group::VolumeIndicators,
        description: "Relative volume: volume over the mean volume of the previous period",
        inputs: &[Field::Volume],
        params: &[Param::period("timeperiod", 20, 1)],
        outputs: REAL,
        build: |p| {
            Box::new(RelativeVolume {
                volumes: Window::new(period(p[0])),
                total: 0.0,
            })
        },
    },
    Function {
        name: "VWAP",
        group: Group::VolumeIndicators,
        description: "Volume-weighted average typical price since the first bar",
        inputs: HLCV,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(VolumeWeightedPrice::default()),
    },
];
