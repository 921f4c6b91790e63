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
use stratbox::signals::config::{
    BreakoutConfig, PairConfig, ReversalConfig, SignalsConfig, SqueezeConfig, TrendConfig,
    TriangleConfig,
};
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

/// A market of `symbols` computing what the detectors of `config` read, and those detectors.
fn market_for(config: &SignalsConfig, symbols: &[&str]) -> (MarketData, Detectors) {
    let features = with_detector_features(&FeatureConfig::default(), config).unwrap();
    let mut market = MarketData::new(FeatureEngine::new(features).unwrap());
    for name in symbols {
        market.add_symbol(name);
    }
    let detectors = Detectors::new(config, &mut market).unwrap();
    (market, detectors)
}

/// An engine (BTCUSDT) running the detectors of `config`, with the confidence optimizer
/// deployed as `opt` with `optimizer` (its JSON configuration).
fn engine_for(config: &SignalsConfig, optimizer: &str) -> stratbox::engine::Engine {
    let mut engine = common::engine(SandboxLimits::default());
    engine.market().write().unwrap().features =
        FeatureEngine::new(with_detector_features(&FeatureConfig::default(), config).unwrap())
            .unwrap();
    let detectors = Detectors::new(config, &mut engine.market().write().unwrap()).unwrap();
    engine.set_detectors(detectors);
    common::deploy(&mut engine, "opt", "confidence-optimizer", optimizer);
    engine
}

/// Every signal the detectors of `config` make over `bars` of BTCUSDT, bar by bar.
fn run(config: &SignalsConfig, bars: &[Bar]) -> Vec<Signal> {
    run_on(config, &["BTCUSDT"], bars)
}

/// Every signal the detectors of `config` make over `bars` of `symbols` (ids in that order).
fn run_on(config: &SignalsConfig, symbols: &[&str], bars: &[Bar]) -> Vec<Signal> {
    let (mut market, mut detectors) = market_for(config, symbols);
    let mut out = Vec::new();
    for b in bars {
        market.push_bar(*b);
        out.extend(detectors.on_bar(b, &market));
    }
    out
}

fn all() -> SignalsConfig {
    SignalsConfig {
        trend: Some(TrendConfig::default()),
        reversal: Some(ReversalConfig::default()),
        breakout: Some(BreakoutConfig::default()),
        ..SignalsConfig::default()
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
    let config = SignalsConfig {
        squeeze: Some(SqueezeConfig::default()),
        regimes: Some(stratbox::signals::config::RegimeConfig::default()),
        ..all()
    };
    let whole = run(&config, &bars);
    assert!(
        whole.len() > 20,
        "the detectors fire on real bars: {}",
        whole.len()
    );
    for source in [
        "host:trend",
        "host:reversal",
        "host:breakout",
        "host:squeeze",
    ] {
        assert!(
            whole.iter().any(|s| &*s.source == source),
            "{source} never fired"
        );
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
    assert_eq!(&*emitted[0].source, "host:breakout");
    assert_eq!(&*emitted[0].symbol, "BTCUSDT");
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

/// Return in `s`'s direction from the close it was made at to the first close at or after
/// its horizon (of a bar that opened after it), from the bars alone; `None` if the bars end
/// first.
fn outcome_from_bars(s: &Signal, bars: &[Bar]) -> Option<f64> {
    let entry = bars.iter().find(|b| b.close_time() == s.time)?.close;
    let exit = bars
        .iter()
        .find(|b| b.open_time >= s.time && b.close_time() >= s.time + s.horizon_ms as i64)?
        .close;
    let sign = if s.direction == Direction::Short {
        -1.0
    } else {
        1.0
    };
    Some(sign * (exit / entry - 1.0))
}

/// The engine follows every signal to its horizon and scores each source from what happened:
/// its figures equal those computed here from the bars alone, and the optimizer's scores of
/// the same signals (the confidence optimizer scores sqrt(strength x confidence)) are measured
/// against the same returns.
#[test]
fn every_signal_is_scored_at_its_horizon_and_each_optimizers_scores_with_it() {
    let candles =
        stratbox::feeds::candles::read_file(&common::data_dir().join("BTC_1m_a.csv")).unwrap();
    let bars: Vec<Bar> = candles[..3000]
        .iter()
        .map(|c| c.to_bar(0, 60_000))
        .collect();
    let config = all();
    let mut engine = engine_for(&config, "{}");
    for b in &bars {
        engine.handle(&MarketEvent::Bar(*b));
    }
    let report = engine.signal_quality();

    let signals = run(&config, &bars);
    let resolved: Vec<(&Signal, f64)> = signals
        .iter()
        .filter_map(|s| outcome_from_bars(s, &bars).map(|r| (s, r)))
        .collect();
    assert_eq!(report.pending, signals.len() - resolved.len());
    assert_eq!(report.resolved as usize, resolved.len());
    assert_eq!(report.untracked, 0);
    for source in ["host:trend", "host:reversal", "host:breakout"] {
        let mine: Vec<f64> = resolved
            .iter()
            .filter(|(s, _)| &*s.source == source)
            .map(|(_, r)| *r)
            .collect();
        let q = report
            .sources
            .iter()
            .find(|q| &*q.source == source)
            .unwrap_or_else(|| panic!("{source} has no quality: {report:?}"));
        assert_eq!(&*q.symbol, "BTCUSDT");
        assert_eq!(q.signals, mine.len(), "{source}");
        assert_eq!(
            q.hits,
            mine.iter().filter(|r| **r > 0.0).count(),
            "{source}"
        );
        let mean = mine.iter().sum::<f64>() / mine.len() as f64;
        assert!(
            (q.mean_return - mean).abs() < 1e-12,
            "{source}: {q:?} vs {mean}"
        );
        // Each path ends at its return, between its worst and best excursion.
        assert!(
            q.mean_favourable >= q.mean_return && -q.mean_adverse <= q.mean_return,
            "{q:?}"
        );
        let halfway: f64 = resolved
            .iter()
            .filter(|(s, _)| &*s.source == source)
            .map(|(s, _)| {
                let half = Signal {
                    horizon_ms: s.horizon_ms / 2,
                    ..(*s).clone()
                };
                outcome_from_bars(&half, &bars).unwrap()
            })
            .sum::<f64>()
            / mine.len() as f64;
        assert!(
            (q.edge_by_horizon[1] - halfway).abs() < 1e-12,
            "{source}: the edge at half the horizon"
        );
    }
    let opt = &report.optimizers[0];
    assert_eq!(&*opt.optimizer, "opt");
    assert_eq!(opt.scored, resolved.len());
    let scores: Vec<f64> = resolved
        .iter()
        .map(|(s, _)| (s.strength * s.confidence).sqrt())
        .collect();
    let returns: Vec<f64> = resolved.iter().map(|(_, r)| *r).collect();
    let ic = stratbox_learn::metrics::pearson(&scores, &returns);
    assert!((opt.ic.unwrap() - ic).abs() < 1e-9, "{opt:?} vs {ic}");
}

/// The Engle-Granger test equals statsmodels' `coint` on real and synthetic pairs
/// (tests/fixtures/cointegration, written by the script beside it).
#[test]
fn the_engle_granger_test_matches_statsmodels() {
    let path = common::repo_root().join("tests/fixtures/cointegration/reference.json");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let closes = |file: &str| -> Vec<(i64, f64)> {
        stratbox::feeds::candles::read_file(&common::data_dir().join(file))
            .unwrap()
            .iter()
            .map(|c| (c.open_time, c.close.to_f64()))
            .collect()
    };
    for case in reference["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let series = |key: &str| -> Vec<f64> {
            case[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let (y0, y1) = if case["files"].is_array() {
            let a = closes(case["files"][0].as_str().unwrap());
            let b: std::collections::HashMap<i64, f64> = closes(case["files"][1].as_str().unwrap())
                .into_iter()
                .collect();
            let first = case["first_open_time_ms"].as_i64().unwrap();
            let bars = case["bars"].as_u64().unwrap() as usize;
            let matched: Vec<(f64, f64)> = a
                .iter()
                .filter(|(t, _)| *t >= first)
                .filter_map(|(t, p)| b.get(t).map(|q| (p.ln(), q.ln())))
                .take(bars)
                .collect();
            assert_eq!(matched.len(), bars, "{name}");
            matched.into_iter().unzip()
        } else {
            (series("y0"), series("y1"))
        };
        let got = stratbox_quant::cointegration::engle_granger(&y0, &y1).unwrap();
        let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs().max(1.0);
        let want = |key: &str| case[key].as_f64().unwrap();
        assert_eq!(
            got.lags as u64,
            case["lags"].as_u64().unwrap(),
            "{name}: lags"
        );
        assert!(
            close(got.statistic, want("statistic"), 1e-8),
            "{name}: {} vs {}",
            got.statistic,
            want("statistic")
        );
        assert!(
            close(got.p_value, want("p_value"), 1e-8),
            "{name}: p {} vs {}",
            got.p_value,
            want("p_value")
        );
        assert!(close(got.beta, want("beta"), 1e-8), "{name}: beta");
        assert!(close(got.alpha, want("alpha"), 1e-8), "{name}: alpha");
        for (g, w) in got
            .critical
            .iter()
            .zip(case["critical"].as_array().unwrap())
        {
            assert!(close(*g, w.as_f64().unwrap(), 1e-10), "{name}: critical");
        }
    }
}

/// Bars of two symbols whose log prices move together (`ln a = 1.5 ln b + 1 + u`, `u` a
/// small AR(1) noise whose bounded innovations keep it within 2.5 of its deviations) on a
/// random walk of `b`; from bar `shock` on, `a` is 8 % dearer.
fn pair_bars(n: usize, shock: usize) -> Vec<Bar> {
    let mut rng = stratbox::rng::Rng(5);
    let (mut lb, mut u) = (3.0f64, 0.0f64);
    let mut out = Vec::new();
    for i in 0..n {
        lb += (rng.uniform() - 0.5) * 0.02;
        u = 0.3 * u + (rng.uniform() - 0.5) * 0.01;
        let la = 1.5 * lb + 1.0 + u + if i >= shock { 0.08 } else { 0.0 };
        for (symbol, price) in [(0, la.exp()), (1, lb.exp())] {
            out.push(Bar {
                symbol,
                ..bar(i, price, price * 0.001, 10.0)
            });
        }
    }
    out
}

#[test]
fn a_pair_signals_when_its_cointegrated_spread_stretches() {
    let config = SignalsConfig {
        pair: vec![PairConfig {
            symbols: ["AAAUSDT".into(), "BBBUSDT".into()],
            window: 100,
            refit_bars: 10,
            max_p_value: 0.05,
            entry_z: 4.0,
            horizon_bars: 10,
        }],
        ..SignalsConfig::default()
    };
    let signals = run_on(&config, &["AAAUSDT", "BBBUSDT"], &pair_bars(300, 250));
    let at: Vec<(i64, u32, Direction)> = signals
        .iter()
        .map(|s| (s.time / 60_000 - 1, s.symbol, s.direction))
        .collect();
    // Only when the spread jumps, once: short the dear leg, long the other.
    assert_eq!(
        at,
        [(250, 0, Direction::Short), (250, 1, Direction::Long)],
        "{signals:?}"
    );
    assert_eq!(&*signals[0].source, "host:pair:AAAUSDT/BBBUSDT");
    assert_eq!(signals[0].kind, SignalKind::Arbitrage);
    assert!(signals[0].confidence > 0.9, "p-value near 0: {signals:?}");

    // The test's p-value there is near 0.006: asked for 0.001, the same stretch is no signal.
    let strict = SignalsConfig {
        pair: vec![PairConfig {
            max_p_value: 0.001,
            ..config.pair[0].clone()
        }],
        ..SignalsConfig::default()
    };
    let quiet = run_on(&strict, &["AAAUSDT", "BBBUSDT"], &pair_bars(300, 250));
    assert!(quiet.is_empty(), "{quiet:?}");
}

#[test]
fn a_triangle_signals_a_cross_rate_out_of_line_beyond_three_fees() {
    let config = SignalsConfig {
        triangle: vec![TriangleConfig {
            cross: "ETHBTC".into(),
            base: "ETHUSDT".into(),
            quote: "BTCUSDT".into(),
            taker_fee: 0.001,
            min_edge: 0.0,
            full_edge: 0.01,
            max_age_ms: 60_000,
            horizon_bars: 1,
        }],
        ..SignalsConfig::default()
    };
    const LEGS: [&str; 3] = ["ETHBTC", "ETHUSDT", "BTCUSDT"];
    // Each minute's bars of the three legs, in that order, from (minute, ETH, BTC) in USDT.
    let minutes = |prices: &[(usize, f64, f64)]| -> Vec<Bar> {
        prices
            .iter()
            .flat_map(|&(i, eth, btc)| {
                [(0, 0.05), (1, eth), (2, btc)].map(|(symbol, price)| Bar {
                    symbol,
                    ..bar(i, price, 0.0, 1.0)
                })
            })
            .collect()
    };
    // ETH at 2000 USDT, BTC at 40000: ETHBTC in line at 0.05; at bar 3 ETHUSDT is 0.2 %
    // dearer (less than three fees), at bar 5 1 % dearer (more).
    let eth = [2000.0, 2000.0, 2000.0, 2004.0, 2004.0, 2020.0, 2020.0];
    let prices: Vec<(usize, f64, f64)> = eth
        .iter()
        .enumerate()
        .map(|(i, e)| (i, *e, 40_000.0))
        .collect();
    let signals = run_on(&config, &LEGS, &minutes(&prices));
    let at: Vec<(i64, u32, Direction)> = signals
        .iter()
        .map(|s| (s.time / 60_000 - 1, s.symbol, s.direction))
        .collect();
    // Buy BTC, buy ETH with it, sell ETH for USDT: long BTCUSDT and ETHBTC, short ETHUSDT.
    assert_eq!(
        at,
        [
            (5, 0, Direction::Long),
            (5, 1, Direction::Short),
            (5, 2, Direction::Long)
        ],
        "{signals:?}"
    );
    let edge = 1.01 * 0.999f64.powi(3) - 1.0;
    assert!(
        (signals[0].strength - edge / 0.01).abs() < 1e-9,
        "{signals:?}"
    );
    assert_eq!(signals[0].confidence, 0.5, "priced from closes, not books");

    // Legs arriving one by one are judged together: at minute 8 ETH and BTC both rise 1 %
    // (the cross stays in line), ETH's bar first. Against BTC's previous close it would look
    // 1 % dear; judged once BTC's bar of the same minute is in, it is not.
    let later = run_on(
        &config,
        &LEGS,
        &minutes(&[(7, 2000.0, 40_000.0), (8, 2020.0, 40_400.0)]),
    );
    assert!(later.is_empty(), "{later:?}");
}

#[test]
fn a_squeeze_fires_when_a_quiet_market_breaks_its_band_on_volume() {
    let config = SignalsConfig {
        squeeze: Some(SqueezeConfig {
            lookback: 60,
            ..SqueezeConfig::default()
        }),
        ..SignalsConfig::default()
    };
    // Wide swings for 80 bars, then 40 quiet ones, then a close far above on volume.
    let mut bars: Vec<Bar> = (0..80)
        .map(|i| bar(i, 100.0 + 3.0 * (i as f64 / 2.0).sin(), 0.5, 10.0))
        .collect();
    for i in 80..120 {
        bars.push(bar(i, 100.0 + 0.05 * (i as f64).sin(), 0.05, 10.0));
    }
    bars.push(bar(120, 101.0, 0.1, 25.0));
    let signals = run(&config, &bars);
    let at: Vec<(i64, Direction)> = signals
        .iter()
        .map(|s| (s.time / 60_000 - 1, s.direction))
        .collect();
    assert_eq!(at, [(120, Direction::Long)], "{signals:?}");
    assert_eq!(&*signals[0].source, "host:squeeze");
    assert_eq!(signals[0].kind, SignalKind::Breakout);
    assert_eq!(signals[0].strength, 1.0, "far beyond the band");
    // The same break on ordinary volume is none.
    let mut quiet = bars.clone();
    quiet[120].volume = 10.0;
    assert!(run(&config, &quiet).is_empty());
}

/// The signal quality of a service replaying a file, once the replay has finished and the
/// quality has settled (two reads alike) where `until` holds.
fn replayed_quality(
    server: &common::service::Server,
    until: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !server.log_tail().contains("replay finished") {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            server.log_tail()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The engine may still be working through the last events: wait until it settles.
    let last = std::cell::RefCell::new(serde_json::Value::Null);
    common::api::Api::new(server).wait("/v1/signals/quality", "the quality to settle", |q| {
        let settled = *q == *last.borrow();
        *last.borrow_mut() = q.clone();
        settled && until(q)
    })
}

/// The service follows its detectors' signals to their outcomes: the API's rolling quality,
/// the metrics, and `stratbox signals report` over the stored outcomes agree.
#[test]
fn the_service_scores_its_signals_and_the_report_reads_them_back() {
    use common::api::Api;
    use common::service::{Server, TOKEN};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
             [store]\nurl = \"{db}\"\ncomponent_cache = \"components\"\n\
             [market]\nsource = \"replay\"\ndata = \"{data}\"\nsymbol = \"BTCUSDT\"\nbars_per_second = 5000\n\
             [signals.breakout]\n[signals.squeeze]\n[signals.reversal]\n",
            data = common::data_dir().join("BTC_1m_a.csv").display(),
        ),
    )
    .unwrap();
    let server = Server::start(&config);
    let api = Api::new(&server);
    let quality = replayed_quality(&server, |q| q["resolved"].as_u64() > Some(0));
    let sources = quality["sources"].as_array().unwrap();
    for source in ["host:breakout", "host:squeeze", "host:reversal"] {
        assert!(
            sources.iter().any(|q| q["source"] == source),
            "{source}: {quality}"
        );
    }
    let (_, metrics) = api.call("GET", "/metrics", TOKEN, None);
    let metrics = metrics.as_str().unwrap_or_default();
    assert!(
        metrics.contains("stratbox_signal_outcomes_total{source=\"host:breakout\",kind=\"breakout\",symbol=\"BTCUSDT\"}"),
        "{metrics}"
    );
    server.terminate();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["signals", "report", "--json", "--db", &db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stored: u64 = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["symbol"] != "*")
        .map(|q| q["signals"].as_u64().unwrap())
        .sum();
    assert_eq!(
        stored,
        quality["resolved"].as_u64().unwrap(),
        "every outcome is stored"
    );
    // Where the board's window holds every outcome, both tell the same.
    for q in sources.iter().filter(|q| q["signals"].as_u64() < Some(500)) {
        let r = report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["source"] == q["source"] && r["symbol"] == q["symbol"])
            .unwrap();
        assert_eq!(r["signals"], q["signals"]);
        assert_eq!(r["hits"], q["hits"]);
        let (a, b) = (
            r["mean_return"].as_f64().unwrap(),
            q["mean_return"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-12, "{r} vs {q}");
    }
    // A later --since leaves the earlier out; the text report names every source.
    let since = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args([
            "signals",
            "report",
            "--json",
            "--db",
            &db,
            "--since",
            "2017-11-14",
        ])
        .output()
        .unwrap();
    let since: serde_json::Value = serde_json::from_slice(&since.stdout).unwrap();
    let later: Vec<&serde_json::Value> = since["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["symbol"] != "*")
        .collect();
    let later_count: u64 = later.iter().map(|q| q["signals"].as_u64().unwrap()).sum();
    assert!(
        later_count > 0 && later_count < stored,
        "{later_count} of {stored}"
    );
    assert!(
        later
            .iter()
            .all(|q| q["first_ms"].as_i64() >= Some(1_510_617_600_000)),
        "{since}"
    );
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["signals", "report", "--db", &db])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("host:breakout") && text.contains("95% interval"),
        "{text}"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["signals", "report", "--db", &db, "--since", "yesterday"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("yesterday"));
    // A database that is not there is not created empty.
    let missing = dir.path().join("nope.sqlite");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["signals", "report", "--db"])
        .arg(format!("sqlite://{}", missing.display()))
        .output()
        .unwrap();
    assert!(!out.status.success() && !missing.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database"));
}

/// Regimes follow the market: a choppy stretch ranges, a steep steady rise trends up, wide
/// swings are high volatility and the quiet after them low; liquidity is read from the book.
#[test]
fn regimes_follow_volatility_trend_and_the_book() {
    use stratbox::feeds::{BookUpdate, BookUpdateKind};
    use stratbox::model::Fixed;
    use stratbox::signals::config::RegimeConfig;
    use stratbox::signals::regime::{TrendRegime, VolatilityRegime};
    let config = SignalsConfig {
        regimes: Some(RegimeConfig {
            vol_history: 200,
            ..RegimeConfig::default()
        }),
        ..SignalsConfig::default()
    };
    let (mut market, mut detectors) = market_for(&config, &["BTCUSDT"]);
    // 150 calm bars wobbling around 100, 60 rising 1 % a bar with little noise, 60 swinging
    // 3 % either way, then 40 quieter than anything before.
    let mut closes: Vec<f64> = (0..150)
        .map(|i| 100.0 + 0.05 * (i as f64 * 1.7).sin())
        .collect();
    for i in 0..60 {
        closes.push(100.0 * 1.01f64.powi(i + 1) * (1.0 + 0.0005 * (i as f64).sin()));
    }
    let top = *closes.last().unwrap();
    for i in 0..60 {
        closes.push(top * if i % 2 == 0 { 1.03 } else { 0.97 });
    }
    for i in 0..40 {
        closes.push(top * (1.0 + 0.00002 * (i as f64 * 1.7).sin()));
    }
    let mut seen = Vec::new();
    for (i, c) in closes.iter().enumerate() {
        let b = bar(i, *c, c * 0.001, 10.0);
        market.push_bar(b);
        detectors.on_bar(&b, &market);
        if let Some(r) = detectors.regimes().unwrap().current(0) {
            seen.push((i, r.volatility, r.trend));
        }
    }
    let at = |i: usize| *seen.iter().find(|s| s.0 == i).unwrap();
    assert_eq!(at(140).2, TrendRegime::Range, "{seen:?}");
    assert_eq!(at(205).2, TrendRegime::Up, "{seen:?}");
    assert_eq!(at(269).1, VolatilityRegime::High, "{seen:?}");
    assert_eq!(at(309).1, VolatilityRegime::Low, "{seen:?}");
    let history = detectors.regimes().unwrap().histories();
    assert_eq!(&*history[0].current.symbol, "BTCUSDT");
    let changes = &history[0].changes;
    assert!(changes.windows(2).all(|w| w[0].time_ms < w[1].time_ms));
    assert!(changes.iter().any(|c| c.trend == TrendRegime::Up));
    assert_eq!(history[0].current.spread_bps, None, "no book yet");

    // A book: 99.9 / 100.1 with 1 BTC a level every 0.1 for ten levels.
    let fx = |x: f64| Fixed::from_f64(x).unwrap();
    let levels = |from: f64, step: f64| -> Vec<(Fixed, Fixed)> {
        (0..10)
            .map(|k| (fx(from + step * k as f64), fx(1.0)))
            .collect()
    };
    market.apply_book(&BookUpdate {
        symbol: 0,
        time: 0,
        kind: BookUpdateKind::Snapshot,
        bids: levels(99.9, -0.1),
        asks: levels(100.1, 0.1),
    });
    let b = bar(closes.len(), 100.0, 0.1, 10.0);
    market.push_bar(b);
    detectors.on_bar(&b, &market);
    let r = detectors.regimes().unwrap().current(0).unwrap().clone();
    assert!((r.spread_bps.unwrap() - 20.0).abs() < 1e-9, "{r:?}");
    // Within 10 bp of 100: 99.9 and 100.1, one BTC each.
    assert!((r.depth_quote.unwrap() - 200.0).abs() < 1e-9, "{r:?}");
    // 10,000 USDT is deeper than the ten levels: no impact figure.
    assert_eq!(r.impact_bps, None);
}

/// The optimized signals of an engine running every detector (and the regimes) over `bars`
/// with the confidence optimizer configured by `config`, oldest first; and the engine.
fn optimized_with(
    bars: &[Bar],
    optimizer: &str,
) -> (
    Vec<stratbox::engine::SignalRecord>,
    stratbox::engine::Engine,
) {
    let config = SignalsConfig {
        regimes: Some(stratbox::signals::config::RegimeConfig::default()),
        ..all()
    };
    let mut engine = engine_for(&config, optimizer);
    for b in bars {
        engine.handle(&MarketEvent::Bar(*b));
    }
    let log = engine.signals(stratbox::engine::SIGNALS_KEPT);
    assert!(
        log.len() < stratbox::engine::SIGNALS_KEPT,
        "the log kept every signal"
    );
    let mut optimized: Vec<_> = log
        .into_iter()
        .filter(|r| r.stage == SignalStage::Optimized)
        .collect();
    optimized.reverse();
    (optimized, engine)
}

/// An optimizer reads the host's measurements through `conditions` (contract 0.2.3): with
/// `min_hit_rate` the confidence optimizer drops a source's signals once its measured hit rate
/// on that kind and symbol is below it, with `skip_high_volatility` every signal while the
/// symbol's volatility regime is high.
#[test]
fn an_optimizer_weighs_signals_by_their_measured_quality_and_the_regime() {
    let candles =
        stratbox::feeds::candles::read_file(&common::data_dir().join("BTC_1m_a.csv")).unwrap();
    let bars: Vec<Bar> = candles[..3000]
        .iter()
        .map(|c| c.to_bar(0, 60_000))
        .collect();
    let (all_passed, _) = optimized_with(&bars, "{}");
    let (demanding, _) = optimized_with(&bars, r#"{"min_hit_rate": 0.99, "min_outcomes": 1}"#);
    assert!(!demanding.is_empty() && demanding.len() < all_passed.len());
    // Each signal let through had, at its time, no outcome of its source and kind yet, or a
    // hit rate whose 95 % interval reaches 0.99: computed here from the bars alone.
    let signals = run(&all(), &bars);
    let exit_time = |s: &Signal| {
        bars.iter()
            .find(|b| b.open_time >= s.time && b.close_time() >= s.time + s.horizon_ms as i64)
            .map(|b| (b.close_time(), outcome_from_bars(s, &bars).unwrap() > 0.0))
    };
    let outcomes: Vec<(&Signal, i64, bool)> = signals
        .iter()
        .filter_map(|s| exit_time(s).map(|(t, hit)| (s, t, hit)))
        .collect();
    for r in &demanding {
        let known: Vec<bool> = outcomes
            .iter()
            .filter(|(s, t, _)| *s.source == *r.source && s.kind == r.kind && *t <= r.time_ms)
            .map(|(_, _, hit)| *hit)
            .collect();
        let hits = known.iter().filter(|h| **h).count();
        let (_, high) = stratbox::signals::quality::wilson(hits, known.len());
        assert!(
            known.is_empty() || high >= 0.99,
            "{r:?} passed at {hits} hits of {}",
            known.len()
        );
    }

    let (calm, engine) = optimized_with(&bars, r#"{"skip_high_volatility": true}"#);
    let history = engine.regimes();
    let changes = &history[0].changes;
    let regime_at = |t: i64| {
        changes
            .iter()
            .rev()
            .find(|c| c.time_ms <= t)
            .map(|c| c.volatility)
    };
    assert!(calm.len() < all_passed.len());
    for r in &calm {
        assert_ne!(
            regime_at(r.time_ms),
            Some(stratbox::signals::regime::VolatilityRegime::High),
            "{r:?}"
        );
    }
}

/// `stratbox backtest --signals` runs the host's detectors as the service does and reports
/// every signal's outcome: as many as the bars alone say have passed their horizon.
#[test]
fn a_backtest_runs_the_detectors_and_reports_their_signals_quality() {
    let dir = tempfile::tempdir().unwrap();
    let candles = std::fs::read_to_string(common::data_dir().join("BTC_1m_a.csv")).unwrap();
    let head: Vec<&str> = candles.lines().take(3001).collect();
    let data = dir.path().join("BTCUSDT.csv");
    std::fs::write(&data, head.join("\n") + "\n").unwrap();
    let signals = dir.path().join("serve.toml");
    std::fs::write(
        &signals,
        "[server]\nlisten = \"127.0.0.1:0\"\n[signals.trend]\n[signals.reversal]\n[signals.breakout]\n",
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .arg("backtest")
        .arg("--data")
        .arg(&data)
        .arg("--strategy")
        .arg(common::guest_path("sma-crossover"))
        .arg("--signals")
        .arg(&signals)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("host:breakout") && text.contains("95% interval"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let bars: Vec<Bar> = stratbox::feeds::candles::read_file(&data)
        .unwrap()
        .iter()
        .map(|c| c.to_bar(0, 60_000))
        .collect();
    let made = run(&all(), &bars);
    let resolved = made
        .iter()
        .filter(|s| outcome_from_bars(s, &bars).is_some())
        .count();
    assert_eq!(
        report["signals"]["signals"], resolved,
        "{}",
        report["signals"]
    );
    assert_eq!(report["signals"]["pending"], made.len() - resolved);
    let sources = report["signals"]["quality"]["sources"].as_array().unwrap();
    assert!(
        sources.iter().any(|q| q["source"] == "host:trend"),
        "{sources:?}"
    );
    // Each signal with its outcome, as the bars alone give it.
    let outcomes = report["signals"]["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), resolved);
    for o in outcomes {
        let s = made
            .iter()
            .find(|s| s.time == o["time_ms"].as_i64().unwrap() && *s.source == o["source"])
            .unwrap();
        let r = outcome_from_bars(s, &bars).unwrap();
        assert!(
            (o["realized_return"].as_f64().unwrap() - r).abs() < 1e-12,
            "{o}"
        );
    }

    // A [signals] table that cannot work is refused, naming it.
    std::fs::write(&signals, "[signals.reversal]\noversold = 90.0\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .arg("backtest")
        .arg("--data")
        .arg(&data)
        .arg("--strategy")
        .arg(common::guest_path("sma-crossover"))
        .arg("--signals")
        .arg(&signals)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[signals]") && err.contains("oversold"),
        "{err}"
    );
}

/// A stop does not lose the signals still waiting for their horizon: they are stored with
/// their progress and a restart follows them on, to the outcomes an uninterrupted run gives;
/// the rolling quality starts from the stored outcomes, and nothing is scored twice.
#[test]
fn signals_waiting_at_a_stop_are_followed_on_after_the_restart() {
    use common::service::{Server, TOKEN};
    let dir = tempfile::tempdir().unwrap();
    // The history in two parts, the second continuing the first.
    let whole = std::fs::read_to_string(common::data_dir().join("BTC_1m_a.csv")).unwrap();
    let (header, rows) = whole.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    let split = 10_000;
    let split_ms: i64 = rows[split].split(',').next().unwrap().parse().unwrap();
    let write = |name: &str, part: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{header}\n{}\n", part.join("\n"))).unwrap();
        path
    };
    let parts = [
        write("first.csv", &rows[..split]),
        write("second.csv", &rows[split..]),
    ];
    let full = write("whole.csv", &rows);
    let config = |db: &str, data: &std::path::Path| {
        let path = dir
            .path()
            .join(format!("{db}-{}.toml", data.file_stem().unwrap().display()));
        let url = format!("sqlite://{}", dir.path().join(db).display());
        std::fs::write(
            &path,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
                 [store]\nurl = \"{url}\"\ncomponent_cache = \"components\"\n\
                 [market]\nsource = \"replay\"\ndata = \"{data}\"\nsymbol = \"BTCUSDT\"\nbars_per_second = 5000\n\
                 [signals.breakout]\nhorizon_bars = 240\n[signals.reversal]\nhorizon_bars = 240\n",
                data = data.display(),
            ),
        )
        .unwrap();
        (path, url)
    };
    // Runs the service over `data` to its end; the quality it settles at.
    let run = |config: &std::path::Path| {
        let server = Server::start(config);
        let quality = replayed_quality(&server, |_| true);
        server.terminate();
        quality
    };
    let query = |url: &str, sql: &'static str| -> Vec<OutcomeRow> {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        })
    };
    const OUTCOMES: &str = "SELECT source, kind, time_ms, direction, entry_price, exit_price, \
         exit_time_ms, realized_return, max_adverse, max_favourable, return_q1, return_q2, \
         return_q3 FROM signal_outcomes ORDER BY time_ms, source, id";
    let count = |url: &str, sql: &'static str| -> i64 {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
        })
    };

    let (first, url) = config("split.sqlite", &parts[0]);
    let before = run(&first);
    let waiting = before["pending"].as_u64().unwrap();
    assert!(waiting > 0, "signals wait at the stop: {before}");
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM signal_pending") as u64,
        waiting,
        "every waiting signal is stored"
    );
    let resolved_before = count(&url, "SELECT COUNT(*) FROM signal_outcomes");
    let (second, _) = config("split.sqlite", &parts[1]);
    let after = run(&second);
    let resolved_after = count(&url, "SELECT COUNT(*) FROM signal_outcomes");
    assert_eq!(
        after["resolved"].as_i64().unwrap(),
        resolved_after - resolved_before,
        "the restarted service counts only its own outcomes: {after}"
    );
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM signal_pending") as u64,
        after["pending"].as_u64().unwrap(),
        "the rows of resolved signals are gone"
    );
    // The board went on from the stored outcomes: each window holds its source's latest 500
    // stored, those of the run before the stop among them.
    const BY_ID: &str = "SELECT source, kind, time_ms, direction, entry_price, exit_price, \
         exit_time_ms, realized_return, max_adverse, max_favourable, return_q1, return_q2, \
         return_q3 FROM signal_outcomes ORDER BY id";
    let stored = query(&url, BY_ID);
    let sources = after["sources"].as_array().unwrap();
    assert!(!sources.is_empty(), "{after}");
    for q in sources {
        let of_source: Vec<&OutcomeRow> = stored.iter().filter(|r| r.0 == q["source"]).collect();
        let window = &of_source[of_source.len().saturating_sub(500)..];
        let hits = window.iter().filter(|r| r.7 > 0.0).count();
        assert_eq!(q["signals"].as_u64(), Some(window.len() as u64), "{q}");
        assert_eq!(q["hits"].as_u64(), Some(hits as u64), "{q}");
        assert_eq!(q["first_ms"].as_i64(), Some(window[0].2), "{q}");
        assert!(
            window[0].2 < split_ms,
            "the window reaches before the stop: {q}"
        );
    }

    // The signals made before the stop end as an uninterrupted run's, none twice.
    let (straight, straight_url) = config("straight.sqlite", &full);
    run(&straight);
    // Each outcome's columns as text (a float's shortest exact form).
    let made_before = |url: &str| -> Vec<String> {
        query(url, OUTCOMES)
            .into_iter()
            .filter(|r| r.2 < split_ms)
            .map(|r| {
                format!(
                    "{:?} {:?}",
                    (r.0, r.1, r.2, r.3, r.4, r.5, r.6),
                    (r.7, r.8, r.9, r.10, r.11, r.12)
                )
            })
            .collect()
    };
    let (split_rows, straight_rows) = (made_before(&url), made_before(&straight_url));
    let exits_after_the_restart = query(&url, OUTCOMES)
        .iter()
        .filter(|r| r.2 < split_ms && r.6 >= split_ms)
        .count();
    assert!(
        exits_after_the_restart > 0,
        "some outcomes were read after the restart"
    );
    assert_eq!(split_rows, straight_rows);
}

/// A live service stopped while signals wait for their horizon, and restarted after the
/// exchange has moved on: the bars it missed are fetched back, and each signal waiting at the
/// stop ends with the outcome its bars on the exchange give (none dropped at the gap): those
/// whose horizon passed while it was down from the fetched bars alone, the others (a ten-second
/// horizon) on through the live feed, which goes on after the fetched bars. Once after a clean
/// stop (the waiting signals stored with their progress), once after a crash (stored as they
/// were made).
#[test]
fn signals_waiting_at_a_stop_follow_the_bars_missed_while_the_service_was_down() {
    use common::api::Api;
    use common::service::{Server, TOKEN, start_exchange_sim_with};
    use stratbox::signals::outcome::{OutcomeTracker, PendingRecord};
    let dir = tempfile::tempdir().unwrap();
    // Bars come at 100 a second, enough of them for the whole test.
    let (_sim, addr) = start_exchange_sim_with("BTCUSDT", &["--candles", "30000"]);
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
             [store]\nurl = \"{url}\"\ncomponent_cache = \"components\"\n\
             [market]\nsource = \"binance\"\nrest = \"http://{addr}\"\nws = \"ws://{addr}\"\n\
             symbols = [\"BTCUSDT\"]\ninterval = \"1m\"\n\
             [signals.breakout]\nhorizon_bars = 200\n[signals.reversal]\nhorizon_bars = 1000\n\
             [signals.squeeze]\nhorizon_bars = 200\n",
        ),
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let waiting_rows = || -> Vec<PendingRecord> {
        let states: Vec<String> = runtime.block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query_scalar("SELECT state FROM signal_pending ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap()
        });
        states
            .iter()
            .map(|state| serde_json::from_str(state).unwrap())
            .collect()
    };
    let stored = || -> Vec<OutcomeRow> {
        runtime.block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query_as(
                "SELECT source, kind, time_ms, direction, entry_price, exit_price, exit_time_ms, \
                 realized_return, max_adverse, max_favourable, return_q1, return_q2, return_q3 \
                 FROM signal_outcomes",
            )
            .fetch_all(&pool)
            .await
            .unwrap()
        })
    };
    let outcome_of = |stored: &[OutcomeRow], record: &PendingRecord| -> Option<OutcomeRow> {
        let direction = serde_json::to_value(record.direction).unwrap();
        let kind = serde_json::to_value(record.kind).unwrap();
        stored
            .iter()
            .find(|r| {
                *r.0 == *record.source
                    && r.1 == kind.as_str().unwrap()
                    && r.2 == record.time_ms
                    && r.3 == direction.as_str().unwrap()
            })
            .cloned()
    };
    // A restarted service: once every signal of `waiting` has its outcome stored.
    let restart_until_resolved = |waiting: &[PendingRecord]| -> Server {
        let server = Server::start(&config);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        while !waiting.iter().all(|r| outcome_of(&stored(), r).is_some()) {
            assert!(
                std::time::Instant::now() < deadline,
                "the waiting signals' outcomes were not stored: {}",
                server.log_tail()
            );
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        let quality = Api::new(&server).wait("/v1/signals/quality", "the quality", |_| true);
        assert_eq!(
            quality["untracked"], 0,
            "none dropped at the gap: {quality}"
        );
        assert!(
            server
                .log()
                .contains("bars missed while down fetched for the waiting signals"),
            "{}",
            server.log_tail()
        );
        server
    };
    // Until signals of both horizons wait (the rows are written as they are made).
    let long = |r: &PendingRecord| r.horizon_ms == 1_000 * 60_000;
    let signals_wait = || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let rows = waiting_rows();
            if rows.iter().any(long) && rows.iter().any(|r| !long(r)) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "no signals: {rows:?}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };

    // A clean stop, then down for three seconds (some 300 bars, more than the short horizon).
    let server = Server::start(&config);
    signals_wait();
    server.terminate();
    let stopped = waiting_rows();
    assert!(!stopped.is_empty(), "signals waited at the stop");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let server = restart_until_resolved(&stopped);
    // A crash: what was made since is stored as it was made.
    signals_wait();
    server.kill();
    let crashed = waiting_rows();
    assert!(
        crashed
            .iter()
            .any(|r| r.seen_to_ms == r.time_ms && r.entry.is_some()),
        "stored as made: {crashed:?}"
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    restart_until_resolved(&crashed).terminate();
    let all: Vec<&PendingRecord> = stopped.iter().chain(&crashed).collect();
    assert!(
        all.iter().any(|r| long(r)) && all.iter().any(|r| !long(r)),
        "signals of both horizons waited: {all:?}"
    );

    // Each outcome is what the exchange's bars give a signal made when it was.
    let candles =
        runtime
            .block_on(
                stratbox::feeds::binance::RestClient::new(&format!("http://{addr}"))
                    .klines_between("BTCUSDT", "1m", 60_000, 0, i64::MAX / 4),
            )
            .unwrap();
    let bars: Vec<Bar> = candles.iter().map(|c| c.to_bar(0, 60_000)).collect();
    let stored = stored();
    for record in all {
        let signal = Signal {
            symbol: 0,
            time: record.time_ms,
            direction: record.direction,
            strength: record.strength,
            confidence: record.confidence,
            kind: record.kind,
            horizon_ms: record.horizon_ms,
            source: record.source.clone(),
        };
        let close = bars
            .iter()
            .find(|b| b.close_time() == record.time_ms)
            .map(|b| (b.close_time(), b.close));
        let mut tracker = OutcomeTracker::default();
        tracker.track(&signal, "BTCUSDT".into(), close, Vec::new());
        let expected = bars
            .iter()
            .filter(|b| b.open_time >= record.time_ms)
            .find_map(|b| tracker.on_bar(b).pop())
            .map(|(_, outcome)| outcome)
            .expect("the exchange's bars reach its horizon");
        let row = outcome_of(&stored, record)
            .unwrap_or_else(|| panic!("no outcome stored for {record:?}"));
        assert_eq!(
            (row.4, row.5, row.6, row.7, row.8, row.9),
            (
                expected.entry_price,
                expected.exit_price,
                expected.exit_time_ms,
                expected.realized_return,
                expected.max_adverse,
                expected.max_favourable
            ),
            "{record:?}"
        );
        assert_eq!(
            [row.10, row.11, row.12],
            [expected.path[0], expected.path[1], expected.path[2]],
            "{record:?}"
        );
    }
}

/// A stored outcome as the restart tests read it: source, kind, time, direction, entry and
/// exit prices, exit time, realised return, adverse and favourable excursions, and the returns
/// at the first three quarters of the horizon.
type OutcomeRow = (
    String,
    String,
    i64,
    String,
    f64,
    f64,
    i64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
);

/// Waiting signals and outcomes as the journal stores them and a restart reads them back.
async fn signal_store_round_trip(store: &stratbox::store::Store, url: &str) {
    use stratbox::journal::JournalEntry;
    use stratbox::signals::outcome::{Outcome, PendingRecord};
    let pending = |id: u64, reached: usize| PendingRecord {
        id,
        source: "host:breakout".into(),
        kind: SignalKind::Breakout,
        symbol: "BTCUSDT".into(),
        time_ms: 60_000 * id as i64,
        direction: Direction::Short,
        strength: 0.7,
        confidence: 0.4,
        horizon_ms: 600_000,
        entry: (reached > 0).then_some(101.25),
        favourable: 0.01 * reached as f64,
        adverse: -0.003,
        path: [0.001, 0.0, 0.0, 0.0],
        reached,
        seen_to_ms: 60_000 * (id + reached as u64) as i64,
        scores: vec![("opt".into(), 0.25)],
    };
    let outcome = |source: &str, time_ms: i64, scored: bool| Outcome {
        source: source.into(),
        kind: SignalKind::Trend,
        symbol: "ETHUSDT".into(),
        time_ms,
        direction: Direction::Long,
        strength: 0.5,
        confidence: 0.5,
        horizon_ms: 60_000,
        entry_price: 10.0,
        exit_price: 10.5,
        exit_time_ms: time_ms + 60_000,
        realized_return: 0.05,
        hit: true,
        max_adverse: 0.01,
        max_favourable: 0.06,
        path: [0.01, 0.02, 0.03, 0.05],
        scores: if scored {
            vec![("opt".into(), 0.9)]
        } else {
            Vec::new()
        },
    };
    let mut entries: Vec<JournalEntry> = (1..=3)
        .map(|id| JournalEntry::SignalPending(Box::new(pending(id, 0))))
        .collect();
    // Progress at a stop replaces the row as made; an outcome and a drop remove theirs.
    entries.push(JournalEntry::SignalPending(Box::new(pending(2, 3))));
    entries.push(JournalEntry::SignalOutcome {
        pending_id: 1,
        outcome: Box::new(outcome("host:trend", 1, false)),
    });
    entries.push(JournalEntry::SignalDropped(3));
    // 501 more of one source, 3 of another with scores.
    entries.extend((2..=502).map(|t| JournalEntry::SignalOutcome {
        pending_id: 1_000 + t as u64,
        outcome: Box::new(outcome("host:trend", t, false)),
    }));
    entries.extend((0..3).map(|t| JournalEntry::SignalOutcome {
        pending_id: 5_000 + t as u64,
        outcome: Box::new(outcome("opt-source", 10_000 + t, true)),
    }));
    store.apply(&entries).await.unwrap();
    let stored = store.pending_signals().await.unwrap();
    assert!(stored.problems.is_empty(), "{:?}", stored.problems);
    assert_eq!(stored.records, vec![pending(2, 3)]);
    assert_eq!(stored.largest_id, 2);
    let recent = store.recent_signal_outcomes().await.unwrap();
    assert_eq!(
        recent.len(),
        503,
        "the latest 500 of a source, and the scored"
    );
    assert_eq!(recent[0], outcome("host:trend", 3, false), "oldest first");
    assert_eq!(recent[502], outcome("opt-source", 10_002, true));
    // A row that cannot be read is named and left where it is.
    store
        .apply(&[JournalEntry::SignalPending(Box::new(pending(9, 1)))])
        .await
        .unwrap();
    corrupt_pending_row(url, 9).await;
    let stored = store.pending_signals().await.unwrap();
    assert_eq!(stored.records, vec![pending(2, 3)]);
    assert_eq!(stored.problems.len(), 1);
    assert!(
        stored.problems[0].contains("signal_pending row 9"),
        "{:?}",
        stored.problems
    );
    assert_eq!(stored.largest_id, 9, "new ids go past the damaged row's");
    let again = store.pending_signals().await.unwrap();
    assert_eq!(again.problems, stored.problems, "the damaged row is kept");
}

/// Overwrites waiting signal `id`'s stored state with text that is not one.
async fn corrupt_pending_row(url: &str, id: i64) {
    const SQL: &str = "UPDATE signal_pending SET state = 'not json' WHERE id = $1";
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(SQL).bind(id).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(SQL).bind(id).execute(&pool).await.unwrap();
    }
}

#[tokio::test]
async fn waiting_signals_and_recent_outcomes_round_trip_through_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let store = stratbox::store::Store::open(&url).await.unwrap();
    signal_store_round_trip(&store, &url).await;
}

#[tokio::test]
async fn waiting_signals_and_recent_outcomes_round_trip_through_postgresql() {
    let schema = common::PgSchema::create("stratbox_sig").await;
    let store = stratbox::store::Store::open(&schema.url).await.unwrap();
    signal_store_round_trip(&store, &schema.url).await;
    drop(store);
    schema.drop_all().await;
}
