//! Real Binance stream captures (`../shared/data/l2/`) rebuilt into books by Binance's
//! snapshot-and-diff procedure: every line read, the book never crossed, and wherever Binance's
//! own book ticker describes the same update id, the rebuilt book has exactly its best levels.

mod common;

use common::data_dir;
use stratbox::feeds::MarketEvent;
use stratbox::feeds::capture;
use stratbox::market::MarketData;

#[test]
fn captures_rebuild_books_that_agree_with_binances_ticker() {
    for (file, lines, diffs, trades, tickers) in [
        ("btcusdt_20240808.gz", 41_249, 3_451, 9_757, 28_040),
        ("ethusdt_20240808.gz", 33_618, 0, 0, 0),
    ] {
        let mut market = MarketData::default();
        let path = data_dir().join("l2").join(file);
        let capture = {
            let mut intern = |name: &str| market.add_symbol(name);
            capture::read(&[&path], &mut intern, None, None).unwrap()
        };
        let s = &capture.stats;
        assert_eq!(s.lines, lines, "{file}: {s:?}");
        if diffs > 0 {
            assert_eq!(
                (s.depth_diffs, s.trades, s.tickers),
                (diffs, trades, tickers),
                "{file}"
            );
        }
        assert_eq!(s.snapshots, 1, "{file}");
        assert_eq!(s.resyncs, 0, "{file}");
        // Once the depth stream has spoken it is the book (ETHUSDT's capture starts with one
        // ticker, which is the book until then).
        assert!(s.tickers - s.tickers_dropped <= 1, "{file}: {s:?}");
        assert!(s.tickers_agreeing > 300, "{file}: {s:?}");
        assert_eq!(s.tickers_disagreeing, 0, "{file}: {s:?}");
        let mut last = i64::MIN;
        let mut books = 0;
        for event in &capture.events {
            assert!(event.time() >= last, "{file}: events in receive order");
            last = event.time();
            if let MarketEvent::Book(update) = event {
                market.apply_book(update);
                let book = market.depth(update.symbol).unwrap();
                let (bid, ask) = (book.best_bid().unwrap(), book.best_ask().unwrap());
                assert!(
                    bid.0 < ask.0,
                    "{file}: crossed at {}: {bid:?} {ask:?}",
                    update.time
                );
                books += 1;
            }
        }
        assert!(books > 3_000, "{file}: {books}");
    }
}

#[test]
fn check_book_reports_each_books_faults_in_a_real_capture() {
    let path = data_dir().join("l2").join("btcusdt_20240808.gz");
    let report = common::stratbox_json(&["data", "check-book", path.to_str().unwrap(), "--json"]);
    // The lag of each depth diff, from the file itself.
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap()),
        &mut text,
    )
    .unwrap();
    // (event time, lag) of each depth diff.
    let lags: Vec<(i64, i64)> = text
        .lines()
        .filter(|l| l.contains("@depth"))
        .map(|l| {
            let (ns, json) = l.split_once(' ').unwrap();
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            let at = v["data"]["E"].as_i64().unwrap();
            (at, ns.parse::<i64>().unwrap().div_euclid(1_000_000) - at)
        })
        .collect();
    let books = report["books"].as_array().unwrap();
    assert_eq!(books.len(), 1, "{report}");
    let b = &books[0];
    assert_eq!(b["symbol"], "BTCUSDT");
    assert_eq!(b["diffs"], 3_451);
    assert_eq!(b["diffs"], lags.len());
    // Binance's stream, rebuilt by its procedure: no gap, never crossed, nothing repeated.
    assert_eq!(
        (
            &b["sequence_gaps"],
            &b["crossed"],
            &b["outdated"],
            &b["synced"]
        ),
        (&0.into(), &0.into(), &0.into(), &true.into()),
        "{report}"
    );
    // The capture's clock ran behind Binance's: every lag is negative, and lateness is
    // measured from the fastest of the last five to ten minutes: at least as many diffs are
    // late as against the fastest of the five minutes before each, at most as many as against
    // the fastest of the ten.
    assert_eq!(b["max_lag_ms"], *lags.iter().map(|(_, l)| l).max().unwrap());
    assert_eq!(b["min_lag_ms"], *lags.iter().map(|(_, l)| l).min().unwrap());
    let late_against = |span_ms: i64| {
        lags.iter()
            .filter(|(at, lag)| {
                let fastest = lags
                    .iter()
                    .filter(|(t, _)| *t <= *at && at - t < span_ms)
                    .map(|(_, l)| *l)
                    .min()
                    .unwrap();
                lag - fastest > stratbox::book::LATE_MS
            })
            .count()
    };
    let late = b["late"].as_u64().unwrap() as usize;
    assert!(
        late_against(300_000) <= late && late <= late_against(600_000),
        "{late}"
    );
    assert_eq!(report["totals"]["depth_diffs"], 3_451);
}
