//! `stratbox model`: run a PyTorch-exported model on a tensor file, describe one, or train the
//! host's own from candles.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::feeds::candles;
use crate::learning::train::{TrainConfig, train};
use anyhow::Context;
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
}

/// Arguments of `stratbox model train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// What to learn and how: features, label, split, models (see examples/train.toml).
    #[arg(long)]
    config: PathBuf,
    /// Candle files (CSV or zip, Binance's kline columns), one symbol each, named by the file.
    #[arg(long, num_args = 1.., required = true)]
    data: Vec<PathBuf>,
    /// The directory the models and report.json are written to.
    #[arg(long)]
    output: PathBuf,
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
            let series = args
                .data
                .iter()
                .map(|path| {
                    let name = path
                        .file_stem()
                        .map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned());
                    candles::read_file(path)
                        .map(|rows| (name, rows))
                        .map_err(|e| anyhow::anyhow!("{e}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let report = train(&config, &series, &args.output, |line| eprintln!("{line}"))
                .map_err(anyhow::Error::msg)?;
            eprintln!(
                "{} samples of {} symbol(s), {} test windows: models and report.json in {}",
                report.samples,
                report.symbols.len(),
                report.folds,
                args.output.display()
            );
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
