//! `stratbox model`: run a PyTorch-exported model on a tensor file, describe one, or train the
//! host's own from candles.

use super::block_on;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::feeds::candles;
use crate::history::HistoryStore;
use crate::learning::evaluate::{EvaluateOptions, evaluate};
use crate::learning::train::{Progress, TrainConfig, TrainReport, train};
use crate::store::Store;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use stratbox_infer::{Compute, DeviceChoice, Manifest, Model, tensors};

/// Subcommands of `stratbox model`.
#[derive(clap::Subcommand, Debug)]
pub enum ModelCommand {
    /// Runs a model on the tensor `input` (batch, seq, features) of a safetensors file and writes
    /// its logits as the tensor `output` (batch, n_out).
    Run(RunArgs),
    /// Prints a manifest's architecture, parameter count and FLOPs per inference.
    Info(InfoArgs),
    /// Builds a training set from candle files through the feature engine, judges each model
    /// of `train.toml` out of sample on purged walk-forward folds, trains it on the latest
    /// window and writes it (manifest + safetensors) with `report.json` to `--output`.
    Train(TrainArgs),
    /// Judges the models `train` wrote on candles after their training data: scores, the
    /// information coefficient, shifted labels, and the trading result of the model follower
    /// on their predictions through the backtester.
    Evaluate(EvaluateArgs),
    /// Lists the model registry: every training run registered by `train --db`, with its data
    /// range, models and their out-of-sample log loss.
    List(ListArgs),
}

/// Arguments of `stratbox model evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// The directory `stratbox model train` wrote (train.toml, report.json, inference.json
    /// and the models).
    #[arg(long)]
    models: PathBuf,
    /// Candle files, one symbol each, named by the file; only their bars after the training
    /// data (and a label horizon) are judged.
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    #[command(flatten)]
    history: HistoryArgs,
    /// The history store `--symbol` reads (`sqlite://path` or `postgres://...`); the default
    /// SQLite file when omitted.
    #[arg(long, env = "STRATBOX_DB")]
    db: Option<String>,
    /// Writes the report as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// The model follower component that trades the predictions (default: the one built in
    /// strategies/target, or in $CARGO_TARGET_DIR, when it exists).
    #[arg(long)]
    strategy: Option<PathBuf>,
    /// Configurations tried in all (for the deflated Sharpe ratio; at least those evaluated).
    #[arg(long)]
    trials: Option<usize>,
    /// Fee of both sides as a fraction of notional.
    #[arg(long, default_value_t = 0.001)]
    fee: f64,
    /// Seed of the shifted labels and the bootstrap.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// The model follower built from the repository (into `strategies/target` or
/// `$CARGO_TARGET_DIR`), when it is.
fn built_model_follower() -> Option<Vec<u8>> {
    let built = "wasm32-wasip2/release/model_follower.wasm";
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| PathBuf::from(dir).join(built))
        .into_iter()
        .chain([PathBuf::from("strategies/target").join(built)])
        .find_map(|path| std::fs::read(path).ok())
}

/// `YYYY-MM-DD HH:MM` (UTC) of a time in ms since the epoch.
fn utc(ms: i64) -> String {
    crate::model::time::format_utc(ms, false)
}

/// `model train`'s progress on a terminal: the log above a bar of the current network's epochs
/// with its latest losses; elsewhere the log alone.
struct EpochBar(Option<ProgressBar>);

impl EpochBar {
    fn new() -> Self {
        EpochBar(std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] epoch {pos}/{len} {wide_msg}")
                    .expect("template")
                    .progress_chars("=> "),
            );
            bar
        }))
    }

    fn show(&self, progress: Progress<'_>) {
        let line = match progress {
            Progress::Line(line) => line,
            Progress::Epoch(e, line) => {
                if let Some(bar) = &self.0 {
                    bar.set_length(e.epochs as u64);
                    bar.set_position(e.epoch as u64);
                    // "name: epoch i/n: rest" shown as "name: rest" beside the bar.
                    let parts: Vec<&str> = line.splitn(3, ": ").collect();
                    bar.set_message(match parts[..] {
                        [name, _, rest] => format!("{name}: {rest}"),
                        _ => line.to_string(),
                    });
                }
                line
            }
        };
        match &self.0 {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Registers the run written to `output` (with `config`) in the registry at `url`.
fn register(
    url: &str,
    output: &std::path::Path,
    config: &str,
    report: &TrainReport,
) -> anyhow::Result<i64> {
    let version = crate::learning::registry::version_of(
        output,
        config,
        report,
        serde_json::to_value(report)?,
    )
    .map_err(anyhow::Error::msg)?;
    block_on(async {
        let store = Store::open(url).await?;
        Ok(store.register_model_version(&version).await?)
    })
    .with_context(|| format!("registering in {url}"))
}

/// Candle files as (name from the file, candles).
fn read_series(paths: &[PathBuf]) -> anyhow::Result<Vec<(String, Vec<candles::Candle>)>> {
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned());
            candles::read_file(path)
                .map(|rows| (name, rows))
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect()
}

/// Arguments of `stratbox model train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// What to learn and how: features, label, split, models (see examples/train.toml).
    #[arg(long)]
    config: PathBuf,
    /// Candle files (CSV or zip, Binance's kline columns), one symbol each, named by the file.
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    #[command(flatten)]
    history: HistoryArgs,
    /// The directory the models and report.json are written to.
    #[arg(long)]
    output: PathBuf,
    /// Registers the run in this database's model registry (`sqlite://path` or
    /// `postgres://...`; the service's store, where `GET /v1/models` lists it), and reads
    /// `--symbol`'s candles from its history store.
    #[arg(long, env = "STRATBOX_DB")]
    db: Option<String>,
}

/// Candles from the history store (`stratbox data import` / `fetch` put them there), of the
/// training config's interval.
#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// A symbol whose candles the history store at `--db` holds; repeatable.
    #[arg(long)]
    symbol: Vec<String>,
    /// First candle's open time (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] UTC, or ms).
    #[arg(long)]
    from: Option<String>,
    /// Last candle's open time.
    #[arg(long)]
    to: Option<String>,
}

/// The candles of `files` and of `history`'s symbols (from the store at `db`, or the default
/// one), as (name, candles); at least one source.
fn load_series(
    files: &[PathBuf],
    history: &HistoryArgs,
    interval: &str,
    db: Option<&str>,
) -> anyhow::Result<Vec<(String, Vec<candles::Candle>)>> {
    anyhow::ensure!(
        !files.is_empty() || !history.symbol.is_empty(),
        "give candle files (--data) or symbols of the history store (--symbol)"
    );
    let mut series = read_series(files)?;
    if history.symbol.is_empty() {
        return Ok(series);
    }
    let from = history
        .from
        .as_deref()
        .map(|t| super::data::time_arg("from", t))
        .transpose()?
        .unwrap_or(0);
    let to = history
        .to
        .as_deref()
        .map(|t| super::data::time_arg("to", t))
        .transpose()?
        .unwrap_or(i64::MAX);
    let url = db.map_or_else(crate::config::default_db_url, str::to_string);
    let stored = block_on(async {
        let store = HistoryStore::open(&url).await?;
        let mut out = Vec::new();
        for symbol in &history.symbol {
            // The store keeps symbols upper-case, as Binance names them.
            let symbol = symbol.to_ascii_uppercase();
            let candles = store.candles(&symbol, interval, from, to).await?;
            out.push((symbol, candles));
        }
        Ok(out)
    })
    .with_context(|| format!("reading candles from {url}"))?;
    for (symbol, candles) in stored {
        anyhow::ensure!(
            !candles.is_empty(),
            "no {interval} candles of {symbol} in {url} in that range (stratbox data import or fetch puts them there)"
        );
        series.push((symbol, candles));
    }
    Ok(series)
}

/// Arguments of `stratbox model list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// The database of the registry (`sqlite://path` or `postgres://...`); the default
    /// SQLite file when omitted.
    #[arg(long, env = "STRATBOX_DB")]
    db: Option<String>,
    /// Prints every version in full as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `stratbox model run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The manifest (JSON) written by `reference_models.export()`.
    #[arg(long)]
    manifest: PathBuf,
    /// The weights (safetensors, PyTorch state_dict names).
    #[arg(long)]
    weights: PathBuf,
    /// Safetensors file holding the f32 tensor `input`.
    #[arg(long)]
    input: PathBuf,
    /// Where to write the f32 tensor `output`.
    #[arg(long)]
    output: PathBuf,
    /// `auto` (a hardware GPU, else the CPU), `gpu` (any adapter, software ones included) or `cpu`.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
}

/// Arguments of `stratbox model info`.
#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// The manifest (JSON).
    manifest: PathBuf,
    /// Sequence length the FLOPs are counted for (the transformer's `seq_len` by default, else 64).
    #[arg(long)]
    seq: Option<usize>,
}

pub fn run(command: ModelCommand) -> anyhow::Result<ExitCode> {
    match command {
        ModelCommand::Run(args) => {
            let compute = Compute::select(args.device)?;
            let mut model = Model::load(&args.manifest, &args.weights, &compute)?;
            let input = tensors::read_array3(&args.input, "input")?;
            let started = std::time::Instant::now();
            let output = model
                .infer(input.view())
                .with_context(|| format!("running {}", args.manifest.display()))?;
            let elapsed = started.elapsed();
            tensors::write_array2s(&args.output, &[("output", &output)])?;
            eprintln!(
                "{} on {}: {} samples in {:.3} ms -> {}",
                model.manifest().arch(),
                compute.describe(),
                output.nrows(),
                elapsed.as_secs_f64() * 1e3,
                args.output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Train(args) => {
            let config = TrainConfig::load(&args.config).map_err(anyhow::Error::msg)?;
            let config_text = super::read_text(&args.config)?;
            let series = load_series(
                &args.data,
                &args.history,
                &config.interval,
                args.db.as_deref(),
            )?;
            let bar = EpochBar::new();
            let report = train(&config, &series, &args.output, |p| bar.show(p))
                .map_err(anyhow::Error::msg)?;
            bar.finish();
            eprintln!(
                "{} samples of {} symbol(s), {} test windows: models and report.json in {}",
                report.samples,
                report.symbols.len(),
                report.folds,
                args.output.display()
            );
            // What `model evaluate` reads back: the settings these models were made with.
            let kept = args.output.join("train.toml");
            std::fs::write(&kept, &config_text)
                .with_context(|| format!("writing {}", kept.display()))?;
            if let Some(url) = &args.db {
                let id = register(url, &args.output, &config_text, &report)?;
                eprintln!("registered as model version {id} in {url}");
            }
            let leaking = report.models.iter().any(|m| !m.shifted_at_chance);
            Ok(if leaking {
                eprintln!(
                    "a model beat chance on shifted labels: the evaluation leaks; it was not written"
                );
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        ModelCommand::Evaluate(args) => {
            let config =
                TrainConfig::load(&args.models.join("train.toml")).map_err(anyhow::Error::msg)?;
            let series = load_series(
                &args.data,
                &args.history,
                &config.interval,
                args.db.as_deref(),
            )?;
            let strategy = match &args.strategy {
                Some(path) => Some(super::read_file(path)?),
                None => built_model_follower(),
            };
            if strategy.is_none() {
                eprintln!(
                    "no trading results: give --strategy model_follower.wasm (build strategies/ for it)"
                );
            }
            let options = EvaluateOptions {
                strategy,
                trials: args.trials,
                fee: args.fee,
                seed: args.seed,
            };
            let report = evaluate(&args.models, &series, &options, |line| eprintln!("{line}"))
                .map_err(anyhow::Error::msg)?;
            let json = serde_json::to_string_pretty(&report)?;
            match &args.report {
                Some(path) => std::fs::write(path, json)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{json}"),
            }
            Ok(if report.models.iter().all(|m| m.shifted_at_chance) {
                ExitCode::SUCCESS
            } else {
                eprintln!("a model beat chance on shifted labels: its scores are suspect");
                ExitCode::FAILURE
            })
        }
        ModelCommand::List(args) => {
            let url = args.db.unwrap_or_else(crate::config::default_db_url);
            let versions = block_on(async {
                let store = Store::open(&url).await?;
                Ok(store.model_versions().await?)
            })
            .with_context(|| format!("reading the model registry in {url}"))?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&versions)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:>4} {:>6} {:<24} {:<17} {:<17} models (out-of-sample log loss)",
                "id", "parent", "symbols", "data from", "data to"
            );
            for v in &versions {
                let models: Vec<String> = v.report["models"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| {
                        let written = v
                            .weights_sha256
                            .contains_key(m["name"].as_str().unwrap_or(""));
                        format!(
                            "{} {:.4}{}",
                            m["name"].as_str().unwrap_or("?"),
                            m["out_of_sample"]["log_loss"].as_f64().unwrap_or(f64::NAN),
                            if written { "" } else { " (not written)" }
                        )
                    })
                    .collect();
                println!(
                    "{:>4} {:>6} {:<24} {:<17} {:<17} {}",
                    v.id,
                    v.parent_id.map_or("-".into(), |p| p.to_string()),
                    v.symbols.join(","),
                    utc(v.data_from_ms),
                    utc(v.data_to_ms),
                    models.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Info(args) => {
            let manifest = Manifest::load(&args.manifest)?;
            let seq = args.seq.or(manifest.max_seq()).unwrap_or(64);
            manifest.check_input(seq, manifest.n_features())?;
            println!("architecture     {manifest}");
            println!("parameters       {}", manifest.parameter_count());
            println!(
                "flops/inference  {} (one sample of {seq} steps)",
                manifest.flops(seq)
            );
            println!("input            (batch, {seq}, {})", manifest.n_features());
            println!("output           (batch, {})", manifest.n_out());
            Ok(ExitCode::SUCCESS)
        }
    }
}
