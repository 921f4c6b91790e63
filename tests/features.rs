//! The feature engine over real Binance data: every feature's value at time t is the same whether
//! or not data after t exists, features are readable by name, and model windows come out as
//! tensors.

mod common;

use common::run_stratbox;

use std::path::{Path, PathBuf};
use std::process::Command;
use stratbox::features::{FeatureConfig, FeatureEngine};
use stratbox::feeds::candles;
use stratbox::feeds::sources::{Headline, Observation, Post, SourceEvent};
use stratbox::feeds::{BookUpdate, BookUpdateKind, TradePrint};
use stratbox::market::MarketData;
use stratbox::model::{Bar, Fixed, Side};
use stratbox_ta::{Series, Spec, registry};

/// Everything the engine can see, in the order it sees it.
#[derive(Clone, Debug)]
enum Event {
    Bar(Bar),
    Trade(TradePrint),
    Book(BookUpdate),
    Source(SourceEvent),
}

impl Event {
    fn time(&self) -> i64 {
        match self {
            Event::Bar(b) => b.close_time(),
            Event::Trade(t) => t.time,
            Event::Book(b) => b.time,
            Event::Source(SourceEvent::Observation(o)) => o.known_at,
            Event::Source(SourceEvent::Headline(h)) => h.known_at,
            Event::Source(SourceEvent::Post(p)) => p.known_at,
            Event::Source(SourceEvent::Polled(p)) => p.known_at,
        }
    }
}

fn config() -> FeatureConfig {
    FeatureConfig {
        extra: vec!["RSI_7".into(), "BBANDS_50_2_2_0".into()],
        references: vec!["ETHBTC".into()],
        macro_series: vec!["fred.DGS10".into()],
        social: stratbox::features::social::SocialConfig {
            sources: vec!["reddit".into()],
            ..Default::default()
        },
        cross_window: 30,
        micro: stratbox::features::microstructure::MicroConfig {
            vpin_bucket_volume: 5_000.0,
            vpin_buckets: 10,
            kyle_bars: 10,
            impact_notional: 2.0,
        },
        ..FeatureConfig::default()
    }
}

/// Three 5m BTC pairs interleaved by time, XRP/ETH trades with a book rebuilt around each trade,
/// and sentiment, macro values and social posts becoming known along the way.
fn events(market: &mut MarketData) -> Vec<Event> {
    let mut events = Vec::new();
    for (name, file) in [
        ("ETHBTC", "ETH_BTC_5m.csv"),
        ("ADABTC", "ADA_BTC_5m.csv"),
        ("XLMBTC", "XLM_BTC_5m.csv"),
    ] {
        let symbol = market.add_symbol(name);
        let rows = candles::read_file(&common::data_dir().join(file)).unwrap();
        events.extend(
            rows.iter()
                .take(600)
                .map(|c| Event::Bar(c.to_bar(symbol, 300_000))),
        );
    }
    let xrp = market.add_symbol("XRPETH");
    let rows = candles::read_file(&common::data_dir().join("XRP_ETH_1m.csv")).unwrap();
    events.extend(
        rows.iter()
            .take(300)
            .map(|c| Event::Bar(c.to_bar(xrp, 60_000))),
    );
    let trades = std::fs::read_to_string(common::data_dir().join("XRP_ETH_trades.csv")).unwrap();
    for line in trades.lines().skip(1).take(6_000) {
        let f: Vec<&str> = line.split(',').collect();
        let (time, id, side, price, qty): (i64, u64, &str, f64, f64) = (
            f[0].parse().unwrap(),
            f[1].parse().unwrap(),
            f[3],
            f[4].parse().unwrap(),
            f[5].parse().unwrap(),
        );
        let aggressor = if side == "buy" { Side::Buy } else { Side::Sell };
        events.push(Event::Trade(TradePrint {
            symbol: xrp,
            time,
            trade_id: id,
            price,
            quantity: qty,
            aggressor,
        }));
        let tick = 1e-8;
        let levels = |sign: f64| {
            (1..=10)
                .map(|i| {
                    (
                        Fixed::from_f64(price + sign * tick * f64::from(i)).unwrap(),
                        Fixed::from_f64(50.0 * f64::from(i) + (id % 7) as f64).unwrap(),
                    )
                })
                .collect()
        };
        events.push(Event::Book(BookUpdate {
            symbol: xrp,
            time,
            kind: BookUpdateKind::Snapshot,
            bids: levels(-1.0),
            asks: levels(1.0),
        }));
    }
    let start = 1_515_560_100_000i64;
    for k in 0..20i64 {
        let known_at = start + k * 7_200_000 + 1_234;
        events.push(Event::Source(SourceEvent::Observation(Observation {
            source: "fear_greed".into(),
            series: "value".into(),
            observed_at: known_at - 1_234,
            known_at,
            value: (30 + 3 * k) as f64,
            label: None,
        })));
        events.push(Event::Source(SourceEvent::Observation(Observation {
            source: "fred".into(),
            series: "DGS10".into(),
            observed_at: known_at - 86_400_000,
            known_at,
            value: 2.0 + 0.01 * k as f64,
            label: None,
        })));
        let title = if k % 3 == 0 {
            "Bitcoin rallies to record"
        } else {
            "Exchange hacked, prices plunge"
        };
        events.push(Event::Source(SourceEvent::Headline(Headline {
            source: "news".into(),
            id: k.to_string(),
            title: title.into(),
            published_at: None,
            known_at,
        })));
    }
    // Posts every ten minutes naming the symbols' base assets by ticker, cashtag and name.
    let texts = [
        "ETH breaking out 🚀",
        "$ADA looks like a rug",
        "stellar XLM to the moon",
        "cardano fud again",
        "XRP dumping, rekt",
        "ETH and ADA both green",
    ];
    for k in 0..240i64 {
        events.push(Event::Source(SourceEvent::Post(Post {
            source: "reddit".into(),
            id: format!("t3_{k}"),
            author: format!("user{}", k % 7),
            text: texts[k as usize % texts.len()].into(),
            engagement: (k % 13) as f64,
            created_at: Some(start + k * 600_000 - 5_000),
            known_at: start + k * 600_000 + 777,
        })));
    }
    events.sort_by_key(Event::time); // stable: bars of the same time keep their file order
    events
}

fn apply(market: &mut MarketData, event: &Event) {
    match event {
        Event::Bar(b) => market.push_bar(*b),
        Event::Trade(t) => market.push_trade(t),
        Event::Book(b) => market.apply_book(b),
        Event::Source(s) => market.record(s.clone()),
    }
}

/// A market whose feature engine runs every indicator on every bar (`eager`) or only those read.
fn market(eager: bool) -> MarketData {
    let config = FeatureConfig { eager, ..config() };
    MarketData::new(FeatureEngine::new(config).unwrap())
}

/// Snapshot of every feature (and some transforms) of the symbol whose bar just closed.
fn snapshot(market: &mut MarketData, bar: &Bar) -> Vec<u64> {
    let mut row: Vec<u64> = market
        .features
        .row(bar.symbol)
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    for name in [
        "zscore_20:RSI_14",
        "minmax_50:close",
        "winsor_30_5:ret_1",
        "missing:micro.vpin",
        "ffill:micro.spread",
    ] {
        row.push(
            market
                .feature(bar.symbol, name)
                .unwrap()
                .unwrap_or(f64::NAN)
                .to_bits(),
        );
    }
    row
}

#[test]
fn no_feature_looks_ahead() {
    let mut full = market(true);
    let all = events(&mut full);
    let mut rows = Vec::new();
    for (i, e) in all.iter().enumerate() {
        apply(&mut full, e);
        if let Event::Bar(b) = e {
            rows.push((i, *b, snapshot(&mut full, b)));
        }
    }
    // Cut the data at several points: the engine that never saw what follows must have computed
    // exactly the same values up to the cut.
    let cuts: Vec<usize> = (1..=6).map(|k| rows[rows.len() * k / 7].0).collect();
    for cut in cuts {
        let mut partial = market(true);
        events(&mut partial);
        let mut compared = 0;
        let mut expected = rows.iter().filter(|(i, _, _)| *i <= cut).peekable();
        for (i, e) in all.iter().enumerate().take(cut + 1) {
            apply(&mut partial, e);
            if let Event::Bar(b) = e {
                let (j, _, row) = expected.next().unwrap();
                assert_eq!(*j, i);
                let ours = snapshot(&mut partial, b);
                for (k, (a, b)) in ours.iter().zip(row).enumerate() {
                    let name = full
                        .features
                        .catalog()
                        .defs()
                        .get(k)
                        .map_or("transform", |d| d.name.as_str());
                    assert_eq!(
                        a, b,
                        "{name} differs at event {i} when data after event {cut} is absent"
                    );
                }
                compared += 1;
            }
        }
        assert!(compared > 100);
    }
    // Every feature family produced values somewhere.
    let catalog = full.features.catalog();
    let mut never = Vec::new();
    for (k, def) in catalog.defs().iter().enumerate() {
        if !rows
            .iter()
            .any(|(_, _, row)| !f64::from_bits(row[k]).is_nan())
        {
            never.push(def.name.clone());
        }
    }
    assert!(
        never.is_empty(),
        "features that never had a value: {never:?}"
    );
}

#[test]
fn features_first_read_late_match_those_computed_on_every_bar() {
    let mut eager = market(true);
    let mut lazy = market(false);
    let all = events(&mut eager);
    events(&mut lazy);
    let names: Vec<String> = eager
        .features
        .catalog()
        .defs()
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let bars = all.iter().filter(|e| matches!(e, Event::Bar(_))).count();
    let (mut seen, mut compared, mut started) = (0, 0, false);
    for e in &all {
        apply(&mut eager, e);
        apply(&mut lazy, e);
        let Event::Bar(b) = e else { continue };
        seen += 1;
        if seen == bars / 3 {
            // Well inside the kept bars of every symbol: everything starts now, for every symbol.
            for symbol in
                ["ETHBTC", "ADABTC", "XLMBTC", "XRPETH"].map(|n| lazy.symbols().id(n).unwrap())
            {
                for name in &names {
                    lazy.feature(symbol, name).unwrap();
                }
            }
            started = true;
        }
        if started {
            let (ours, theirs) = (snapshot(&mut lazy, b), snapshot(&mut eager, b));
            for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                let name = names.get(k).map_or("transform", String::as_str);
                assert_eq!(a, b, "{name} differs at bar {seen}");
            }
            compared += 1;
        } else if seen > 20 {
            let row = lazy.features.row(b.symbol).unwrap();
            let column = lazy.features.input("RSI_14").unwrap().column();
            assert!(row[column].is_nan(), "nothing read RSI_14 yet");
        }
    }
    assert!(compared > 100, "{compared} bars compared");
}

#[test]
fn batch_indicators_do_not_look_ahead_either() {
    let rows = candles::read_file(&common::data_dir().join("ETH_BTC_5m.csv")).unwrap();
    let series = |n: usize| {
        let mut s = stratbox_ta::Series::default();
        for c in rows.iter().take(n) {
            s.push(stratbox_ta::Bar {
                open: c.open.to_f64(),
                high: c.high.to_f64(),
                low: c.low.to_f64(),
                close: c.close.to_f64(),
                volume: c.volume.to_f64(),
            });
        }
        s
    };
    let (long, short) = (series(2_000), series(1_234));
    for f in stratbox_ta::registry::all() {
        let mut a = vec![Vec::new(); f.outputs.len()];
        let mut b = vec![Vec::new(); f.outputs.len()];
        f.build(&f.defaults()).unwrap().batch(&long, &mut a);
        f.build(&f.defaults()).unwrap().batch(&short, &mut b);
        for (x, y) in a.iter().zip(&b) {
            for i in 0..short.len() {
                assert_eq!(
                    x[i].to_bits(),
                    y[i].to_bits(),
                    "{} at bar {i} depends on later bars",
                    f.name
                );
            }
        }
    }
}

#[test]
fn features_are_read_by_name_and_windows_become_tensors() {
    let mut m = market(false);
    let events = events(&mut m);
    for e in &events {
        apply(&mut m, e);
    }
    let ada = m.symbols().id("ADABTC").unwrap();
    let xrp = m.symbols().id("XRPETH").unwrap();
    assert!(
        m.features.catalog().len() >= 100,
        "{} features",
        m.features.catalog().len()
    );
    let rsi = m.feature(ada, "RSI_14").unwrap().unwrap();
    assert!((0.0..=100.0).contains(&rsi));
    assert!(m.feature(ada, "cross.ETHBTC.corr").unwrap().unwrap().abs() <= 1.0);
    assert!(m.feature(ada, "sentiment.fear_greed").unwrap().is_some());
    assert!(m.feature(ada, "macro.fred.DGS10").unwrap().is_some());
    assert!(m.feature(xrp, "micro.spread").unwrap().unwrap() > 0.0);
    assert!(m.feature(xrp, "micro.vpin").unwrap().is_some());
    assert_eq!(
        m.feature(ada, "micro.vpin").unwrap(),
        None,
        "no trades for ADABTC: missing"
    );
    assert_eq!(m.feature(ada, "missing:micro.vpin").unwrap(), Some(1.0));
    let err = m.feature(ada, "RSI_9").unwrap_err();
    assert!(err.contains("[features].extra"), "{err}");
    let names: Vec<String> = ["close", "RSI_14", "MACD_12_26_9.macdhist", "micro.vpin"]
        .map(String::from)
        .to_vec();
    let columns = m.features.columns(&names).unwrap();
    m.require_everywhere(&columns); // as a model's load does
    let (symbols, tensor) = m.features.batch(&[ada, xrp, 99], &columns, 64);
    assert_eq!(symbols, vec![ada, xrp]);
    assert_eq!(tensor.shape(), &[2, 64, 4]);
    let windows = m.features.windows(&[ada], &columns, 64);
    let (values, missing) = windows[0].as_ref().unwrap();
    assert_eq!(values[[63, 1]], rsi as f32);
    assert!(missing.column(3).iter().all(|&m| m), "ADABTC has no VPIN");
    assert!(
        m.features
            .columns(&["nope".to_string()])
            .unwrap_err()
            .contains("unknown feature")
    );
}

// `stratbox indicators` over several real candle files in parallel: every column equals the
// functions' batch over the whole file (the command reads, computes and writes a chunk at a
// time, several files and functions at once), one thread writes what two do, and a bad file
// costs only its own output.

/// A fresh directory for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("stratbox-indicators-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The CSV the whole file's batch gives: open time, then every column of `specs`, values as
/// Rust prints them, empty where not finite.
fn whole_batch_csv(input: &Path, specs: &[Spec]) -> String {
    let rows = candles::read_file(input).unwrap();
    let mut series = Series::default();
    for c in &rows {
        series.push(stratbox_ta::Bar {
            open: c.open.to_f64(),
            high: c.high.to_f64(),
            low: c.low.to_f64(),
            close: c.close.to_f64(),
            volume: c.volume.to_f64(),
        });
    }
    let mut header = vec!["open_time_ms".to_string()];
    let mut columns = Vec::new();
    for spec in specs {
        let mut out = vec![Vec::new(); spec.function.outputs.len()];
        spec.build().batch(&series, &mut out);
        columns.extend(out);
        header.extend(spec.column_names());
    }
    let mut text = header.join(",") + "\n";
    for (i, c) in rows.iter().enumerate() {
        text.push_str(&c.open_time.to_string());
        for column in &columns {
            text.push(',');
            if column[i].is_finite() {
                text.push_str(&column[i].to_string());
            }
        }
        text.push('\n');
    }
    text
}

#[test]
fn files_in_parallel_equal_each_files_whole_batch() {
    let data = common::data_dir();
    // 13,681 1m bars (four chunks) and two 5m files.
    let names = ["BTC_1m_a", "ETH_BTC_5m", "ADA_BTC_5m"];
    let inputs: Vec<PathBuf> = names
        .iter()
        .map(|n| data.join(format!("{n}.csv")))
        .collect();
    let list = inputs
        .iter()
        .map(|p| p.to_str().unwrap())
        .collect::<Vec<_>>()
        .join(",");
    let dir = scratch_dir("parallel");
    let out = dir.join("out");
    let (ok, text) = run_stratbox(&[
        "indicators",
        "--input",
        &list,
        "--output",
        out.to_str().unwrap(),
        "--jobs",
        "2",
        "--quiet",
    ]);
    assert!(ok, "{text}");
    let specs: Vec<Spec> = registry::all()
        .iter()
        .map(|f| Spec::with_defaults(f))
        .collect();
    for (name, input) in names.iter().zip(&inputs) {
        let got = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
        let want = whole_batch_csv(input, &specs);
        assert_eq!(got.lines().count(), want.lines().count(), "{name}");
        for (k, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(g, w, "{name}, line {}", k + 1);
        }
    }
    // One thread, one file, some functions: the same columns.
    let single = dir.join("single.csv");
    let (ok, text) = run_stratbox(&[
        "indicators",
        "--input",
        inputs[0].to_str().unwrap(),
        "--output",
        single.to_str().unwrap(),
        "--only",
        "SMA_20,MACD_12_26_9,CDLENGULFING",
        "--jobs",
        "1",
    ]);
    assert!(ok, "{text}");
    let only: Vec<Spec> = ["SMA_20", "MACD_12_26_9", "CDLENGULFING"]
        .iter()
        .map(|s| Spec::parse(s).unwrap())
        .collect();
    assert_eq!(
        std::fs::read_to_string(&single).unwrap(),
        whole_batch_csv(&inputs[0], &only)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_file_costs_only_its_own_output() {
    let dir = scratch_dir("bad");
    let good = common::data_dir().join("ETH_BTC_5m.csv");
    let bad = dir.join("broken.csv");
    std::fs::write(
        &bad,
        "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n300000,1,2,x,1.2,3\n",
    )
    .unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // An output of the bad file's name from an earlier run stays as it was.
    std::fs::write(out.join("broken.csv"), "earlier\n").unwrap();
    let list = format!("{},{}", good.display(), bad.display());
    let (ok, text) = run_stratbox(&[
        "indicators",
        "--input",
        &list,
        "--output",
        out.to_str().unwrap(),
        "--only",
        "SMA_5",
        "--quiet",
    ]);
    assert!(!ok);
    assert!(
        text.contains("broken.csv, line 3") && text.contains("low \"x\""),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("broken.csv")).unwrap(),
        "earlier\n"
    );
    assert!(!out.join("broken.csv.partial").exists());
    let written = std::fs::read_to_string(out.join("ETH_BTC_5m.csv")).unwrap();
    assert_eq!(
        written,
        whole_batch_csv(&good, &[Spec::parse("SMA_5").unwrap()])
    );
    // Two inputs of one name would write one file: refused before anything runs.
    let twice = format!(
        "{},{}",
        good.display(),
        dir.join("ETH_BTC_5m.csv").display()
    );
    let (ok, text) = run_stratbox(&[
        "indicators",
        "--input",
        &twice,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(
        !ok && text.contains("two inputs would both be written to ETH_BTC_5m.csv"),
        "{text}"
    );
    // Names with dots keep them: two years of one pair are two outputs.
    let years = dir.join("years");
    std::fs::create_dir_all(&years).unwrap();
    for year in ["2023", "2024"] {
        std::fs::copy(&good, years.join(format!("ETHBTC.{year}.csv"))).unwrap();
    }
    let dotted = format!(
        "{},{}",
        years.join("ETHBTC.2023.csv").display(),
        years.join("ETHBTC.2024.csv").display()
    );
    let by_year = dir.join("by_year");
    let (ok, text) = run_stratbox(&[
        "indicators",
        "--input",
        &dotted,
        "--output",
        by_year.to_str().unwrap(),
        "--only",
        "SMA_5",
    ]);
    assert!(ok, "{text}");
    for year in ["2023", "2024"] {
        assert!(by_year.join(format!("ETHBTC.{year}.csv")).is_file());
    }
    // Written into the inputs' own directory, each output would replace its input: refused,
    // the candles untouched.
    let candles_before = std::fs::read(years.join("ETHBTC.2023.csv")).unwrap();
    let (ok, text) = run_stratbox(&[
        "indicators",
        "--input",
        &dotted,
        "--output",
        years.to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("is an input"), "{text}");
    assert_eq!(
        std::fs::read(years.join("ETHBTC.2023.csv")).unwrap(),
        candles_before
    );
    // Candles from a pipe (which cannot seek back).
    let mut child = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["indicators", "--input", "/dev/stdin", "--output", "-"])
        .args(["--only", "SMA_5"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        stdin.write_all(&bytes).unwrap();
    });
    let piped = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(
        String::from_utf8(piped.stdout).unwrap(),
        whole_batch_csv(&good, &[Spec::parse("SMA_5").unwrap()])
    );
    let (ok, text) = run_stratbox(&["indicators", "--input", &list, "--output", "-"]);
    assert!(!ok && text.contains("--output - takes one input"), "{text}");
    // A device is written as it is, not renamed over.
    let (ok, text) = run_stratbox(&[
        "indicators",
        "--input",
        good.to_str().unwrap(),
        "--output",
        "/dev/null",
        "--only",
        "SMA_5",
    ]);
    assert!(ok, "{text}");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
