//! Orders, fills, balances and positions survive a crash: the service paper-trades a market
//! maker on the exchange simulator's live book and is killed with SIGKILL at random moments;
//! after each crash the store holds every fill once, balances equal the starting ones plus
//! the stored fills (locks equal what the open orders hold), and the restarted service goes
//! on trading from there with fresh order and trade ids.

mod common;

use common::service::*;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use stratbox::journal::OrderRecord;
use stratbox::model::Fixed;

/// What `MM_BUDGET` starts the market maker with.
const START_USDT: i64 = 1_000_000;
const START_BTC: i64 = 1;

/// What the store holds after a run.
struct Stored {
    fills: Vec<stratbox::store::FillRow>,
    trading: stratbox::journal::TradingRecord,
    /// The next order and trade ids the store would hand out.
    next_ids: (u64, u64),
}

fn stored(db: &std::path::Path) -> Stored {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = stratbox::store::Store::open(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        Stored {
            fills: store.fills("mm").await.unwrap(),
            trading: store.trading("mm").await.unwrap(),
            next_ids: store.next_ids().await.unwrap(),
        }
    })
}

/// Checks the store's promises.
fn check(s: &Stored, round: usize) {
    let fx = |t: &str| t.parse::<Fixed>().unwrap();
    let trades: HashSet<i64> = s.fills.iter().map(|f| f.trade_id).collect();
    assert_eq!(
        trades.len(),
        s.fills.len(),
        "round {round}: a fill stored twice"
    );
    assert!(s.fills.iter().all(|f| f.trade_id > 0));
    // Balances are the start plus every stored fill.
    let (mut usdt, mut btc) = (Fixed::from_int(START_USDT), Fixed::from_int(START_BTC));
    for f in &s.fills {
        let (q, quote, fee) = (fx(&f.quantity), fx(&f.quote_quantity), fx(&f.fee));
        if f.side == "buy" {
            btc = btc.saturating_add(q);
            usdt = usdt.saturating_sub(quote).saturating_sub(fee);
        } else {
            btc = btc.saturating_sub(q);
            usdt = usdt.saturating_add(quote).saturating_sub(fee);
        }
    }
    let balance = |asset: &str| {
        s.trading
            .balances
            .iter()
            .find(|(a, _, _)| a == asset)
            .map(|&(_, free, locked)| (free, locked))
            .unwrap_or_else(|| panic!("round {round}: no {asset} balance stored"))
    };
    let ((usdt_free, usdt_locked), (btc_free, btc_locked)) = (balance("USDT"), balance("BTC"));
    assert_eq!(
        usdt_free.saturating_add(usdt_locked),
        usdt,
        "round {round}: USDT"
    );
    assert_eq!(
        btc_free.saturating_add(btc_locked),
        btc,
        "round {round}: BTC"
    );
    assert!(usdt_free.raw() >= 0 && btc_free.raw() >= 0, "round {round}");
    // What is locked is what the open orders hold.
    let locked = |asset: &str| {
        s.trading
            .open_orders
            .iter()
            .filter(|(_, o)| &*o.lock_asset == asset)
            .fold(Fixed::ZERO, |sum, (_, o)| sum.saturating_add(o.locked))
    };
    assert_eq!(usdt_locked, locked("USDT"), "round {round}: USDT locks");
    assert_eq!(btc_locked, locked("BTC"), "round {round}: BTC locks");
}

#[test]
fn a_killed_service_loses_no_fill_and_doubles_none() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, addr) = start_exchange_sim("BTCUSDT");
    let db = dir.path().join("db.sqlite");
    let config = market_maker_service(dir.path(), &addr, "");
    // Moments to crash at, different on every run: 1.5 to 5.5 s after the service listens.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut next_delay = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_millis(1_500 + (seed >> 33) % 4_000)
    };
    let mut crashes_with_fills = 0;
    for round in 0..4 {
        let previous = stored(&db);
        let before = previous.fills.len();
        let server = Server::start(&config);
        let delay = next_delay();
        let started = Instant::now();
        std::thread::sleep(delay);
        if round < 3 {
            server.kill();
        } else {
            server.terminate();
        }
        let s = stored(&db);
        eprintln!(
            "round {round}: {} after {:?}, {} fills stored ({} new)",
            if round < 3 { "killed" } else { "stopped" },
            started.elapsed(),
            s.fills.len(),
            s.fills.len() - before
        );
        check(&s, round);
        // The restarted service numbers on: a fill after the crash has a new trade id and
        // belongs to a new order or to one that was open when the service died.
        let (next_order, next_trade) = previous.next_ids;
        let restored: HashSet<u64> = previous
            .trading
            .open_orders
            .iter()
            .map(|(_, o)| o.id)
            .collect();
        let new = &s.fills[before..];
        if round > 0 && !new.is_empty() {
            crashes_with_fills += 1;
        }
        for f in new {
            assert!(
                f.trade_id as u64 >= next_trade,
                "round {round}: trade id {} reused",
                f.trade_id
            );
            let order = f.order_id as u64;
            assert!(
                order >= next_order || restored.contains(&order),
                "round {round}: order id {order} reused"
            );
        }
    }
    drop(sim);
    let fills = stored(&db).fills.len();
    assert!(fills >= 10, "the market maker traded: {fills} fills");
    assert!(crashes_with_fills >= 2, "trading went on after the crashes");
}

/// A deployment whose stored trading state cannot be read at a restart is halted with the
/// reason, and what the store holds is left as it was (trading from the budget would overwrite
/// the stored balances).
#[test]
fn a_deployment_whose_trading_state_cannot_be_read_is_halted_and_its_store_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, addr) = start_exchange_sim("BTCUSDT");
    let db = dir.path().join("db.sqlite");
    let config = market_maker_service(dir.path(), &addr, "");
    let server = Server::start(&config);
    let deadline = Instant::now() + Duration::from_secs(30);
    while stored(&db).trading.balances.is_empty() {
        assert!(Instant::now() < deadline, "the market maker never traded");
        std::thread::sleep(Duration::from_millis(200));
    }
    server.terminate();
    let url = format!("sqlite://{}", db.display());
    let balances = |sql: &'static str| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            if !sql.is_empty() {
                sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            }
            let rows: Vec<(String, String, String)> =
                sqlx::query_as("SELECT asset, free, locked FROM balances ORDER BY asset")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            rows
        })
    };
    let damaged = balances("UPDATE balances SET free = 'garbage' WHERE asset = 'USDT'");
    let server = Server::start(&config);
    std::thread::sleep(Duration::from_secs(2));
    let (ok, listed) = server.run(&["list"]);
    assert!(ok, "{listed}");
    assert!(
        listed.contains("halted") && listed.contains("trading state could not be read"),
        "{listed}"
    );
    server.terminate();
    assert_eq!(
        balances(""),
        damaged,
        "the stored balances were overwritten"
    );
    drop(sim);
}

/// The journal a deployment's trading writes, for the store round trips below: an open limit
/// buy with its lock and an exchange's trade of it, a filled market sell with its trade,
/// balances and a position.
fn trading_entries() -> (Vec<stratbox::journal::JournalEntry>, OrderRecord) {
    use stratbox::journal::JournalEntry;
    use stratbox::model::*;
    let fx = |t: &str| t.parse::<Fixed>().unwrap();
    let dep: std::sync::Arc<str> = "journaled".into();
    let symbol: std::sync::Arc<str> = "BTCUSDT".into();
    let open = OrderRecord {
        id: 41,
        request: OrderRequest {
            client_id: 9,
            symbol: 0,
            side: Side::Buy,
            amount: Amount::Base(fx("0.25")),
            order_type: OrderType::StopLossLimit {
                trigger: Trigger::Price(fx("101")),
                price: fx("100.5"),
                time_in_force: TimeInForce::Gtc,
            },
            iceberg: Some(fx("0.05")),
            reduce_only: false,
            venue: 0,
        },
        status: OrderStatus::PartiallyFilled,
        filled: fx("0.1"),
        filled_quote: fx("10.05"),
        fees: fx("0.01005"),
        time: 1_000,
        lock_asset: "USDT".into(),
        locked: fx("15.09"),
        committed: fx("0.15"),
        triggered: true,
    };
    let sell = OrderRequest {
        client_id: 10,
        symbol: 0,
        side: Side::Sell,
        amount: Amount::Quote(fx("50")),
        order_type: OrderType::Market,
        iceberg: None,
        reduce_only: true,
        venue: 0,
    };
    let fill = Fill {
        order_id: 42,
        client_id: 10,
        owner: dep.clone(),
        symbol: 0,
        side: Side::Sell,
        trade_id: 77,
        venue_trade_id: Some(9001),
        price: fx("100"),
        quantity: fx("0.5"),
        quote_quantity: fx("50"),
        fee: fx("0.05"),
        commission: fx("0.05"),
        commission_asset: "USDT".into(),
        liquidity: Liquidity::Taker,
        time: 2_000,
        status: OrderStatus::Filled,
    };
    // The open buy's part filled by the exchange's trade 8999, its commission kept in BTC.
    let part = Fill {
        order_id: 41,
        client_id: 9,
        side: Side::Buy,
        trade_id: 76,
        venue_trade_id: Some(8999),
        price: fx("100.5"),
        quantity: fx("0.1"),
        quote_quantity: fx("10.05"),
        fee: fx("0.01005"),
        commission: fx("0.0001"),
        commission_asset: "BTC".into(),
        status: OrderStatus::PartiallyFilled,
        time: 1_500,
        ..fill.clone()
    };
    let entries = vec![
        JournalEntry::OrderState {
            deployment: dep.clone(),
            symbol: symbol.clone(),
            order: open.clone(),
        },
        JournalEntry::Order {
            update: OrderUpdate {
                order_id: 42,
                client_id: 10,
                deployment: DeploymentId(3),
                owner: dep.clone(),
                request: sell,
                execution: ExecutionType::Trade,
                status: OrderStatus::Filled,
                filled: fx("0.5"),
                filled_quote: fx("50"),
                fill: Some(fill),
                reject: None,
                time: 2_000,
            },
            symbol: symbol.clone(),
        },
        JournalEntry::OrderState {
            deployment: dep.clone(),
            symbol: symbol.clone(),
            order: OrderRecord {
                id: 42,
                request: sell,
                status: OrderStatus::Filled,
                filled: fx("0.5"),
                filled_quote: fx("50"),
                fees: fx("0.05"),
                time: 2_000,
                lock_asset: "BTC".into(),
                locked: Fixed::ZERO,
                committed: Fixed::ZERO,
                triggered: false,
            },
        },
        JournalEntry::Balance {
            deployment: dep.clone(),
            asset: "USDT".into(),
            free: fx("1039.94"),
            locked: fx("15.09"),
        },
        JournalEntry::Balance {
            deployment: dep.clone(),
            asset: "BTC".into(),
            free: fx("0.6"),
            locked: Fixed::ZERO,
        },
        JournalEntry::Position {
            deployment: dep.clone(),
            symbol: symbol.clone(),
            quantity: fx("-0.4"),
            average_price: fx("100.5"),
            realized_pnl: fx("-0.05"),
        },
        JournalEntry::Order {
            update: OrderUpdate {
                order_id: 41,
                client_id: 9,
                deployment: DeploymentId(3),
                owner: dep.clone(),
                request: open.request,
                execution: ExecutionType::Trade,
                status: OrderStatus::PartiallyFilled,
                filled: fx("0.1"),
                filled_quote: fx("10.05"),
                fill: Some(part),
                reject: None,
                time: 1_500,
            },
            symbol: symbol.clone(),
        },
    ];
    (entries, open)
}

/// Applies the journal to a store and reads back what a restart restores.
async fn round_trip(store: &stratbox::store::Store) {
    let fx = |t: &str| t.parse::<Fixed>().unwrap();
    let (entries, open) = trading_entries();
    store.apply(&entries).await.unwrap();
    let record = store.trading("journaled").await.unwrap();
    assert_eq!(
        record.balances,
        vec![
            ("BTC".to_string(), fx("0.6"), Fixed::ZERO),
            ("USDT".to_string(), fx("1039.94"), fx("15.09")),
        ]
    );
    assert_eq!(
        record.positions,
        vec![("BTCUSDT".to_string(), fx("-0.4"), fx("100.5"), fx("-0.05"))]
    );
    assert_eq!(
        record.open_orders,
        vec![("BTCUSDT".to_string(), open.clone())],
        "only the open order is restored"
    );
    // The open order's trades, by the exchange's ids: what a restart counted of it.
    assert_eq!(
        record.venue_trades,
        [(41, vec![8999])].into_iter().collect()
    );
    let fills = store.fills("journaled").await.unwrap();
    assert_eq!(fills.len(), 2);
    let f = fills.iter().find(|f| f.order_id == 42).unwrap();
    assert_eq!(
        (
            f.trade_id,
            f.quote_quantity.as_str(),
            f.liquidity.as_str(),
            f.venue_trade_id
        ),
        (77, "50", "taker", Some(9001))
    );
    let f = fills.iter().find(|f| f.order_id == 41).unwrap();
    assert_eq!(
        (f.commission.as_str(), f.commission_asset.as_str()),
        ("0.0001", "BTC")
    );
    assert_eq!(store.next_ids().await.unwrap(), (43, 78));
    // The open order is cancelled later: nothing is open any more.
    store
        .apply(&[stratbox::journal::JournalEntry::OrderState {
            deployment: "journaled".into(),
            symbol: "BTCUSDT".into(),
            order: OrderRecord {
                status: stratbox::model::OrderStatus::Cancelled,
                locked: Fixed::ZERO,
                committed: Fixed::ZERO,
                ..open
            },
        }])
        .await
        .unwrap();
    assert!(
        store
            .trading("journaled")
            .await
            .unwrap()
            .open_orders
            .is_empty()
    );
    // Protective stops and trading states: written, replaced, removed, read back.
    use stratbox::journal::JournalEntry;
    use stratbox::risk::{StateRecord, StopConfig, StopState, TradingState};
    let config: StopConfig = toml::from_str("trailing = 0.05").unwrap();
    let mut stop = StopState::new(true, 100.5, 7, &config);
    stop.on_bar(110.0, 101.0, 109.0, 60_007, &config);
    let set = |state: Option<StopState>| JournalEntry::Stop {
        deployment: "journaled".into(),
        symbol: "BTCUSDT".into(),
        state: state.map(Box::new),
    };
    store
        .apply(&[
            set(Some(StopState::new(true, 1.0, 0, &config))),
            set(Some(stop.clone())),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.stops("journaled").await.unwrap(),
        vec![("BTCUSDT".to_string(), stop)]
    );
    store.apply(&[set(None)]).await.unwrap();
    assert!(store.stops("journaled").await.unwrap().is_empty());
    let halted = StateRecord {
        state: TradingState::Halted,
        reason: "drill".into(),
        since: 5,
    };
    store
        .apply(&[
            JournalEntry::TradingState {
                deployment: None,
                record: halted.clone(),
            },
            JournalEntry::TradingState {
                deployment: Some("journaled".into()),
                record: StateRecord::default(),
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        store.trading_states().await.unwrap(),
        vec![
            (None, halted),
            (Some("journaled".to_string()), StateRecord::default())
        ]
    );
    // A trade stored twice is refused, and the batch with it leaves nothing behind.
    let err = store.apply(&entries).await.unwrap_err().to_string();
    assert!(err.contains("storing a fill"), "{err}");
    assert_eq!(store.fills("journaled").await.unwrap().len(), 2);
    assert!(
        store
            .trading("journaled")
            .await
            .unwrap()
            .open_orders
            .is_empty()
    );
}

#[tokio::test]
async fn the_trading_journal_round_trips_through_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    round_trip(&stratbox::store::Store::open(&url).await.unwrap()).await;
}

#[tokio::test]
async fn the_trading_journal_round_trips_through_postgresql() {
    let schema = common::PgSchema::create("stratbox_j").await;
    let store = stratbox::store::Store::open(&schema.url).await.unwrap();
    round_trip(&store).await;
    drop(store);
    schema.drop_all().await;
}

#[tokio::test]
async fn the_journal_writer_keeps_what_it_can_of_a_batch_the_store_refuses() {
    use stratbox::journal::{Journal, JournalEntry};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let store = stratbox::store::Store::open(&url).await.unwrap();
    let (entries, _) = trading_entries();
    let (journal, writer) = stratbox::store::StoreJournal::start(store.clone());
    // The same trade twice in one batch: the batch fails, the second copy alone is dropped.
    for e in entries.iter().chain(&entries[1..2]) {
        journal.record(e.clone());
    }
    journal.record(JournalEntry::Balance {
        deployment: "journaled".into(),
        asset: "ETH".into(),
        free: Fixed::from_int(2),
        locked: Fixed::ZERO,
    });
    drop(journal);
    writer.await.unwrap();
    assert_eq!(store.fills("journaled").await.unwrap().len(), 2);
    let record = store.trading("journaled").await.unwrap();
    assert_eq!(record.balances.len(), 3, "{:?}", record.balances);
    assert_eq!(record.open_orders.len(), 1);
}

#[tokio::test]
async fn entries_recorded_together_are_kept_together_or_not_at_all() {
    use stratbox::journal::{Journal, JournalEntry};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let store = stratbox::store::Store::open(&url).await.unwrap();
    let (entries, _) = trading_entries();
    let (journal, writer) = stratbox::store::StoreJournal::start(store.clone());
    let progress = journal.progress();
    let balance = |asset: &str, free: i64| JournalEntry::Balance {
        deployment: "journaled".into(),
        asset: asset.into(),
        free: Fixed::from_int(free),
        locked: Fixed::ZERO,
    };
    journal.record_all(entries.clone());
    // A fill's effects with the fill itself stored twice: the store refuses that trade, and the
    // balance recorded with it goes with it, while the groups around it are kept.
    journal.record(balance("ETH", 2));
    journal.record_all(vec![balance("SOL", 7), entries[1].clone()]);
    journal.record_all(vec![balance("ADA", 3), balance("DOT", 4)]);
    // Each group counts once: four recorded, one refused.
    let mark = progress.mark();
    drop(journal);
    writer.await.unwrap();
    let e = progress.committed(mark).await.unwrap_err();
    assert!(e.contains("refused 1"), "{e}");
    assert_eq!(store.fills("journaled").await.unwrap().len(), 2);
    let assets: Vec<String> = store
        .trading("journaled")
        .await
        .unwrap()
        .balances
        .into_iter()
        .map(|(asset, _, _)| asset)
        .collect();
    for kept in ["ETH", "ADA", "DOT"] {
        assert!(assets.iter().any(|a| a == kept), "{kept} kept: {assets:?}");
    }
    assert!(
        !assets.iter().any(|a| a == "SOL"),
        "SOL went with its group: {assets:?}"
    );
}
