//! Market data end to end: candle files round-trip through the history store (SQLite and a
//! real PostgreSQL), and the REST client fetches from the simulator over real loopback sockets,
//! through injected 429s and truncated answers, each candle exactly once.

mod common;

use common::run_stratbox as stratbox;
use common::*;
use std::io::Write;
use std::process::Command;
use std::sync::atomic::Ordering;
use stratbox::feeds::binance::{RestClient, RestError};
use stratbox::feeds::candles::{self, Candle};
use stratbox::history::{Gap, HistoryStore};
use stratbox::sim::{Faults, SimConfig, SimMarket};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_stratbox")
}

/// The exchange simulator serving `data` as ADABTC 5m candles (with `extra` arguments): its
/// base URL, and the process, stopped when dropped.
fn exchange_sim(data: &std::path::Path, extra: &[&str]) -> (String, common::service::Process) {
    let mut sim = Command::new(bin())
        .args([
            "exchange-sim",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.to_str().unwrap(),
            "--symbol",
            "ADABTC",
            "--interval",
            "5m",
        ])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = announced(&mut sim, "exchange-sim listening on ");
    (base, common::service::Process(sim))
}

/// A symbol no other test run uses, so tests can share one PostgreSQL database.
fn unique_symbol(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}{}X{nanos}", std::process::id())
}

#[test]
fn every_shared_candle_file_round_trips_through_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    for (file, symbol, interval) in [
        ("BTC_1m_a.csv", "ETHBTC", "1m"),
        ("XRP_ETH_1m.csv", "XRPETH", "1m"),
        ("ETH_BTC_5m.csv", "ETHBTC", "5m"),
        ("ADA_BTC_5m.csv", "ADABTC", "5m"),
        ("XLM_BTC_5m.csv", "XLMBTC", "5m"),
    ] {
        let input = data_dir().join(file);
        let (ok, out) = stratbox(&[
            "data",
            "import",
            input.to_str().unwrap(),
            "--symbol",
            symbol,
            "--interval",
            interval,
            "--db",
            &db,
        ]);
        assert!(ok, "{file}: {out}");
        let output = dir.path().join(format!("{file}.out"));
        let (ok, out) = stratbox(&[
            "data",
            "export",
            "--symbol",
            symbol,
            "--interval",
            interval,
            "--output",
            output.to_str().unwrap(),
            "--db",
            &db,
        ]);
        assert!(ok, "{file}: {out}");
        assert_eq!(
            candles::read_file(&output).unwrap(),
            candles::read_file(&input).unwrap(),
            "{file}: same rows and values"
        );
    }
}

#[test]
fn binance_dumps_with_microsecond_times_import_from_zip() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("LTCBTC-5m-2025-01.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file(
        "LTCBTC-5m-2025-01.csv",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    for i in 0..3i64 {
        let t = (1_735_689_600_000 + i * 300_000) * 1000;
        writeln!(
            zip,
            "{t},0.00100000,0.00110000,0.00090000,0.00105000,12.50000000,{},1.0,5,1.0,1.0,0",
            t + 299_999_999
        )
        .unwrap();
    }
    zip.finish().unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let (ok, out) = stratbox(&[
        "data",
        "import",
        zip_path.to_str().unwrap(),
        "--symbol",
        "LTCBTC",
        "--interval",
        "5m",
        "--db",
        &db,
    ]);
    assert!(ok, "{out}");
    let output = dir.path().join("out.csv");
    let (ok, out) = stratbox(&[
        "data",
        "export",
        "--symbol",
        "LTCBTC",
        "--interval",
        "5m",
        "--output",
        output.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert!(ok, "{out}");
    let text = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        text,
        "open_time_ms,open,high,low,close,volume\n1735689600000,0.001,0.0011,0.0009,0.00105,12.5\n1735689900000,0.001,0.0011,0.0009,0.00105,12.5\n1735690200000,0.001,0.0011,0.0009,0.00105,12.5\n"
    );
}

#[test]
fn a_bad_file_is_refused_by_line_and_stored_candles_stay() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let good = data_dir().join("XRP_ETH_1m.csv");
    assert!(
        stratbox(&[
            "data",
            "import",
            good.to_str().unwrap(),
            "--symbol",
            "XRPETH",
            "--interval",
            "1m",
            "--db",
            &db
        ])
        .0
    );
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "open_time_ms,open,high,low,close,volume\n1570752000000,1,2,0.5,1,1\n1570752060000,1,two,0.5,1,1\n").unwrap();
    let (ok, out) = stratbox(&[
        "data",
        "import",
        bad.to_str().unwrap(),
        "--symbol",
        "XRPETH",
        "--interval",
        "1m",
        "--db",
        &db,
    ]);
    assert!(
        !ok && out.contains("line 3") && out.contains("high"),
        "{out}"
    );
    let (ok, out) = stratbox(&[
        "data",
        "import",
        good.to_str().unwrap(),
        "--symbol",
        "XRPETH",
        "--interval",
        "5m",
        "--db",
        &db,
    ]);
    assert!(!ok && out.contains("is --interval right"), "{out}");
    let output = dir.path().join("out.csv");
    assert!(
        stratbox(&[
            "data",
            "export",
            "--symbol",
            "XRPETH",
            "--interval",
            "1m",
            "--output",
            output.to_str().unwrap(),
            "--db",
            &db
        ])
        .0
    );
    assert_eq!(
        candles::read_file(&output).unwrap(),
        candles::read_file(&good).unwrap()
    );
}

#[tokio::test]
async fn postgres_store_round_trips_upserts_idempotently_and_finds_gaps() {
    let store = HistoryStore::open(POSTGRES)
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (database test)");
    let symbol = unique_symbol("PG");
    let rows = candles::read_file(&data_dir().join("ETH_BTC_5m.csv")).unwrap();
    store.upsert(&symbol, "5m", &rows).await.unwrap();
    store.upsert(&symbol, "5m", &rows[..100]).await.unwrap(); // again: no duplicates
    let back = store
        .candles(&symbol, "5m", i64::MIN, i64::MAX)
        .await
        .unwrap();
    assert_eq!(back, rows);
    let (first, last) = (rows[0].open_time, rows[rows.len() - 1].open_time);
    let holes = store
        .gaps(&symbol, "5m", 300_000, first - 600_000, last)
        .await
        .unwrap();
    assert_eq!(
        holes[0],
        Gap {
            from: first - 600_000,
            to: first - 300_000
        }
    );
    let expected: usize = rows
        .windows(2)
        .filter(|w| w[1].open_time - w[0].open_time != 300_000)
        .count();
    assert_eq!(holes.len(), expected + 1);
    if let HistoryStore::Postgres(pool) = &store {
        sqlx::query("DELETE FROM candles WHERE symbol = $1")
            .bind(&symbol)
            .execute(pool)
            .await
            .unwrap();
    }
}

async fn start_sim(market: SimMarket, faults: Faults) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            stratbox::sim::router(
                vec![market],
                SimConfig {
                    faults,
                    ..SimConfig::default()
                },
            ),
        )
        .await
        .unwrap()
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn klines_page_over_a_range_exactly_once_through_429s_and_truncated_answers() {
    let rows = candles::read_file(&data_dir().join("ETH_BTC_5m.csv")).unwrap();
    let faults = Faults {
        http429_every: Some(4),
        retry_after_s: 1,
        malformed_every: Some(3),
        ..Faults::default()
    };
    let base = start_sim(
        SimMarket::recorded("ETHBTC", "5m", 300_000, rows.clone()),
        faults,
    )
    .await;
    let client = RestClient::new(&base);
    let (from, to) = (
        rows[0].open_time - 3_600_000,
        rows[rows.len() - 1].open_time + 3_600_000,
    );
    let mut got: Vec<Candle> = Vec::new();
    let mut pages = 0;
    let n = client
        .klines_range("ETHBTC", "5m", 300_000, from, to, async |page| {
            pages += 1;
            got.extend(page);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n as usize, rows.len());
    assert_eq!(got, rows, "every candle once, in order, with exact values");
    assert!(
        pages >= 6,
        "5760 candles take at least six pages of 1000, got {pages}"
    );
    assert!(
        client.retries.load(Ordering::Relaxed) > 0,
        "the injected faults were retried"
    );
}

#[tokio::test]
async fn exchange_errors_and_rules_are_parsed_exactly() {
    let market = SimMarket::generated("BTCUSDT", "1m", 60_000, 1_704_067_200_000, 3_000, 42);
    let base = start_sim(market.clone(), Faults::default()).await;
    let client = RestClient::new(&base);
    match client.klines("NOPE", "1m", 0, 1, 10).await {
        Err(RestError::Http {
            status: 400,
            message,
            ..
        }) => assert!(
            message.contains("Invalid symbol") && message.contains("-1121"),
            "{message}"
        ),
        other => panic!("expected Binance's invalid-symbol error, got {other:?}"),
    }
    let info = client.exchange_info().await.unwrap();
    assert_eq!(info.symbols[0].symbol, "BTCUSDT");
    assert_eq!(info.symbols[0].step_size.to_string(), "0.00001");
    let offset = client.clock_offset_ms().await.unwrap();
    assert!(offset.abs() < 5_000, "loopback clock offset {offset} ms");
    let depth = client.depth("BTCUSDT", 100).await.unwrap();
    assert_eq!((depth.bids.len(), depth.asks.len()), (100, 100));
    assert!(depth.bids[0].0 < depth.asks[0].0);
    let page = client
        .klines("BTCUSDT", "1m", 1_704_067_200_000, i64::MAX, 1000)
        .await
        .unwrap();
    assert_eq!(page.as_slice(), &market.candles()[..1000]);
    // The simulator trades at the touch as its book moves.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let recent = client.recent_trades("BTCUSDT", 50).await.unwrap();
    assert!(
        !recent.is_empty() && recent.windows(2).all(|w| w[0].id < w[1].id),
        "{recent:?}"
    );
    let from = recent[0].id;
    let agg = client.agg_trades("BTCUSDT", Some(from), 5).await.unwrap();
    assert_eq!(agg[0].id, from);
    assert!(agg.len() <= 5 && agg.iter().all(|t| t.price.is_positive()));
}

#[test]
fn fetch_then_export_gives_back_the_simulators_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir().join("ADA_BTC_5m.csv");
    let (base, sim) = exchange_sim(&data, &["--faults", "429=9"]);
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let args = [
        "data",
        "fetch",
        "--symbol",
        "ADABTC",
        "--interval",
        "5m",
        "--from",
        "2018-01-01",
        "--to",
        "2018-03-01",
        "--binance-rest",
        &base,
        "--db",
        &db,
        "--quiet",
    ];
    let (ok, out) = stratbox(&args);
    assert!(ok, "{out}");
    assert!(out.contains("fetched 5720 candles"), "{out}");
    let (ok, out) = stratbox(&args);
    assert!(
        ok && out.contains("fetched 0 candles") && out.contains("5720 already stored"),
        "a second fetch resumes: {out}"
    );
    let output = dir.path().join("out.csv");
    let (ok, out) = stratbox(&[
        "data",
        "export",
        "--symbol",
        "ADABTC",
        "--interval",
        "5m",
        "--output",
        output.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert!(ok, "{out}");
    drop(sim);
    assert_eq!(
        candles::read_file(&output).unwrap(),
        candles::read_file(&data).unwrap()
    );
}

#[tokio::test]
async fn the_history_schema_is_versioned_and_adopts_older_databases() {
    // SQLite: a database made before migrations were versioned (the table, no version row)
    // is adopted by migration 1 with its rows intact; opening again applies nothing twice.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    {
        let store = HistoryStore::open(&url).await.unwrap();
        let rows = candles::read_file(&data_dir().join("ADA_BTC_5m.csv")).unwrap();
        store.upsert("ADABTC", "5m", &rows[..50]).await.unwrap();
        let HistoryStore::Sqlite(pool) = &store else {
            unreachable!()
        };
        sqlx::raw_sql("DROP TABLE history_migrations")
            .execute(pool)
            .await
            .unwrap();
    }
    let store = HistoryStore::open(&url).await.unwrap();
    assert_eq!(store.schema_versions().await.unwrap(), vec![1, 2]);
    assert_eq!(
        store
            .candles("ADABTC", "5m", i64::MIN, i64::MAX)
            .await
            .unwrap()
            .len(),
        50
    );
    let again = HistoryStore::open(&url).await.unwrap();
    assert_eq!(again.schema_versions().await.unwrap(), vec![1, 2]);

    // A database from a newer build is refused, naming the versions, and left as it is.
    let HistoryStore::Sqlite(pool) = &again else {
        unreachable!()
    };
    sqlx::raw_sql("INSERT INTO history_migrations (version, applied_at_ms) VALUES (99, 0)")
        .execute(pool)
        .await
        .unwrap();
    let err = HistoryStore::open(&url).await.unwrap_err().to_string();
    assert!(
        err.contains("schema version 99") && err.contains("knows (2)"),
        "{err}"
    );
    assert_eq!(
        again
            .candles("ADABTC", "5m", i64::MIN, i64::MAX)
            .await
            .unwrap()
            .len(),
        50
    );

    // PostgreSQL: the same versions, under concurrent opens.
    let opens = (0..4).map(|_| tokio::spawn(HistoryStore::open(POSTGRES)));
    for open in opens {
        let store = open
            .await
            .unwrap()
            .expect("PostgreSQL at 127.0.0.1:5432 (database test)");
        assert_eq!(store.schema_versions().await.unwrap(), vec![1, 2]);
    }
}

/// Minute candles from 2023-11-14 22:13 UTC, quiet (closes wandering by a few ticks), with one
/// of each problem the quality checks know planted: every row's text, in file order, and the
/// open time of row `i` of the clean series.
fn planted_problems() -> (Vec<String>, impl Fn(usize) -> i64) {
    const T0: i64 = 1_699_999_980_000;
    let at = |i: usize| T0 + i as i64 * 60_000;
    let row =
        |i: usize, o: f64, h: f64, l: f64, c: f64, v: f64| format!("{},{o},{h},{l},{c},{v}", at(i));
    let mut rows: Vec<String> = Vec::new();
    for i in 0..150 {
        let c = 100.0 + ((i * 7) % 5) as f64 * 0.01;
        let mut v = 10.0 + ((i * 3) % 4) as f64;
        let (mut o, mut h, mut l, mut cl) = (c, c + 0.02, c - 0.02, c);
        match i {
            20 | 21 => continue,       // a gap of two
            30..=34 => v = 0.0,        // a zero-volume stretch
            40 => h = c - 0.05,        // high below the close
            41 => (o, l) = (0.0, 0.0), // a zero price
            50 | 51 => {
                // repeats of row 49
                let r49 = rows
                    .iter()
                    .find(|r| r.starts_with(&at(49).to_string()))
                    .unwrap();
                rows.push(r49.replacen(&at(49).to_string(), &at(i).to_string(), 1));
                continue;
            }
            90 => v = -1.0,                                      // negative volume
            120 => (o, h, l, cl) = (130.0, 130.0, 130.0, 130.0), // a 30 % jump, and back
            130 => v = 100_000.0,                                // a volume spike
            _ => {}
        }
        rows.push(row(i, o, h, l, cl, v));
    }
    // Rows 70 and 71 swapped; row 60 again, and row 61 again with another close.
    let k = rows
        .iter()
        .position(|r| r.starts_with(&at(70).to_string()))
        .unwrap();
    rows.swap(k, k + 1);
    let again = rows
        .iter()
        .find(|r| r.starts_with(&at(60).to_string()))
        .unwrap()
        .clone();
    rows.push(again);
    rows.push(row(61, 100.0, 101.0, 99.0, 100.5, 12.0));
    (rows, at)
}

fn write_candles(path: &std::path::Path, rows: &[String]) {
    let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_files_problems_are_each_found_and_named_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("planted.csv");
    let (rows, at) = planted_problems();
    write_candles(&file, &rows);
    let line_of = |i: usize| {
        rows.iter()
            .position(|r| r.starts_with(&at(i).to_string()))
            .unwrap()
            + 2
    };
    let (ok, out) = stratbox(&[
        "data",
        "check",
        "--file",
        file.to_str().unwrap(),
        "--symbol",
        "XYZUSDT",
        "--interval",
        "1m",
        "--json",
    ]);
    assert!(ok, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let counts = &report["counts"];
    for (kind, n) in [
        ("gap", 1),
        ("duplicate", 2),
        ("out_of_order", 1),
        ("misaligned", 0),
        ("ohlc", 1),
        ("non_positive_price", 1),
        ("negative_volume", 1),
        ("zero_volume", 1),
        ("return_outlier", 2),
        ("volume_outlier", 1),
        ("stale_repeat", 1),
    ] {
        assert_eq!(counts[kind], n, "{kind}: {out}");
    }
    assert_eq!(report["missing_rows"], 2);
    assert_eq!(report["rows"], rows.len());
    let find = |kind: &str| -> Vec<&serde_json::Value> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == kind)
            .collect()
    };
    assert_eq!(find("gap")[0]["open_time"], at(20));
    assert_eq!(find("gap")[0]["last_open_time"], at(21));
    assert_eq!(find("ohlc")[0]["line"], line_of(40));
    assert_eq!(find("non_positive_price")[0]["detail"], "open 0, low 0");
    assert_eq!(find("negative_volume")[0]["line"], line_of(90));
    assert_eq!(find("zero_volume")[0]["rows"], 5);
    assert_eq!(find("stale_repeat")[0]["open_time"], at(50));
    assert_eq!(find("stale_repeat")[0]["rows"], 2);
    let jumps: Vec<i64> = find("return_outlier")
        .iter()
        .map(|f| f["open_time"].as_i64().unwrap())
        .collect();
    assert_eq!(jumps, vec![at(120), at(121)]);
    assert_eq!(find("volume_outlier")[0]["open_time"], at(130));
    let duplicates = find("duplicate");
    assert_eq!(duplicates[0]["line"], rows.len());
    assert!(
        duplicates[0]["detail"].as_str().unwrap().contains(&format!(
            "same open time and values as line {}",
            line_of(60)
        )),
        "{out}"
    );
    assert!(
        duplicates[1]["detail"]
            .as_str()
            .unwrap()
            .contains("with other values"),
        "{out}"
    );
    assert_eq!(find("out_of_order")[0]["open_time"], at(70));

    // The text report names each by line; --limit shortens it.
    let (ok, out) = stratbox(&[
        "data",
        "check",
        "--file",
        file.to_str().unwrap(),
        "--symbol",
        "XYZUSDT",
        "--interval",
        "1m",
        "--limit",
        "3",
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains("1 gap (missing 2 rows)") && out.contains("2 duplicate"),
        "{out}"
    );
    assert!(out.contains("and 9 more"), "{out}");
    // --fail-on gates a pipeline on the kinds it names.
    let gate = |kinds: &str| {
        std::process::Command::new(bin())
            .args([
                "data",
                "check",
                "--file",
                file.to_str().unwrap(),
                "--symbol",
                "XYZUSDT",
                "--interval",
                "1m",
                "--fail-on",
                kinds,
            ])
            .output()
            .unwrap()
    };
    assert_eq!(gate("gap").status.code(), Some(1));
    assert_eq!(gate("misaligned").status.code(), Some(0));
    assert_eq!(gate("any").status.code(), Some(1));
    let bad = gate("holes");
    assert!(
        !bad.status.success()
            && String::from_utf8_lossy(&bad.stderr).contains("--fail-on \"holes\""),
        "{bad:?}"
    );
    // A policy acts on the store, not on a file.
    let (ok, out) = stratbox(&[
        "data",
        "check",
        "--file",
        file.to_str().unwrap(),
        "--symbol",
        "XYZUSDT",
        "--interval",
        "1m",
        "--fix",
        "mark-suspect",
    ]);
    assert!(!ok && out.contains("data import"), "{out}");
}

#[test]
fn an_import_is_refused_unless_a_policy_takes_its_problems_in_and_never_overwrites_silently() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let file = dir.path().join("planted.csv");
    let (rows, at) = planted_problems();
    write_candles(&file, &rows);
    let import = |extra: &[&str]| {
        let mut args = vec![
            "data",
            "import",
            file.to_str().unwrap(),
            "--symbol",
            "XYZUSDT",
            "--interval",
            "1m",
            "--db",
            &db,
        ];
        args.extend_from_slice(extra);
        stratbox(&args)
    };
    let check_store = |extra: &[&str]| {
        let mut args = vec![
            "data",
            "check",
            "--symbol",
            "XYZUSDT",
            "--interval",
            "1m",
            "--db",
            &db,
            "--json",
        ];
        args.extend_from_slice(extra);
        let (ok, out) = stratbox(&args);
        assert!(ok, "{out}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let (ok, out) = import(&[]);
    assert!(
        !ok && out.contains("2 rows repeat an earlier open time and 1 open before the row above")
            && out.contains("--fix drop-duplicates"),
        "{out}"
    );
    let (ok, out) = import(&["--fix", "drop-duplicates"]);
    assert!(
        !ok && out.contains("3 broken candles") && out.contains("--fix mark-suspect"),
        "{out}"
    );
    let (ok, out) = stratbox(&[
        "data",
        "check",
        "--symbol",
        "XYZUSDT",
        "--interval",
        "1m",
        "--db",
        &db,
    ]);
    assert!(
        !ok && out.contains("no candles of XYZUSDT 1m"),
        "nothing stored: {out}"
    );

    let (ok, out) = import(&["--fix", "drop-duplicates,mark-suspect"]);
    assert!(ok, "{out}");
    assert!(out.contains("imported 148 candles"), "{out}");
    // Marked: the broken three, the zero-volume five, the two repeats, the outliers' three.
    assert!(
        out.contains("marked 13 rows suspect") && out.contains("(13 marks"),
        "{out}"
    );
    let stored = check_store(&[]);
    assert_eq!(stored["rows"], 148);
    assert_eq!(stored["flagged"], 13);
    assert_eq!(stored["counts"]["duplicate"], 0);
    assert_eq!(stored["counts"]["gap"], 1);
    // The first of the two rows of 61 was kept.
    let output = dir.path().join("out.csv");
    let (ok, out) = stratbox(&[
        "data",
        "export",
        "--symbol",
        "XYZUSDT",
        "--interval",
        "1m",
        "--output",
        output.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert!(ok, "{out}");
    // The broken candles went in marked, so the file has them: read it as the checks do.
    let unchecked = |path: &std::path::Path| -> Vec<Candle> {
        candles::read_unchecked(path)
            .unwrap()
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    };
    let exported = unchecked(&output);
    let r61 = exported.iter().find(|c| c.open_time == at(61)).unwrap();
    assert_eq!(r61.close.as_str(), "100.02");
    // The marks are on exactly the suspect rows.
    let kept = dir.path().join("kept.csv");
    let (ok, out) = stratbox(&[
        "data",
        "export",
        "--symbol",
        "XYZUSDT",
        "--interval",
        "1m",
        "--output",
        kept.to_str().unwrap(),
        "--db",
        &db,
        "--skip-flagged",
    ]);
    assert!(ok && out.contains("(13 marked suspect left out)"), "{out}");
    let kept: std::collections::HashSet<i64> =
        unchecked(&kept).iter().map(|c| c.open_time).collect();
    let left_out: Vec<i64> = exported
        .iter()
        .map(|c| c.open_time)
        .filter(|t| !kept.contains(t))
        .collect();
    let suspect: Vec<i64> = [30, 31, 32, 33, 34, 40, 41, 50, 51, 90, 120, 121, 130]
        .into_iter()
        .map(&at)
        .collect();
    assert_eq!(left_out, suspect);

    // Another file with one candle's close changed: refused, the store untouched; then
    // replaced on --overwrite, and said so.
    let changed = dir.path().join("changed.csv");
    let clean: Vec<String> = exported
        .iter()
        .map(|c| {
            let close = if c.open_time == at(100) {
                "100.5".to_string()
            } else {
                c.close.to_string()
            };
            let high = if c.open_time == at(100) {
                "100.5".to_string()
            } else {
                c.high.to_string()
            };
            format!(
                "{},{},{high},{},{close},{}",
                c.open_time, c.open, c.low, c.volume
            )
        })
        .collect();
    write_candles(&changed, &clean);
    let import_changed = |extra: &[&str]| {
        let mut args = vec![
            "data",
            "import",
            changed.to_str().unwrap(),
            "--symbol",
            "XYZUSDT",
            "--interval",
            "1m",
            "--db",
            &db,
            "--fix",
            "mark-suspect",
        ];
        args.extend_from_slice(extra);
        stratbox(&args)
    };
    let (ok, out) = import_changed(&[]);
    assert!(
        !ok && out.contains("1 candles of XYZUSDT 1m already stored differ")
            && out.contains("stored open 100 high 100.02")
            && out.contains("--overwrite"),
        "{out}"
    );
    let (ok, out) = stratbox(&[
        "data",
        "export",
        "--symbol",
        "XYZUSDT",
        "--interval",
        "1m",
        "--output",
        output.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert!(ok, "{out}");
    assert_eq!(unchecked(&output), exported, "nothing changed");
    let (ok, out) = import_changed(&["--overwrite"]);
    assert!(ok && out.contains("replaced 1 stored candles"), "{out}");
}

#[test]
fn a_check_refills_gaps_from_the_venue_and_says_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir().join("ADA_BTC_5m.csv");
    let all = candles::read_file(&data).unwrap();
    // The store lacks 11 candles the venue has.
    let holed: Vec<Candle> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| !(100..110).contains(i) && *i != 2000)
        .map(|(_, c)| c.clone())
        .collect();
    let file = dir.path().join("holed.csv");
    let mut text = Vec::new();
    candles::write_csv(&holed, &mut text).unwrap();
    std::fs::write(&file, text).unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let (ok, out) = stratbox(&[
        "data",
        "import",
        file.to_str().unwrap(),
        "--symbol",
        "ADABTC",
        "--interval",
        "5m",
        "--db",
        &db,
    ]);
    assert!(ok, "{out}");
    // The file's own gaps (the venue lacks those too), from an independent count.
    let step = 300_000;
    let own: Vec<i64> = all
        .windows(2)
        .filter(|w| w[1].open_time - w[0].open_time > step)
        .map(|w| (w[1].open_time - w[0].open_time) / step - 1)
        .collect();
    let own_missing: i64 = own.iter().sum();
    let check = |extra: &[&str]| {
        let mut args = vec![
            "data",
            "check",
            "--symbol",
            "ADABTC",
            "--interval",
            "5m",
            "--db",
            &db,
            "--json",
        ];
        args.extend_from_slice(extra);
        let (ok, out) = stratbox(&args);
        assert!(ok, "{out}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let before = check(&[]);
    assert_eq!(before["counts"]["gap"], own.len() + 2);
    assert_eq!(before["missing_rows"], own_missing + 11);

    // An unreachable venue: said, nothing changed.
    let unreachable = check(&[
        "--fix",
        "refill-gaps",
        "--binance-rest",
        "http://127.0.0.1:9",
    ]);
    assert!(
        unreachable["refill_error"]
            .as_str()
            .unwrap()
            .contains("could not refill"),
        "{unreachable}"
    );
    assert_eq!(unreachable["missing_rows"], own_missing + 11);

    let (base, sim) = exchange_sim(&data, &[]);
    let after = check(&["--fix", "refill-gaps", "--binance-rest", &base]);
    drop(sim);
    assert_eq!(after["refilled"], 11, "{after}");
    assert_eq!(after["counts"]["gap"], own.len());
    assert_eq!(after["missing_rows"], own_missing);
    let output = dir.path().join("out.csv");
    let (ok, out) = stratbox(&[
        "data",
        "export",
        "--symbol",
        "ADABTC",
        "--interval",
        "5m",
        "--output",
        output.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert!(ok, "{out}");
    assert_eq!(
        candles::read_file(&output).unwrap(),
        all,
        "the venue's candles, exactly"
    );
}

#[tokio::test]
async fn suspect_marks_live_beside_the_candles_in_postgres() {
    let store = HistoryStore::open(POSTGRES)
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (database test)");
    let symbol = unique_symbol("FLAG");
    let rows = candles::read_file(&data_dir().join("XLM_BTC_5m.csv")).unwrap();
    store.upsert(&symbol, "5m", &rows[..20]).await.unwrap();
    let (t, u) = (rows[5].open_time, rows[9].open_time);
    let marks = vec![
        (
            t,
            "return_outlier",
            "log return 0.3: robust z 40.0".to_string(),
        ),
        (t, "volume_outlier", "volume 9: robust z 7.0".to_string()),
        (u, "stale_repeat", "1 candle(s) repeating".to_string()),
    ];
    let whole = (rows[0].open_time, rows[19].open_time);
    store
        .replace_flags(&symbol, "5m", whole, &marks, 1_000)
        .await
        .unwrap();
    // A later check of part of the range replaces that part's marks only.
    store
        .replace_flags(&symbol, "5m", (t, rows[7].open_time), &marks[..1], 2_000)
        .await
        .unwrap();
    let flags = store
        .flags(&symbol, "5m", i64::MIN, i64::MAX)
        .await
        .unwrap();
    let got: Vec<(i64, &str, i64)> = flags
        .iter()
        .map(|f| (f.open_time, f.kind.as_str(), f.flagged_at))
        .collect();
    assert_eq!(
        got,
        vec![(t, "return_outlier", 2_000), (u, "stale_repeat", 1_000)]
    );
    // A replaced candle loses its marks.
    store.unflag(&symbol, "5m", &[u]).await.unwrap();
    assert_eq!(
        store
            .flags(&symbol, "5m", i64::MIN, i64::MAX)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .candles(&symbol, "5m", i64::MIN, i64::MAX)
            .await
            .unwrap(),
        rows[..20].to_vec(),
        "the candles are untouched"
    );
}
