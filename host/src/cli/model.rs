//! `stratbox model`: run a PyTorch-exported model on a tensor file, or describe one.

use std::path::PathBuf;
use std::process::ExitCode;

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
