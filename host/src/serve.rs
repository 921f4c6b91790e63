//! `stratbox serve`: the host as a long-lived service. Restores persisted deployments, creates
//! the configured ones, replays the market into the engine, serves the control endpoint, and on
//! SIGTERM or Ctrl-C stops the replay, drains the engine and flushes the journal.

use crate::api;
use crate::config::{MarketSource, ServiceConfig, VenueKind};
use crate::engine::service::{EngineService, EventSender};
use crate::engine::{Allowance, Engine, Inference, Version};
use crate::feeds::follow::{FeedTemplate, Followed};
use crate::feeds::recorder::CaptureWriter;
use crate::feeds::sources::Poller;
use crate::feeds::{MarketEvent, replay};
use crate::history::HistoryStore;
use crate::inference::{AccuracyTracker, InferenceService, ModelControl};
use crate::learning::retrain::{RetrainContext, Retrainer};
use crate::model::Bar;
use crate::model::SymbolId;
use crate::monitor::alerts::{AlertCenter, FeedSilence, Readings, samples};
use crate::sandbox::Runtime;
use crate::store::{Store, StoreJournal};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The sandbox could not be created.
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    /// The market data could not be read.
    #[error(transparent)]
    Replay(#[from] replay::ReplayError),
    /// The control endpoint could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Runs the service until `shutdown` completes. `on_ready` receives the control address once
/// the endpoint listens.
pub async fn serve(
    mut config: ServiceConfig,
    db_url: String,
    on_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let token = config
        .server
        .token
        .clone()
        .filter(|t| t.len() >= 8)
        .ok_or_else(|| {
            ServeError::Config(
                "set a control token of at least 8 characters in server.token or STRATBOX_TOKEN"
                    .into(),
            )
        })?;
    let exchange = config.execution.exchange().map_err(ServeError::Config)?;
    let latency = config.execution.latency().map_err(ServeError::Config)?;
    let interval = match &config.market.interval {
        Some(text) => Some(replay::parse_interval(text).ok_or_else(|| {
            ServeError::Config(format!("market.interval {text:?}: use e.g. 1m, 5m, 1h"))
        })?),
        None => None,
    };

    let simulator = match config.market.source {
        MarketSource::Simulator => Some(start_simulator(&mut config.market).await?),
        _ => None,
    };
    let store = Store::open(&db_url).await?;
    // Stored candles beside the service's own tables (VWAP profiles, retraining); optional.
    // Opened (its schema migrated) before the journal starts writing to the same database.
    let history = match HistoryStore::open(&db_url).await {
        Ok(h) => Some(Arc::new(h)),
        Err(e) => {
            tracing::warn!(
                "no history store (VWAP profiles, stored bars and retraining unavailable): {e}"
            );
            None
        }
    };
    let (journal, writer) = StoreJournal::start(store.clone());
    let accounts = config.venue.accounts().map_err(ServeError::Config)?;
    let mut lives = Vec::with_capacity(accounts.len());
    for account in &accounts {
        lives.push(live_venue(&config, account, journal.progress())?);
    }
    // Each live account's name and status, for metrics and the API.
    let live: Vec<(Arc<str>, Arc<crate::execution::binance::Shared>)> = accounts
        .iter()
        .zip(&lives)
        .map(|(a, l)| (Arc::from(a.name.as_str()), l.shared()))
        .collect();
    let venue: Box<dyn crate::execution::Venue> = match config.venue.kind {
        VenueKind::Simulated => Box::new(exchange),
        VenueKind::Binance => Box::new(lives.remove(0)),
        VenueKind::Routed => {
            use crate::execution::route::{Leg, Router, books::LegBooks};
            let runtime = tokio::runtime::Handle::current();
            let legs = accounts
                .iter()
                .zip(lives)
                .map(|(account, venue)| {
                    let books = LegBooks::new(
                        account.rest.as_deref().unwrap_or_default(),
                        account.streams.as_deref().unwrap_or_default(),
                        Some(runtime.clone()),
                        Some(venue.shared()),
                    );
                    for symbol in traded_symbols(&config) {
                        books.follow(&symbol);
                    }
                    Leg {
                        name: account.name.as_str().into(),
                        books: Arc::new(books),
                        venue: Box::new(venue),
                    }
                })
                .collect();
            Box::new(Router::new(legs).map_err(ServeError::Config)?)
        }
    };
    let journal_progress = journal.progress();
    let journal_alive = Arc::new(journal.alive());
    let tokens = Arc::new(tokens(&config, &token, &store).await?);
    let cache_dir = config
        .store
        .component_cache
        .clone()
        .unwrap_or_else(|| crate::config::default_data_dir().join("components"));
    let runtime = Runtime::new(config.sandbox.clone())?.with_disk_cache(cache_dir);
    let mut engine = Engine::new(runtime.clone(), Arc::new(journal), venue);
    engine.enforce_cpu_share(true);
    let metrics = Arc::new(crate::monitor::ServiceMetrics::default());
    metrics.watch_journal(journal_progress);
    engine.set_metrics(metrics.clone());
    if live.is_empty() {
        // The simulated venue's latency; a live exchange has its own.
        engine
            .orders()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_latency(latency);
    }
    for (name, shared) in &live {
        metrics.watch_venue(name.clone(), shared.clone());
    }
    engine
        .orders()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .set_account_limits(config.risk.clone());
    if let Some(path) = &config.execution.symbols {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ServeError::Config(format!("execution.symbols {}: {e}", path.display()))
        })?;
        engine
            .market()
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .instruments
            .describe(&text)
            .map_err(|e| {
                ServeError::Config(format!("execution.symbols {}: {e}", path.display()))
            })?;
    }
    engine
        .market()
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .features = crate::signals::with_detector_features(&config.features, &config.signals)
        .and_then(crate::features::FeatureEngine::new)
        .map_err(|e| ServeError::Config(format!("[features]: {e}")))?;
    let detectors = crate::signals::Detectors::new(
        &config.signals,
        &mut engine.market().write().unwrap_or_else(|p| p.into_inner()),
    )
    .map_err(|e| ServeError::Config(format!("[signals]: {e}")))?;
    engine.set_detectors(detectors);
    let market = &config.market;
    let symbols: Vec<(String, SymbolId)> = {
        let mut data = engine.market().write().unwrap_or_else(|p| p.into_inner());
        let names: Vec<String> = match market.source {
            MarketSource::Replay => market.symbol.iter().cloned().collect(),
            MarketSource::Binance | MarketSource::Simulator => market.symbols.clone(),
        };
        names
            .into_iter()
            .map(|n| (n.to_ascii_uppercase(), data.add_symbol(&n)))
            .collect()
    };
    let bars = match (&market.source, &market.data) {
        (MarketSource::Replay, Some(data)) => replay::read_candles(data, symbols[0].1, interval)?,
        _ => Vec::new(),
    };

    // The rules of the (default) exchange account's symbols.
    let rules = match accounts.first().and_then(|a| a.rest.clone()) {
        Some(rest) => {
            let rest = crate::feeds::binance::RestClient::new(&rest);
            venue_rules(&rest, engine.market())
                .await
                .map_err(ServeError::Config)?;
            Some(tokio::spawn(refresh_rules(
                rest,
                engine.market().clone(),
                Duration::from_secs(config.venue.rules_seconds),
            )))
        }
        None => None,
    };
    restore(&mut engine, &store, &config).await;
    let caught_up = match (&market.source, &market.rest, &market.interval, interval) {
        (
            MarketSource::Binance | MarketSource::Simulator,
            Some(rest),
            Some(interval_name),
            Some(interval_ms),
        ) => {
            let rest = crate::feeds::binance::RestClient::new(rest);
            let followed: Vec<&str> = symbols.iter().map(|(name, _)| name.as_str()).collect();
            catch_up_signals(&mut engine, &rest, interval_name, interval_ms, &followed).await
        }
        _ => Vec::new(),
    };
    let published: Arc<OnceLock<EventSender>> = Arc::new(OnceLock::new());
    let publisher = published.clone();
    let inference = InferenceService::start(
        move |p| {
            publisher
                .get()
                .is_none_or(|events| events.send(MarketEvent::Prediction(p)))
        },
        Duration::from_millis(config.inference.gather_ms),
    );
    let service_market = engine.market().clone();
    let models = Arc::new(ModelControl::new(
        inference.clone(),
        engine.market().clone(),
    ));
    if !config.inference.models.is_empty() {
        let status = models
            .load(&config.inference)
            .map_err(|e| ServeError::Config(format!("[inference]: {e}")))?;
        tracing::info!(device = %status.device, members = status.members.len(), "ensemble loaded");
    }
    engine.set_inference(Inference::Background(inference.clone()));
    let names: Vec<String> = symbols.iter().map(|(n, _)| n.clone()).collect();
    let retrainer = match &config.training {
        Some(training) => Some(start_retraining(
            training,
            &names,
            interval.or(bars.first().map(|b| b.interval_ms)),
            &config.features,
            &mut engine,
            history.clone(),
            store.clone(),
            models.clone(),
            &config.inference,
        )?),
        None => None,
    };
    let bar_store = if config.market.store_candles || retrainer.is_some() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bar>();
        engine.set_bar_tap(Box::new(move |bar| {
            let _ = tx.send(*bar);
        }));
        let clock = retrainer.clone();
        let advance = move |t: i64| {
            if let Some(r) = &clock {
                r.advance(t)
            }
        };
        Some(match (config.market.store_candles, &history) {
            (true, Some(h)) => tokio::spawn(crate::history::live::store_bars(
                h.clone(),
                engine.market().clone(),
                rx,
                advance,
            )),
            (true, None) => {
                return Err(ServeError::Config(
                    "market.store_candles: the history store did not open".into(),
                ));
            }
            (false, _) => tokio::spawn(follow_clock(rx, advance)),
        })
    } else {
        None
    };
    let recorder =
        match &config.market.record {
            Some(path) => Some(CaptureWriter::create(path).map_err(|e| {
                ServeError::Config(format!("market.record {}: {e}", path.display()))
            })?),
            None => None,
        };
    let service = Arc::new(EngineService::start_recording(engine, recorder));
    let _ = published.set(service.events());
    let mut sources = vec![tokio::spawn(replay_bars(
        service.events(),
        bars,
        market.bars_per_second,
    ))];
    let followed = match market.source {
        MarketSource::Replay => None,
        MarketSource::Binance | MarketSource::Simulator => {
            let followed = Arc::new(Followed::new(
                FeedTemplate {
                    rest: market.rest.clone().unwrap_or_default(),
                    ws: market.ws.clone().unwrap_or_default(),
                    interval: market.interval.clone().unwrap_or_default(),
                    interval_ms: i64::from(interval.unwrap_or(60_000)),
                    book: market.book,
                    raw_trades: market.raw_trades,
                    book_ticker: market.book_ticker,
                    streams_per_connection: market.streams_per_connection,
                },
                service.events(),
                service_market.clone(),
            ));
            if config.execution.symbols.is_none() && live.is_empty() {
                followed.fetch_rules().await;
            }
            for (name, open_time) in &caught_up {
                followed.resume_after(name, *open_time);
            }
            for (name, _) in &symbols {
                if let Err(e) = followed.start(name) {
                    tracing::error!(symbol = %name, "not followed: {e}");
                }
            }
            Some(followed)
        }
    };

    for source in &config.sources {
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        sources.push(tokio::spawn(Poller::new(source.clone()).run(tx)));
        let events = service.events();
        sources.push(tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if !events.send(MarketEvent::Source(event)) {
                    return;
                }
            }
        }));
        tracing::info!(source = %source.name, url = %source.url, "polling");
    }

    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.server.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: config.server.listen,
        source,
    })?;
    tracing::info!(%addr, db = %db_url, "control endpoint listening");
    on_ready(addr);
    let alerts = Arc::new(AlertCenter::new(&config.alerts));
    let watcher = tokio::spawn(watch_alerts(
        alerts.clone(),
        service.clone(),
        followed.clone(),
        metrics.clone(),
        retrainer.clone(),
        Duration::from_millis(config.alerts.evaluate_ms),
    ));
    let app = api::router(api::ApiContext {
        service: service.clone(),
        models,
        feeds: followed.clone(),
        metrics,
        store: store.clone(),
        tokens,
        limiter: Arc::new(api::RateLimiter::new(
            config.server.rate_limit_per_second,
            config.server.rate_limit_burst,
        )),
        journal_alive,
        alerts,
        venue: live,
        history,
        training: retrainer.clone(),
    });
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("control endpoint failed: {e}");
    }

    tracing::info!("shutting down: stopping the replay, draining the engine, flushing the journal");
    watcher.abort();
    let _ = watcher.await;
    if let Some(rules) = rules {
        rules.abort();
    }
    if let Some(simulator) = simulator {
        simulator.abort();
    }
    if let Some(followed) = &followed {
        followed.stop_all().await;
    }
    for source in sources {
        source.abort();
    }
    if let Some(retrainer) = retrainer {
        drop(tokio::task::spawn_blocking(move || retrainer.stop()).await);
    }
    drop(
        tokio::task::spawn_blocking(move || {
            if let Some(engine) = service.shutdown() {
                engine.journal_pending_signals();
            }
        })
        .await,
    );
    // The engine is gone with its bar tap: the store ends once it has stored the last bars.
    if let Some(bar_store) = bar_store
        && tokio::time::timeout(Duration::from_secs(10), bar_store)
            .await
            .is_err()
    {
        tracing::warn!("the last bars were not all stored within 10 s");
    }
    inference.stop();
    let _ = writer.await;
    tracing::info!("stopped");
    Ok(())
}

/// The Binance account `venue` (`[venue]` or one of its legs) describes, its credentials from
/// the environment or a key file, its orders sent once `progress` has committed their rows.
fn live_venue(
    config: &ServiceConfig,
    venue: &crate::config::VenueConfig,
    progress: crate::journal::JournalProgress,
) -> Result<crate::execution::binance::LiveVenue, ServeError> {
    use crate::execution::binance::{Credentials, LiveSettings, LiveVenue};
    let endpoints = venue.endpoints().map_err(ServeError::Config)?;
    let credentials = Credentials::from_env(
        &venue.api_key_env,
        &venue.api_secret_env,
        venue.private_key_file.as_deref(),
    )
    .map_err(|e| ServeError::Config(format!("[venue] {:?}: {e}", venue.name)))?;
    tracing::info!(venue = %venue.name, rest = %endpoints.rest, ws_api = %endpoints.ws_api, ed25519 = credentials.is_ed25519(), "trading on a Binance account");
    Ok(LiveVenue::start(
        LiveSettings {
            endpoints,
            reconcile_every: Duration::from_secs(venue.reconcile_seconds),
            answer_timeout: Duration::from_millis(venue.answer_timeout_ms),
            unknown_orders: venue.unknown_orders,
            fees: config.execution.fees().map_err(ServeError::Config)?,
            symbols: traded_symbols(config),
        },
        credentials,
        Some(progress),
    ))
}

/// The configured symbols, upper case.
fn traded_symbols(config: &ServiceConfig) -> Vec<String> {
    let symbols = match config.market.source {
        MarketSource::Replay => config.market.symbol.iter().cloned().collect(),
        _ => config.market.symbols.clone(),
    };
    symbols.iter().map(|s| s.to_ascii_uppercase()).collect()
}

/// Reads the exchange's rules (`exchangeInfo` through `rest`) into `market`'s instruments.
async fn venue_rules(
    rest: &crate::feeds::binance::RestClient,
    market: &Arc<std::sync::RwLock<crate::market::MarketData>>,
) -> Result<(), String> {
    let info = rest
        .exchange_info()
        .await
        .map_err(|e| format!("the venue's rules ({}): {e}", rest.base()))?;
    market
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .instruments
        .describe(&info.raw)
        .map(|symbols| tracing::debug!(symbols, "the venue's rules read"))
        .map_err(|e| format!("the venue's rules ({}): {e}", rest.base()))
}

/// Reads the venue's rules again every `every`, until aborted.
async fn refresh_rules(
    rest: crate::feeds::binance::RestClient,
    market: Arc<std::sync::RwLock<crate::market::MarketData>>,
    every: Duration,
) {
    let mut timer = tokio::time::interval(every);
    timer.tick().await;
    loop {
        timer.tick().await;
        if let Err(e) = venue_rules(&rest, &market).await {
            tracing::warn!("{e}; the last rules stay");
        }
    }
}

/// Starts the exchange simulator for `market`'s symbols on a loopback port and points the
/// market at it as a Binance source.
async fn start_simulator(
    market: &mut crate::config::MarketConfig,
) -> Result<tokio::task::JoinHandle<()>, ServeError> {
    let interval = market.interval.clone().unwrap_or_else(|| "1m".into());
    let step = replay::parse_interval(&interval)
        .ok_or_else(|| ServeError::Config(format!("market.interval {interval:?}: use e.g. 1m")))?;
    let markets = crate::sim::SimMarket::generated_set(
        &market.symbols,
        &interval,
        i64::from(step),
        market.candles,
        market.seed,
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { addr, source })?;
    let config = crate::sim::SimConfig {
        faults: Default::default(),
        seed: market.seed,
        book_ms: 100,
        bars_per_second: market.bars_per_second,
        ..Default::default()
    };
    let router = crate::sim::router(markets, config);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!("the exchange simulator stopped: {e}");
        }
    });
    tracing::info!(%local, symbols = ?market.symbols, "exchange simulator started");
    market.source = MarketSource::Binance;
    market.rest = Some(format!("http://{local}"));
    market.ws = Some(format!("ws://{local}"));
    Ok(task)
}

/// Starts retraining as `[training]` says, with the engine's tracker of live accuracy.
#[allow(clippy::too_many_arguments)]
fn start_retraining(
    training: &crate::learning::retrain::TrainingConfig,
    symbols: &[String],
    market_interval_ms: Option<u32>,
    features: &crate::features::FeatureConfig,
    engine: &mut Engine,
    history: Option<Arc<HistoryStore>>,
    store: Store,
    models: Arc<ModelControl>,
    inference: &crate::inference::InferenceConfig,
) -> Result<Arc<Retrainer>, ServeError> {
    let refused = |e: String| ServeError::Config(format!("[training]: {e}"));
    let history = history
        .ok_or_else(|| refused("the history store the candles come from did not open".into()))?;
    let baselines = crate::inference::Baselines::default();
    let accuracy = Arc::new(Mutex::new(crate::inference::AccuracyStatus::default()));
    let retrainer = Retrainer::start(
        training.clone(),
        symbols,
        market_interval_ms,
        features,
        RetrainContext {
            history,
            store,
            models,
            runtime: tokio::runtime::Handle::current(),
            template: inference.clone(),
            output: training
                .output
                .clone()
                .unwrap_or_else(|| crate::config::default_data_dir().join("models")),
            baselines: baselines.clone(),
            accuracy: accuracy.clone(),
        },
    )
    .map_err(refused)?;
    engine.set_accuracy_tracker(AccuracyTracker::new(
        retrainer.label(),
        retrainer.interval_ms(),
        baselines,
        accuracy,
    ));
    Ok(retrainer)
}

/// Follows market time by the bars the engine handles, for retraining when bars are not
/// stored by the service.
async fn follow_clock(mut bars: tokio::sync::mpsc::UnboundedReceiver<Bar>, advance: impl Fn(i64)) {
    while let Some(bar) = bars.recv().await {
        advance(bar.close_time());
    }
}

/// Evaluates the alert rules every `period` on the risk report, the deployments, the live
/// feeds and the journal, until aborted.
async fn watch_alerts(
    alerts: Arc<AlertCenter>,
    service: Arc<crate::engine::service::EngineService>,
    feeds: Option<Arc<Followed>>,
    metrics: Arc<crate::monitor::ServiceMetrics>,
    training: Option<Arc<Retrainer>>,
    period: Duration,
) {
    let mut silence = FeedSilence::default();
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let risk = service
            .risk(crate::engine::service::RiskCommand::Report)
            .await;
        let deployments = service.command(crate::engine::service::Command::List).await;
        let (Ok(risk), Ok(deployments)) = (risk, deployments) else {
            return;
        };
        let feeds = feeds.as_ref().map(|f| f.counters()).unwrap_or_default();
        let training = training.as_ref().map(|t| t.status());
        let readings = Readings {
            risk: &risk,
            deployments: &deployments,
            feeds: &feeds,
            journal_backlog: metrics.journal_backlog(),
            training: training.as_ref(),
        };
        let now = crate::model::time::wall_clock_ms();
        alerts.observe(&samples(&readings, &mut silence, now), now);
    }
}

/// The tokens the API accepts: `server.token` as `admin`, `[[server.tokens]]`, and those
/// created through the API (from the store).
async fn tokens(
    config: &ServiceConfig,
    admin: &str,
    store: &Store,
) -> Result<api::TokenRegistry, ServeError> {
    let registry = api::TokenRegistry::default();
    let from_config = |name: &str, scope, rate_limit| api::TokenInfo {
        name: name.to_string(),
        scope,
        source: api::TokenSource::Config,
        rate_limit,
    };
    registry.insert(
        api::hash_secret(admin),
        from_config("admin", api::Scope::Admin, None),
    );
    for t in &config.server.tokens {
        registry.insert(
            t.sha256.clone(),
            from_config(&t.name, t.scope, t.rate_limit),
        );
    }
    for row in store.tokens().await? {
        let scope = row
            .scope
            .parse()
            .map_err(|e| ServeError::Config(format!("stored token {:?}: {e}", row.name)))?;
        if registry.named(&row.name).is_some() {
            tracing::warn!(token = %row.name, "a stored token has the name of a configured one; the configured one wins");
            continue;
        }
        registry.insert(
            row.sha256,
            api::TokenInfo {
                name: row.name,
                scope,
                source: api::TokenSource::Api,
                rate_limit: row.rate_limit,
            },
        );
    }
    Ok(registry)
}

/// Re-creates persisted deployments, then the configured ones the database does not hold.
/// A deployment that cannot start is logged and skipped: one broken component must not keep
/// the host down.
async fn restore(engine: &mut Engine, store: &Store, config: &ServiceConfig) {
    let records = match store.deployments().await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot read persisted deployments: {e}");
            Vec::new()
        }
    };
    for record in &records {
        let state = store.state(&record.name).await.unwrap_or_else(|e| {
            tracing::error!(deployment = %record.name, "state not restored: {e}");
            Default::default()
        });
        let allowance = Allowance {
            budget: record.budget.clone(),
            grants: record.grants.clone(),
        };
        let result = engine
            .deploy_allowed(
                &record.name,
                record.current.bytes.clone(),
                record.current.config.clone(),
                allowance,
                state,
            )
            .and_then(|()| match &record.previous {
                Some(prev) => {
                    let compiled = engine.runtime().compile(&prev.bytes)?;
                    engine.set_previous(
                        &record.name,
                        Version {
                            compiled,
                            bytes: prev.bytes.clone(),
                            config: prev.config.clone(),
                        },
                    )
                }
                None => Ok(()),
            })
            .and_then(|()| match &record.halted_reason {
                Some(reason) => engine.halt(&record.name, reason),
                None => Ok(()),
            });
        match result {
            Ok(()) => tracing::info!(deployment = %record.name, "restored"),
            Err(e) => {
                tracing::error!(deployment = %record.name, "not restored: {e}");
                continue;
            }
        }
        restore_trading(engine, store, &record.name).await;
    }
    match store.trading_states().await {
        Ok(states) => {
            for (name, record) in states {
                engine.restore_trading_state(name.as_deref(), record);
            }
        }
        Err(e) => tracing::error!("trading states not restored: {e}"),
    }
    match store.next_ids().await {
        Ok((orders, trades)) => engine
            .orders()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .resume_ids(orders, trades),
        Err(e) => tracing::error!("order and trade ids not restored: {e}"),
    }
    restore_signals(engine, store).await;
    for d in &config.deploy {
        if records.iter().any(|r| r.name == d.name) {
            continue;
        }
        let result = std::fs::read(&d.component)
            .map_err(|e| format!("cannot read {}: {e}", d.component.display()))
            .and_then(|bytes| {
                let allowance = Allowance {
                    budget: d.budget.clone(),
                    grants: d.grants.clone(),
                };
                engine
                    .deploy_allowed(
                        &d.name,
                        bytes.into(),
                        d.config.clone(),
                        allowance,
                        Default::default(),
                    )
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = result {
            tracing::error!(deployment = %d.name, "configured deployment not started: {e}");
        }
    }
}

/// Follows on the signals that were waiting for their horizon when the service stopped, and
/// starts their quality from the stored outcomes. What cannot be read is logged and left in
/// the store as it is.
async fn restore_signals(engine: &mut Engine, store: &Store) {
    let stored = store.pending_signals().await.unwrap_or_else(|e| {
        tracing::error!("waiting signals not restored: {e}");
        // New ids beyond any a store of this service could hold, so that no stored row is
        // overwritten: a thousand per millisecond of the wall clock.
        let wall_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        crate::store::StoredPending {
            largest_id: wall_ms.saturating_mul(1_000),
            ..Default::default()
        }
    });
    for problem in &stored.problems {
        tracing::error!("a waiting signal not restored: {problem}");
    }
    let outcomes = store.recent_signal_outcomes().await.unwrap_or_else(|e| {
        tracing::error!("signal quality not restored (it starts empty): {e}");
        Vec::new()
    });
    if !(stored.records.is_empty() && outcomes.is_empty()) {
        tracing::info!(
            pending = stored.records.len(),
            outcomes = outcomes.len(),
            "signals restored"
        );
    }
    engine.restore_signals(stored.records, stored.largest_id, &outcomes);
}

/// Fetches the closed bars each followed symbol's restored signals missed while the service
/// was down, up to the one that ends the last of their horizons, and takes them into their
/// outcomes, every symbol's in time order as they came (a signal is followed on only over
/// every bar of its horizon: without them it would be dropped at the gap). Returns the symbols
/// whose signals may still wait after them, each with the open time of its last bar taken in
/// (or of the one before the first they need, when none had closed), for its live feed to go
/// on after: the exchange had no later closed bar. A symbol whose bars cannot be fetched is
/// logged; its signals are dropped at the gap as before.
async fn catch_up_signals(
    engine: &mut Engine,
    rest: &crate::feeds::binance::RestClient,
    interval: &str,
    interval_ms: u32,
    followed: &[&str],
) -> Vec<(String, i64)> {
    let step = i64::from(interval_ms);
    let mut missed = Vec::new();
    let mut still_waiting = Vec::new();
    for (symbol, point) in engine.signal_catch_up_points() {
        let id = engine
            .market()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .symbols()
            .id(&symbol);
        let Some(id) = id.filter(|_| followed.contains(&&*symbol)) else {
            continue;
        };
        // Only candles closed before the question was asked: the exchange also sends the one
        // still open.
        let asked_at = crate::model::time::wall_clock_ms();
        // Up to the bar closing at or after the last horizon.
        let until = point.due.saturating_add(step);
        let candles = match rest
            .klines_between(&symbol, interval, step, point.from, until)
            .await
        {
            Ok(candles) => candles,
            Err(e) => {
                tracing::error!(%symbol, "bars missed since {} not fetched: {e}", point.from);
                continue;
            }
        };
        let bars: Vec<Bar> = candles
            .iter()
            .filter(|c| c.open_time + step <= asked_at)
            .map(|c| c.to_bar(id, interval_ms))
            .collect();
        tracing::info!(%symbol, bars = bars.len(), "bars missed while down fetched for the waiting signals");
        let last_open = bars.last().map_or(point.from - step, |b| b.open_time);
        if last_open + step < point.due {
            still_waiting.push((symbol.to_string(), last_open));
        }
        missed.extend(bars);
    }
    // As the bars came: the tracker reads a bar's close as the time (it drops what waited a
    // day past its horizon by it).
    missed.sort_by_key(|b| (b.open_time, b.symbol));
    engine.catch_up_signals(&missed);
    still_waiting
}

/// Restores a restored deployment's balances, positions and open orders, if it has traded.
async fn restore_trading(engine: &mut Engine, store: &Store, name: &str) {
    let record = match store.trading(name).await {
        Ok(r) if r.balances.is_empty() => return,
        Ok(r) => r,
        Err(e) => {
            // Trading from the budget would overwrite the stored balances: halt it instead.
            let reason = format!(
                "its trading state could not be read from the store ({e}); halted so that \
                 nothing stored is overwritten: repair the store and restart, or resume it to \
                 trade from its budget"
            );
            tracing::error!(deployment = %name, "{reason}");
            if let Err(e) = engine.halt(name, &reason) {
                tracing::error!(deployment = %name, "could not halt it: {e}");
            }
            return;
        }
    };
    let Ok(id) = engine.deployment_id(name) else {
        return;
    };
    let stops = store.stops(name).await;
    let now = engine.now();
    let mut market = engine.market().write().unwrap_or_else(|p| p.into_inner());
    engine
        .orders()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .restore(id, &record, &mut market, now);
    tracing::info!(
        deployment = %name,
        balances = record.balances.len(),
        open_orders = record.open_orders.len(),
        "trading state restored"
    );
    match stops {
        Ok(stops) => {
            let stops: Vec<_> = stops
                .into_iter()
                .map(|(symbol, state)| (market.add_symbol(&symbol), state))
                .collect();
            engine
                .orders()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .restore_stops(id, stops);
        }
        Err(e) => {
            tracing::error!(deployment = %name, "protective stops not restored (new ones start from the positions): {e}")
        }
    }
}

/// Feeds bars to the engine at `per_second` (0: as fast as the queue takes them).
async fn replay_bars(events: EventSender, bars: Vec<crate::model::Bar>, per_second: f64) {
    if bars.is_empty() {
        return;
    }
    let mut ticker = (per_second > 0.0)
        .then(|| tokio::time::interval(std::time::Duration::from_secs_f64(1.0 / per_second)));
    for (i, bar) in bars.into_iter().enumerate() {
        match ticker.as_mut() {
            Some(t) => drop(t.tick().await),
            None if i % 1024 == 0 => tokio::task::yield_now().await,
            None => {}
        }
        if !events.send(MarketEvent::Bar(bar)) {
            return;
        }
    }
    if per_second > 0.0 {
        tracing::info!("replay finished");
    }
}
