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
