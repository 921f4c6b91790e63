//! The feature engine's cost per closed bar of one symbol: every named feature (TA-Lib's 112
//! functions and 61 patterns at their defaults, basic, flow, book, sentiment, macro and
//! cross-market features, `eager`) against the TA-Lib part alone, and against the default
//! engine that runs only the indicators read (here ten), measured side by side.
//!
//! `cargo bench -p stratbox --bench features`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stratbox::features::{FeatureConfig, FeatureEngine};
use stratbox::market::MarketData;
use stratbox::model::Bar;

fn bars(symbol: u32, n: usize) -> Vec<Bar> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut close: f64 = 0.05;
    (0..n)
        .map(|i| {
            let open = close;
            close = open * (1.0 + (uniform() - 0.5) * 0.01);
            Bar {
                symbol,
                interval_ms: 60_000,
                open_time: i as i64 * 60_000,
                open,
                high: open.max(close) * (1.0 + uniform() * 0.002),
                low: open.min(close) * (1.0 - uniform() * 0.002),
                close,
                volume: 10.0 + uniform() * 100.0,
            }
        })
        .collect()
}

/// Ten indicators a strategy might read.
const READ: [&str; 10] = [
    "SMA_30",
    "EMA_30",
    "RSI_14",
    "MACD_12_26_9.macd",
    "BBANDS_20_2_2_0.upperband",
    "ATR_14",
    "ADX_14",
    "STOCH_5_3_0_3_0.slowk",
    "OBV",
    "CCI_14",
];

/// A market over `REF` and `BTCUSDT` after 1,000 bars of each, and the bars of BTCUSDT.
fn setup(eager: bool) -> (MarketData, Vec<Bar>) {
    let config = FeatureConfig {
        references: vec!["REF".into()],
        eager,
        ..FeatureConfig::default()
    };
    let mut market = MarketData::new(FeatureEngine::new(config).unwrap());
    let reference = market.add_symbol("REF");
    let symbol = market.add_symbol("BTCUSDT");
    let (ours, theirs) = (bars(symbol, 20_000), bars(reference, 20_000));
    for i in 0..1_000 {
        market.push_bar(theirs[i]);
        market.push_bar(ours[i]);
    }
    (market, ours)
}

/// Measures `market.push_bar` over the bars after the first 1,000.
fn push_bars(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    market: &mut MarketData,
    bars: &[Bar],
) {
    let mut i = 1_000;
    group.bench_function(name, |b| {
        b.iter(|| {
            i += 1;
            market.push_bar(black_box(bars[i % bars.len()]));
        })
    });
}

fn bench(c: &mut Criterion) {
    let (mut market, ours) = setup(true);
    println!("{} features per bar", market.features.catalog().len());
    let mut group = c.benchmark_group("features_per_bar");
    push_bars(&mut group, "all_features_one_symbol", &mut market, &ours);
    let (mut read, _) = setup(false);
    for name in READ {
        let value = read.feature(1, name).unwrap();
        assert!(value.is_some(), "{name} has no value after 1,000 bars");
    }
    push_bars(
        &mut group,
        "ten_read_indicators_one_symbol",
        &mut read,
        &ours,
    );
    // The TA-Lib part alone, on the same bars.
    let mut all: Vec<(Box<dyn stratbox_ta::Indicator>, usize)> = stratbox_ta::registry::all()
        .iter()
        .map(|f| ((f.build)(&f.defaults()), f.outputs.len()))
        .collect();
    let mut out = [0.0; 4];
    let mut j = 0;
    group.bench_function("talib_functions_only", |b| {
        b.iter(|| {
            j += 1;
            let bar = ours[j % ours.len()];
            let bar = stratbox_ta::Bar {
                open: bar.open,
                high: bar.high,
                low: bar.low,
                close: bar.close,
                volume: bar.volume,
            };
            for (ind, w) in &mut all {
                ind.next(black_box(&bar), &mut out[..*w]);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
