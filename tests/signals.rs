//! The host's signal detectors (`[signals]`): each fires where its rule says on series built
//! to trigger it, none reads a bar after the one it signals at, and their signals enter the
//! engine's per-bar signal path marked with their source.

mod common;

use stratbox::engine::SignalStage;
use stratbox::features::{FeatureConfig, FeatureEngine};
use stratbox::feeds::MarketEvent;
use stratbox::market::MarketData;
use stratbox::model::{Bar, Direction, Signal, SignalKind};
use stratbox::sandbox::SandboxLimits;
use stratbox::signals::config::{BreakoutConfig, ReversalConfig, SignalsConfig, TrendConfig};
use stratbox::signals::{Detectors, with_detector_features};

fn bar(i: usize, close: f64, range: f64, volume: f64) -> Bar {
    Bar {
        symbol: 0,
        interval_ms: 60_000,
        open_time: i as i64 * 60_000,
        open: close,
        high: close + range,
        low: close - range,
        close,
        volume,
    }
}

/// Every signal the detectors of `config` make over `bars`, bar by bar.
fn run(config: &SignalsConfig, bars: &[Bar]) -> Vec<Signal> {
    let features = with_detector_features(&FeatureConfig::default(), config).unwrap();
    let mut market = MarketData::new(FeatureEngine::new(features).unwrap());
    market.add_symbol("BTCUSDT");
    let mut detectors = Detectors::new(config, &mut market).unwrap();
    let mut out = Vec::new();
    for b in bars {
        market.push_bar(*b);
        out.extend(detectors.on_bar(b, &market.features));
    }
    out
}

fn all() -> SignalsConfig {
    SignalsConfig {
        trend: Some(TrendConfig::default()),
        reversal: Some(ReversalConfig::default()),
        breakout: Some(BreakoutConfig::default()),
    }
}

#[test]
fn a_breakout_fires_on_the_bar_that_closes_through_the_channel_on_volume() {
    let config = SignalsConfig {
        breakout: Some(BreakoutConfig::default()),
        ..SignalsConfig::default()
    };
    // A range of 99..101 for 40 bars; bar 40 closes at 104 on three times the volume; bar 41
    // goes higher on ordinary volume; bar 60 falls through the bottom on volume.
    let mut bars: Vec<Bar> = (0..40)
        .map(|i| bar(i, 100.0 + if i % 2 == 0 { 0.5 } else { -0.5 }, 0.5, 10.0))
        .collect();
    bars.push(bar(40, 104.0, 0.5, 30.0));
    bars.push(bar(41, 106.0, 0.5, 10.0));
    for i in 42..60 {
        bars.push(bar(
            i,
            100.0 + if i % 2 == 0 { 0.5 } else { -0.5 },
            0.5,
            10.0,
        ));
    }
    bars.push(bar(60, 90.0, 0.5, 40.0));
    let signals = run(&config, &bars);
    let at: Vec<(i64, Direction)> = signals
        .iter()
        .map(|s| (s.time / 60_000 - 1, s.direction))
        .collect();
    assert_eq!(
        at,
        [(40, Direction::Long), (60, Direction::Short)],
        "{signals:?}"
    );
    let s = &signals[0];
    assert_eq!(s.kind, SignalKind::Breakout);
    assert_eq!(&*s.source, "host:breakout");
    assert_eq!(s.horizon_ms, 20 * 60_000);
    assert!(
        s.strength > 0.0 && s.strength <= 1.0 && s.confidence >= 0.5,
        "{s:?}"
    );
}

#[test]
fn a_reversal_fires_when_a_fall_overshoots_the_band_with_the_rsi_oversold() {
    let config = SignalsConfig {
        reversal: Some(ReversalConfig::default()),
        ..SignalsConfig::default()
    };
    // Calm around 100, then ten steep falling bars.
    let mut bars: Vec<Bar> = (0..60)
        .map(|i| bar(i, 100.0 + (i as f64 / 3.0).sin() * 0.3, 0.2, 10.0))
        .collect();
    for k in 0..10 {
        bars.push(bar(60 + k, 99.0 - 1.5 * k as f64, 0.2, 10.0));
    }
    let signals = run(&config, &bars);
    assert!(!signals.is_empty());
    assert!(
        signals
            .iter()
            .all(|s| s.direction == Direction::Long && s.kind == SignalKind::Reversal),
        "{signals:?}"
    );
    assert!(
        signals.iter().all(|s| s.time > 60 * 60_000),
        "only in the fall"
    );
}

/// Down 0.5 a bar for 80 bars, then up 1 a bar for 80.
fn v_shape() -> Vec<Bar> {
    (0..160)
        .map(|i| {
            let close = if i < 80 {
                200.0 - 0.5 * i as f64
            } else {
                160.0 + (i - 80) as f64
            };
            bar(i, close, 0.3, 10.0)
        })
        .collect()
}

#[test]
fn a_trend_fires_when_the_averages_cross_in_a_trending_market() {
    let config = SignalsConfig {
        trend: Some(TrendConfig::default()),
        ..SignalsConfig::default()
    };
    let bars = v_shape();
    let signals = run(&config, &bars);
    assert_eq!(signals.len(), 1, "{signals:?}");
    let s = &signals[0];
    assert_eq!((s.direction, s.kind), (Direction::Long, SignalKind::Trend));
    assert!(s.time > 80 * 60_000, "after the turn: {s:?}");
    assert_eq!(&*s.source, "host:trend");
}

#[test]
fn no_trend_signal_while_the_adx_says_the_market_ranges() {
    let config = SignalsConfig {
        trend: Some(TrendConfig {
            adx_min: 101.0,
            ..TrendConfig::default()
        }),
        ..SignalsConfig::default()
    };
    let bars = v_shape();
    assert!(run(&config, &bars).is_empty());
}

/// The signals up to any bar are the same whether or not later bars exist. (The detectors
/// stream, so this guards against one that would buffer bars ahead.)
#[test]
fn no_detector_reads_a_bar_after_the_one_it_signals_at() {
    let candles =
        stratbox::feeds::candles::read_file(&common::data_dir().join("BTC_1m_a.csv")).unwrap();
    let bars: Vec<Bar> = candles[..3000]
        .iter()
        .map(|c| c.to_bar(0, 60_000))
        .collect();
    let config = all();
    let whole = run(&config, &bars);
    assert!(
        whole.len() > 20,
        "the detectors fire on real bars: {}",
        whole.len()
    );
    for kind in [
        SignalKind::Trend,
        SignalKind::Reversal,
        SignalKind::Breakout,
    ] {
        assert!(whole.iter().any(|s| s.kind == kind), "{kind:?} never fired");
    }
    for cut in [700, 1500, 2999] {
        let part = run(&config, &bars[..cut]);
        let until = bars[cut - 1].close_time();
        let before: Vec<&Signal> = whole.iter().filter(|s| s.time <= until).collect();
        assert_eq!(part.iter().collect::<Vec<_>>(), before, "cut at {cut}");
    }
}

#[test]
fn host_signals_enter_the_engines_signal_path_with_their_source() {
    let mut engine = common::engine(SandboxLimits::default());
    let config = SignalsConfig {
        breakout: Some(BreakoutConfig::default()),
        ..SignalsConfig::default()
    };
    let detectors = Detectors::new(&config, &mut engine.market().write().unwrap()).unwrap();
    engine.set_detectors(detectors);
    for i in 0..40 {
        let b = bar(i, 100.0 + if i % 2 == 0 { 0.5 } else { -0.5 }, 0.5, 10.0);
        engine.handle(&MarketEvent::Bar(b));
    }
    engine.handle(&MarketEvent::Bar(bar(40, 104.0, 0.5, 30.0)));
    let log = engine.signals(10);
    let emitted: Vec<_> = log
        .iter()
        .filter(|r| r.stage == SignalStage::Emitted)
        .collect();
    assert_eq!(emitted.len(), 1, "{log:?}");
    assert_eq!(emitted[0].source, "host:breakout");
    assert_eq!(emitted[0].symbol, "BTCUSDT");
    assert_eq!(emitted[0].time_ms, 41 * 60_000);
}

#[test]
fn a_feature_no_detector_can_read_is_refused_naming_the_setting() {
    let config = SignalsConfig {
        trend: Some(TrendConfig {
            fast: "NOPE_10".into(),
            ..TrendConfig::default()
        }),
        ..SignalsConfig::default()
    };
    let features = FeatureConfig::default();
    let refused = with_detector_features(&features, &config)
        .and_then(FeatureEngine::new)
        .map(|_| ())
        .and_then(|_| {
            let mut market = MarketData::default();
            Detectors::new(&config, &mut market).map(|_| ())
        });
    let e = refused.unwrap_err();
    assert!(
        e.contains("signals.trend.fast") && e.contains("NOPE_10"),
        "{e}"
    );
    let bad = SignalsConfig {
        reversal: Some(ReversalConfig {
            oversold: 80.0,
            ..ReversalConfig::default()
        }),
        ..SignalsConfig::default()
    };
    let e = Detectors::new(&bad, &mut MarketData::default())
        .err()
        .unwrap();
    assert!(e.contains("oversold"), "{e}");
}
