//! The service's configuration file (TOML), resolved once at start-up: paths are made relative
//! to the file's directory, the control token is taken from the file or `STRATBOX_TOKEN`.

use crate::risk::Budget;
use crate::sandbox::{Grants, SandboxLimits};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration of `stratbox serve`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// The control endpoint.
    #[serde(default)]
    pub server: ServerConfig,
    /// The database.
    #[serde(default)]
    pub store: StoreConfig,
    /// Where market events come from.
    pub market: MarketConfig,
    /// The paper venue.
    #[serde(default)]
    pub execution: ExecutionConfig,
    /// Where orders go: the simulated venue above (the default) or a Binance account.
    #[serde(default)]
    pub venue: VenueConfig,
    /// Bounds every guest runs under.
    #[serde(default)]
    pub sandbox: SandboxLimits,
    /// Deployments to create at start-up when the database does not already hold them.
    #[serde(default)]
    pub deploy: Vec<DeployConfig>,
    /// Non-market sources to poll (Fear & Greed, FRED series, news feeds).
    #[serde(default)]
    pub sources: Vec<crate::feeds::sources::PollerConfig>,
    /// What the feature engine computes besides its defaults.
    #[serde(default)]
    pub features: crate::features::FeatureConfig,
    /// The model ensemble; without members nothing is predicted.
    #[serde(default)]
    pub inference: crate::inference::InferenceConfig,
    /// Limits over the whole account, every deployment together.
    #[serde(default)]
    pub risk: crate::risk::AccountLimits,
    /// Alert rules and where alerts are delivered.
    #[serde(default)]
    pub alerts: crate::monitor::alerts::AlertConfig,
    /// The host's own signal detectors; none without the section.
    #[serde(default)]
    pub signals: crate::signals::config::SignalsConfig,
    /// Retraining of the ensemble inside the service; none without the section.
    #[serde(default)]
    pub training: Option<crate::learning::retrain::TrainingConfig>,
}

/// The operators' HTTP endpoint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; keep it on loopback unless a proxy adds TLS.
    pub listen: SocketAddr,
    /// The administrator's bearer token (scope admin, named `admin`); `STRATBOX_TOKEN`
    /// overrides it.
    pub token: Option<String>,
    /// More tokens, each known by the SHA-256 of its secret (`stratbox token hash` prints it).
    pub tokens: Vec<TokenConfig>,
    /// Requests a token may make per second, on average.
    pub rate_limit_per_second: f64,
    /// Requests a token may make at once before its rate applies.
    pub rate_limit_burst: f64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7400)),
            token: None,
            tokens: Vec::new(),
            rate_limit_per_second: 100.0,
            rate_limit_burst: 200.0,
        }
    }
}

/// A token of `[[server.tokens]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it (shown in the audit log).
    pub name: String,
    /// `read`, `trade` or `admin`.
    pub scope: crate::api::Scope,
    /// Hex SHA-256 of its secret.
    pub sha256: String,
    /// Its own request rate (`{ per_second = 5, burst = 10 }`); `[server]`'s when absent.
    #[serde(default)]
    pub rate_limit: Option<crate::api::RateLimit>,
}

/// The database.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://path`; a file in the user's data directory by default.
    pub url: Option<String>,
    /// Directory for compiled components (private to this host); `components` in the user's
    /// data directory by default.
    pub component_cache: Option<PathBuf>,
}

/// Where market events come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarketSource {
    /// A candle file replayed at a pace.
    #[default]
    Replay,
    /// Binance spot (or the simulator, or the testnet) over REST and WebSocket.
    Binance,
    /// The built-in exchange simulator, started inside the service on loopback: a seeded,
    /// generated live market for each of `symbols`, followed as Binance is.
    Simulator,
}

/// The market.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Replay a file or connect to Binance.
    #[serde(default)]
    pub source: MarketSource,
    /// Replay: the candle CSV.
    pub data: Option<PathBuf>,
    /// Replay: the symbol of the candles.
    pub symbol: Option<String>,
    /// Candle interval (1m, 5m...); inferred for a replay when omitted.
    pub interval: Option<String>,
    /// Replay pace; 0 replays as fast as the engine takes them.
    #[serde(default = "default_pace")]
    pub bars_per_second: f64,
    /// Binance: REST base URL.
    pub rest: Option<String>,
    /// Binance: WebSocket base URL.
    pub ws: Option<String>,
    /// Binance: the symbols to subscribe to.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Binance: keep local order books.
    #[serde(default = "yes")]
    pub book: bool,
    /// Binance: take every single trade (`@trade`) instead of aggregate trades (`@aggTrade`).
    #[serde(default)]
    pub raw_trades: bool,
    /// Binance: subscribe to `@bookTicker` (the book's top, in real time; it is the book when
    /// `book = false`).
    #[serde(default)]
    pub book_ticker: bool,
    /// Binance: streams on one WebSocket connection before another is opened (Binance allows
    /// at most 1024).
    #[serde(default = "streams_per_connection")]
    pub streams_per_connection: usize,
    /// Records every market event the engine handles to this capture file (gzip when it ends
    /// in `.gz`), which `stratbox backtest --capture` replays.
    pub record: Option<PathBuf>,
    /// Stores every bar the engine handles as a candle of the history store (the service's
    /// database), replacing a stored candle of the same symbol, interval and open time.
    #[serde(default)]
    pub store_candles: bool,
    /// Simulator: the seed of its generated prices.
    #[serde(default = "one")]
    pub seed: u64,
    /// Simulator: candles it generates for each symbol (history and live).
    #[serde(default = "simulated_candles")]
    pub candles: usize,
}

fn one() -> u64 {
    1
}

fn simulated_candles() -> usize {
    100_000
}

fn streams_per_connection() -> usize {
    crate::feeds::binance::ws::MAX_STREAMS_PER_CONNECTION
}

fn yes() -> bool {
    true
}

fn default_pace() -> f64 {
    20.0
}

/// The simulated venue paper trading runs on.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutionConfig {
    /// One fee rate for both sides (older configurations); `maker_fee` and `taker_fee` win.
    pub fee: Option<f64>,
    /// Fee of executions that rested in the book, as a fraction of notional (negative: rebate).
    pub maker_fee: Option<f64>,
    /// Fee of executions that took liquidity.
    pub taker_fee: Option<f64>,
    /// Candle fill model: ticks by which market fills are worse than the price they fill at.
    pub slippage_ticks: u32,
    /// Candle fill model: probability that a resting limit fills on a bar reaching its price.
    pub limit_fill_probability: f64,
    /// Seed of the simulation's random draws.
    pub seed: u64,
    /// Book matcher: how resting orders advance in their queue (`risk-averse`, `power:N`,
    /// `power2:N`, `power3:N`, `log`, `log2`).
    pub queue: String,
    /// Latency from a strategy to the venue, in milliseconds.
    pub entry_latency_ms: i64,
    /// Latency from the venue back to the strategy, in milliseconds.
    pub response_latency_ms: i64,
    /// A recorded latency file (`req_ts,exch_ts,resp_ts` in nanoseconds) instead of constants.
    pub latency_file: Option<PathBuf>,
    /// Exchange rules of the symbols (an `exchangeInfo` answer saved to a file); without it
    /// symbols have no filters (a live Binance market's own are read when it starts).
    pub symbols: Option<PathBuf>,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig {
            fee: None,
            maker_fee: None,
            taker_fee: None,
            slippage_ticks: 0,
            limit_fill_probability: 1.0,
            seed: 1,
            queue: "risk-averse".into(),
            entry_latency_ms: 0,
            response_latency_ms: 0,
            latency_file: None,
            symbols: None,
        }
    }
}

impl ExecutionConfig {
    /// The fee rates: `maker_fee` / `taker_fee`, else `fee` for both, else Binance's 0.1 %.
    pub fn fees(&self) -> Result<crate::model::FeeRates, String> {
        let rate = |name: &str, x: Option<f64>| -> Result<Option<crate::model::Fixed>, String> {
            let Some(x) = x else { return Ok(None) };
            crate::model::Fixed::from_f64(x)
                .ok()
                .filter(|f| f.abs() < crate::model::Fixed::from_int(1))
                .map(Some)
                .ok_or_else(|| format!("execution.{name} {x} must be in (-1, 1)"))
        };
        let default = crate::model::FeeRates::default();
        let both = rate("fee", self.fee)?;
        Ok(crate::model::FeeRates {
            maker: rate("maker_fee", self.maker_fee)?
                .or(both)
                .unwrap_or(default.maker),
            taker: rate("taker_fee", self.taker_fee)?
                .or(both)
                .unwrap_or(default.taker),
        })
    }

    /// The simulated exchange these settings describe.
    pub fn exchange(&self) -> Result<crate::execution::venues::SimExchange, String> {
        let queue = self
            .queue
            .parse()
            .map_err(|e| format!("execution.queue: {e}"))?;
        Ok(crate::execution::venues::SimExchange::new(
            self.bar_fill()?,
            crate::execution::venues::BookFillConfig {
                fees: self.fees()?,
                queue,
                buyer_fee_in_base: false,
            },
        ))
    }

    /// The latency between strategies and the simulated exchange.
    pub fn latency(&self) -> Result<crate::execution::LatencyModel, String> {
        match &self.latency_file {
            Some(path) => {
                crate::execution::LatencyModel::from_file(path).map_err(|e| e.to_string())
            }
            None if self.entry_latency_ms < 0 || self.response_latency_ms < 0 => {
                Err("execution latencies must not be negative".into())
            }
            None => Ok(crate::execution::LatencyModel::constant(
                self.entry_latency_ms,
                self.response_latency_ms,
            )),
        }
    }

    /// The candle fill model's settings.
    pub fn bar_fill(&self) -> Result<crate::execution::venues::BarFillConfig, String> {
        if !(0.0..=1.0).contains(&self.limit_fill_probability) {
            return Err(format!(
                "execution.limit_fill_probability {} must be in [0, 1]",
                self.limit_fill_probability
            ));
        }
        Ok(crate::execution::venues::BarFillConfig {
            fees: self.fees()?,
            slippage_ticks: self.slippage_ticks,
            limit_fill_probability: self.limit_fill_probability,
            seed: self.seed,
        })
    }
}

/// Which venue orders go to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VenueKind {
    /// Paper trading on the matching simulator (`[execution]`).
    #[default]
    Simulated,
    /// A Binance spot account (Binance, its testnet or `stratbox exchange-sim`).
    Binance,
    /// Several Binance spot accounts (`[[venue.legs]]`), orders routed between them.
    Routed,
}

/// The `[venue]` section: a live exchange account instead of paper trading. Keys are read from
/// the environment (or a private key file), never from this file, never logged or stored.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VenueConfig {
    /// `simulated` or `binance`.
    pub kind: VenueKind,
    /// REST base URL, e.g. `https://api.binance.com` or `https://testnet.binance.vision`.
    pub rest: Option<String>,
    /// WebSocket API URL, e.g. `wss://ws-api.binance.com:443/ws-api/v3`.
    pub ws_api: Option<String>,
    /// The environment variable holding the API key.
    pub api_key_env: String,
    /// The environment variable holding an HMAC secret.
    pub api_secret_env: String,
    /// An Ed25519 private key (PKCS#8 PEM), used when the secret's variable is unset.
    pub private_key_file: Option<PathBuf>,
    /// Seconds between reconciliations with the exchange.
    pub reconcile_seconds: u64,
    /// Open orders on the account that are not ours: `report` them or `cancel` them.
    pub unknown_orders: crate::execution::binance::UnknownPolicy,
    /// Seconds between refreshes of the exchange's rules (`exchangeInfo` filters).
    pub rules_seconds: u64,
    /// Milliseconds an answer may take before the request's outcome counts as unknown and the
    /// order is queried (the stream usually settles it first); 100 to 60,000.
    pub answer_timeout_ms: u64,
    /// The venue's name (in metrics, the API and order routing).
    pub name: String,
    /// The exchange's market streams, e.g. `wss://stream.binance.com:9443`: each routed
    /// venue's own books are kept from them.
    pub streams: Option<String>,
    /// For `kind = "routed"`: the Binance accounts orders are routed between, the first the
    /// default one; each gives its `name`, `rest`, `ws_api`, `streams` and keys, and takes the
    /// reconciliation and rules settings of `[venue]`.
    pub legs: Vec<VenueConfig>,
}

impl Default for VenueConfig {
    fn default() -> Self {
        VenueConfig {
            kind: VenueKind::Simulated,
            rest: None,
            ws_api: None,
            api_key_env: "BINANCE_API_KEY".into(),
            api_secret_env: "BINANCE_API_SECRET".into(),
            private_key_file: None,
            reconcile_seconds: 30,
            unknown_orders: Default::default(),
            rules_seconds: 3600,
            answer_timeout_ms: 3000,
            name: "binance".into(),
            streams: None,
            legs: Vec::new(),
        }
    }
}

impl VenueConfig {
    /// The Binance accounts of the venue: itself, or its legs when routed (each with the
    /// shared settings of `[venue]`).
    pub fn accounts(&self) -> Result<Vec<VenueConfig>, String> {
        match self.kind {
            VenueKind::Simulated => Ok(Vec::new()),
            VenueKind::Binance => {
                self.endpoints()?;
                Ok(vec![self.clone()])
            }
            VenueKind::Routed => {
                if self.legs.len() < 2 {
                    return Err("venue.legs: a routed venue needs at least two accounts".into());
                }
                let mut names = std::collections::BTreeSet::new();
                self.legs
                    .iter()
                    .map(|leg| {
                        let what = format!("venue.legs {:?}", leg.name);
                        if leg.kind == VenueKind::Routed || !leg.legs.is_empty() {
                            return Err(format!("{what}: a leg is one Binance account"));
                        }
                        if !names.insert(leg.name.clone()) {
                            return Err(format!("{what}: two legs have that name"));
                        }
                        if leg.streams.is_none() {
                            return Err(format!(
                                "{what}: give its market streams (streams = \"wss://...\") for its books"
                            ));
                        }
                        let account = VenueConfig {
                            kind: VenueKind::Binance,
                            reconcile_seconds: self.reconcile_seconds,
                            unknown_orders: self.unknown_orders,
                            rules_seconds: self.rules_seconds,
                            answer_timeout_ms: self.answer_timeout_ms,
                            legs: Vec::new(),
                            ..leg.clone()
                        };
                        account.endpoints().map_err(|e| format!("{what}: {e}"))?;
                        Ok(account)
                    })
                    .collect()
            }
        }
    }

    /// The exchange's addresses, both required for a Binance venue.
    pub fn endpoints(&self) -> Result<crate::execution::binance::Endpoints, String> {
        let need = |name: &str, v: &Option<String>| {
            v.clone()
                .filter(|u| u.starts_with("http") || u.starts_with("ws"))
                .ok_or_else(|| format!("venue.{name}: give the exchange's URL"))
        };
        if self.reconcile_seconds == 0 || self.rules_seconds == 0 {
            return Err("venue.reconcile_seconds and venue.rules_seconds must be positive".into());
        }
        if !(100..=60_000).contains(&self.answer_timeout_ms) {
            return Err(format!(
                "venue.answer_timeout_ms {}: use 100 to 60000",
                self.answer_timeout_ms
            ));
        }
        Ok(crate::execution::binance::Endpoints {
            rest: need("rest", &self.rest)?.trim_end_matches('/').to_string(),
            ws_api: need("ws_api", &self.ws_api)?,
        })
    }
}

/// A deployment declared in the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// Its name.
    pub name: String,
    /// The component file.
    pub component: PathBuf,
    /// Configuration passed to `init` (JSON text).
    #[serde(default = "empty_object")]
    pub config: String,
    /// Its risk budget.
    pub budget: Budget,
    /// What its guests may reach beyond the contract (nothing by default).
    #[serde(default)]
    pub grants: Grants,
}

fn empty_object() -> String {
    "{}".to_string()
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with its place.
        message: String,
    },
}

impl ServiceConfig {
    /// Reads and validates `path`, resolving relative paths against its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let mut config: ServiceConfig =
            toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let invalid = |message: String| ConfigError::Invalid {
            path: shown.clone(),
            message,
        };
        config.risk.validate().map_err(&invalid)?;
        for source in &config.sources {
            source.validate().map_err(&invalid)?;
            // Every social source is a feature source too.
            if source.format.is_social() && !config.features.social.sources.contains(&source.name) {
                config.features.social.sources.push(source.name.clone());
            }
            let window_s = config.features.social.window_minutes.saturating_mul(60);
            // A poll waits up to a tenth longer than `every_s` (its jitter), and what it gets
            // is stamped when its request ends: the longest gap between two polls' posts, with
            // one request's timeout, must still fall inside one window.
            let request_s = crate::feeds::sources::REQUEST_TIMEOUT.as_secs();
            let longest_gap_s = source
                .every_s
                .saturating_add(source.every_s / 10)
                .saturating_add(request_s);
            if source.format.is_social() && longest_gap_s >= window_s {
                return Err(invalid(format!(
                    "sources.{}: every_s ({}) plus its tenth of jitter and one request's timeout ({request_s} s), {longest_gap_s} s, must be shorter than features.social.window_minutes ({} min), or its features read as unknown between polls",
                    source.name, source.every_s, config.features.social.window_minutes
                )));
            }
        }
        config.venue.accounts().map_err(&invalid)?;
        let key_file = |file: &mut Option<PathBuf>| {
            if let Some(f) = file.as_mut() {
                *f = base.join(&*f);
            }
        };
        key_file(&mut config.venue.private_key_file);
        config
            .venue
            .legs
            .iter_mut()
            .for_each(|leg| key_file(&mut leg.private_key_file));
        match config.market.source {
            MarketSource::Replay => {
                let data = config.market.data.as_ref().ok_or_else(|| {
                    invalid("market.data is required for source = \"replay\"".into())
                })?;
                config.market.data = Some(base.join(data));
                if config.market.symbol.is_none() {
                    return Err(invalid(
                        "market.symbol is required for source = \"replay\"".into(),
                    ));
                }
            }
            MarketSource::Simulator => {
                if config.market.symbols.is_empty() || config.market.candles < 100 {
                    return Err(invalid(
                        "source = \"simulator\" needs market.symbols and at least 100 market.candles".into(),
                    ));
                }
                config.market.interval.get_or_insert_with(|| "1m".into());
            }
            MarketSource::Binance => {
                if config.market.rest.is_none()
                    || config.market.ws.is_none()
                    || config.market.symbols.is_empty()
                    || config.market.interval.is_none()
                {
                    return Err(invalid("source = \"binance\" needs market.rest, market.ws, market.symbols and market.interval".into()));
                }
                let max = crate::feeds::binance::ws::MAX_STREAMS_PER_CONNECTION;
                if !(5..=max).contains(&config.market.streams_per_connection) {
                    return Err(invalid(format!(
                        "market.streams_per_connection = {}: use 5 to {max} (a symbol may need 5 streams; Binance allows {max})",
                        config.market.streams_per_connection
                    )));
                }
            }
        }
        config.inference.resolve(base);
        config
            .signals
            .validate()
            .map_err(|e| invalid(format!("[signals]: {e}")))?;
        if let Some(training) = &mut config.training {
            training.resolve(base);
            training
                .validate()
                .map_err(|e| invalid(format!("[training]: {e}")))?;
        }
        for path in [
            &mut config.execution.latency_file,
            &mut config.execution.symbols,
            &mut config.market.record,
        ]
        .into_iter()
        .flatten()
        {
            *path = base.join(&*path);
        }
        for deploy in &mut config.deploy {
            deploy.grants.resolve(base);
        }
        if let Some(dir) = &config.store.component_cache {
            config.store.component_cache = Some(base.join(dir));
        }
        if let Some(url) = &config.store.url
            && let Some(file) = url
                .strip_prefix("sqlite://")
                .filter(|f| !f.starts_with('/') && !f.starts_with(':'))
        {
            config.store.url = Some(format!("sqlite://{}", base.join(file).display()));
        }
        for d in &mut config.deploy {
            d.component = base.join(&d.component);
            d.budget.validate().map_err(|e| ConfigError::Invalid {
                path: shown.clone(),
                message: format!("deploy {:?}: {e}", d.name),
            })?;
        }
        if let Ok(token) = std::env::var("STRATBOX_TOKEN") {
            config.server.token = Some(token);
        }
        config
            .alerts
            .validate()
            .map_err(|message| ConfigError::Invalid {
                path: shown.clone(),
                message: format!("[alerts]: {message}"),
            })?;
        let server = &config.server;
        if !(server.rate_limit_per_second > 0.0 && server.rate_limit_burst >= 1.0) {
            return Err(ConfigError::Invalid {
                path: shown.clone(),
                message: "server.rate_limit_per_second must be above 0 and server.rate_limit_burst at least 1".into(),
            });
        }
        for t in &server.tokens {
            let hex = t.sha256.len() == 64 && t.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex || t.name.is_empty() || t.name == "admin" {
                return Err(ConfigError::Invalid {
                    path: shown.clone(),
                    message: format!(
                        "server.tokens {:?}: give a name other than admin and sha256 as 64 hex digits (stratbox token hash prints it)",
                        t.name
                    ),
                });
            }
            if let Some(Err(e)) = t.rate_limit.map(|r| r.check()) {
                return Err(ConfigError::Invalid {
                    path: shown.clone(),
                    message: format!("server.tokens {:?}: {e}", t.name),
                });
            }
        }
        if !(config.market.bars_per_second >= 0.0 && config.market.bars_per_second.is_finite()) {
            return Err(ConfigError::Invalid {
                path: shown,
                message: "market.bars_per_second must be 0 or positive".into(),
            });
        }
        Ok(config)
    }
}

/// The user's data directory for stratbox: `$XDG_DATA_HOME/stratbox` (or `~/.local/share/stratbox`).
pub fn default_data_dir() -> PathBuf {
    let dir = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("stratbox");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The default database: `stratbox.db` in [`default_data_dir`].
pub fn default_db_url() -> String {
    format!(
        "sqlite://{}",
        default_data_dir().join("stratbox.db").display()
    )
}
