//! Market data end to end: candle files round-trip through the history store (SQLite and a
//! real PostgreSQL), and the REST client fetches from the simulator over real loopback sockets,
//! through injected 429s and truncated answers, each candle exactly once.

mod common;

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

fn stratbox(args: &[&str]) -> (bool, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
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
            "--faults",
            "429=9",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = announced(&mut sim, "exchange-sim listening on ");
    let sim = common::service::Process(sim);
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
    assert_eq!(store.schema_versions().await.unwrap(), vec![1]);
    assert_eq!(
        store
            .candles("ADABTC", "5m", i64::MIN, i64::MAX)
            .await
            .unwrap()
            .len(),
        50
    );
    let again = HistoryStore::open(&url).await.unwrap();
    assert_eq!(again.schema_versions().await.unwrap(), vec![1]);

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
        err.contains("schema version 99") && err.contains("knows (1)"),
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
        assert_eq!(store.schema_versions().await.unwrap(), vec![1]);
    }
}
