//! `stratbox exchange-sim`: run the Binance-compatible simulator on loopback.

use crate::feeds::candles;
use crate::feeds::replay::parse_interval;
use crate::sim::{Credential, Faults, SimAccounts, SimConfig, SimMarket, parse_balances};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `stratbox exchange-sim`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9400")]
    listen: SocketAddr,
    /// Candle CSV to serve; a seeded market is generated without it.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Symbol served; a generated market may serve several, comma-separated
    /// (`BTCUSDT,ETHUSDT,...`), each with its own seeded prices, book and trades.
    #[arg(long, default_value = "BTCUSDT", value_delimiter = ',')]
    symbol: Vec<String>,
    /// Interval served.
    #[arg(long, default_value = "1m")]
    interval: String,
    /// Seed of the generated market.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Candles in the generated market.
    #[arg(long, default_value_t = 100_000)]
    candles: usize,
    /// Faults to inject, e.g. `429=5,malformed=7,slow=20,drop=500,skip=50,garbage=30`; for
    /// trading `ack_delay=<ms>,ack_drop=<k>,stream_drop=<k>,dup=<k>,swap=<k>,drift=<ms>`.
    #[arg(long, default_value = "")]
    faults: String,
    /// Milliseconds between depth diffs.
    #[arg(long, default_value_t = 100)]
    book_ms: u64,
    /// Candles released per second on the kline stream (0: all history at once, no live klines).
    #[arg(long, default_value_t = 0.0)]
    bars_per_second: f64,
    /// Recorded trades to replay with the candles (`timestamp_ms,trade_id,type,side,price,amount,cost`).
    #[arg(long)]
    trades: Option<PathBuf>,
    /// New orders an account may place in ten seconds (Binance's ORDERS limit: 100); raise it
    /// for load tests.
    #[arg(long, default_value_t = 100)]
    orders_per_10s: usize,
    /// New orders an account may place in a day (Binance's: 200,000).
    #[arg(long, default_value_t = 200_000)]
    orders_per_day: u64,
    /// Request weight all clients may use in a minute (Binance's: 6000).
    #[arg(long, default_value_t = crate::sim::WEIGHT_LIMIT)]
    weight_limit: u64,
    /// The accounts' maker commission rate, a fraction (Binance's standard: 0.001).
    #[arg(long, default_value = "0.001")]
    maker_fee: crate::model::Fixed,
    /// The accounts' taker commission rate, a fraction (Binance's standard: 0.001).
    #[arg(long, default_value = "0.001")]
    taker_fee: crate::model::Fixed,
    /// The accounts pay their commissions in BNB at Binance's 25 % discount when they hold
    /// enough BNB (Binance's "use BNB to pay fees"), at the price of a BNB symbol traded here
    /// (e.g. `--symbol BTCUSDT,BNBUSDT`).
    #[arg(long)]
    bnb_burn: bool,
    /// A trading account's API key; each account is an `--api-key` followed by its
    /// `--api-secret` (HMAC) or `--ed25519-key` (or both) and its `--balances`.
    #[arg(long)]
    api_key: Vec<String>,
    /// The account's HMAC secret.
    #[arg(long, hide_env_values = true)]
    api_secret: Vec<String>,
    /// The account's Ed25519 public key (a PEM file), for Ed25519-signed requests.
    #[arg(long)]
    ed25519_key: Vec<PathBuf>,
    /// The account's starting balances, e.g. `USDT=10000,BTC=1`.
    #[arg(long)]
    balances: Vec<String>,
}

/// The accounts the flags describe (each flag belongs to the `--api-key` before it), or what
/// is wrong with them.
fn accounts(args: &Args, matches: &clap::ArgMatches) -> anyhow::Result<SimAccounts> {
    let positions = |id: &str| -> Vec<usize> {
        matches
            .indices_of(id)
            .map(|i| i.collect())
            .unwrap_or_default()
    };
    let keys = positions("api_key");
    // The account a flag at `at` belongs to: the last --api-key before it.
    let owner = |at: usize| keys.iter().rposition(|&k| k < at);
    let mut secrets = vec![None; keys.len()];
    let mut ed_keys = vec![None; keys.len()];
    let mut balances = vec![None; keys.len()];
    let place = |id: &str, slots: &mut Vec<Option<usize>>| -> anyhow::Result<()> {
        for (n, at) in positions(id).into_iter().enumerate() {
            let flag = id.replace('_', "-");
            let Some(i) = owner(at) else {
                anyhow::bail!("--{flag} must follow the --api-key of its account");
            };
            if slots[i].replace(n).is_some() {
                anyhow::bail!("account {:?} has --{flag} twice", args.api_key[i]);
            }
        }
        Ok(())
    };
    place("api_secret", &mut secrets)?;
    place("ed25519_key", &mut ed_keys)?;
    place("balances", &mut balances)?;
    let mut accounts = SimAccounts::default();
    for (i, key) in args.api_key.iter().enumerate() {
        let credential = match (secrets[i], ed_keys[i]) {
            (Some(s), None) => Credential::Hmac(args.api_secret[s].as_bytes().to_vec()),
            (None, Some(e)) => {
                let path = &args.ed25519_key[e];
                let pem = std::fs::read_to_string(path)
                    .with_context(|| format!("--ed25519-key {}", path.display()))?;
                Credential::ed25519_pem(&pem)
                    .with_context(|| format!("--ed25519-key {}", path.display()))?
            }
            _ => anyhow::bail!(
                "give each account an --api-key, then an --api-secret or an --ed25519-key, and --balances (account {key:?})"
            ),
        };
        let Some(b) = balances[i] else {
            anyhow::bail!(
                "give each account an --api-key, then an --api-secret or an --ed25519-key, and --balances (account {key:?} has no --balances)"
            );
        };
        accounts.open(key, credential, parse_balances(&args.balances[b])?)?;
    }
    Ok(accounts)
}

pub fn run(args: Args, matches: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    let faults: Faults = args.faults.parse()?;
    let accounts = accounts(&args, matches)?;
    let step = parse_interval(&args.interval)
        .with_context(|| format!("--interval {:?}: use e.g. 1m, 5m, 1h", args.interval))?;
    let mut symbols: Vec<String> = args
        .symbol
        .iter()
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    let mut seen = std::collections::HashSet::new();
    symbols.retain(|s| seen.insert(s.clone()));
    if symbols.is_empty() {
        anyhow::bail!("--symbol: name at least one symbol, e.g. BTCUSDT");
    }
    if let Some(bad) = symbols
        .iter()
        .find(|s| !s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        anyhow::bail!("--symbol {bad:?}: a symbol is letters and digits, e.g. BTCUSDT");
    }
    let markets = match &args.data {
        Some(_) if symbols.len() > 1 => {
            anyhow::bail!("--data serves one symbol's candles; name one --symbol, not {symbols:?}")
        }
        Some(path) => {
            let rows = candles::read_file(path)?;
            if let Some(w) = rows
                .windows(2)
                .find(|w| (w[1].open_time - w[0].open_time) % i64::from(step) != 0)
            {
                anyhow::bail!(
                    "{}: candles at {} and {} are not {} apart; is --interval right?",
                    path.display(),
                    w[0].open_time,
                    w[1].open_time,
                    args.interval
                );
            }
            vec![SimMarket::recorded(
                &symbols[0],
                &args.interval,
                i64::from(step),
                rows,
            )]
        }
        None => SimMarket::generated_set(
            &symbols,
            &args.interval,
            i64::from(step),
            args.candles,
            args.seed,
        ),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        println!(
            "exchange-sim listening on http://{}",
            listener.local_addr()?
        );
        let trades = match args.trades.as_deref() {
            Some(path) => crate::sim::live::read_trades(path).map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        let fees = crate::model::FeeRates {
            maker: args.maker_fee,
            taker: args.taker_fee,
        };
        for (flag, rate) in [("--maker-fee", fees.maker), ("--taker-fee", fees.taker)] {
            if rate < crate::model::Fixed::ZERO || rate > crate::model::Fixed::from_raw(5_000_000) {
                anyhow::bail!("{flag} {rate}: a commission rate is a fraction from 0 to 0.05");
            }
        }
        let config = SimConfig {
            faults,
            seed: args.seed,
            book_ms: args.book_ms,
            bars_per_second: args.bars_per_second,
            trades,
            order_limits: crate::sim::OrderLimits {
                per_10s: args.orders_per_10s,
                per_day: args.orders_per_day,
            },
            weight_limit: args.weight_limit,
            fees,
            bnb_burn: args.bnb_burn,
        };
        axum::serve(
            listener,
            crate::sim::router_with_accounts(markets, config, accounts),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
