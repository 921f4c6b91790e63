//! `stratbox check`: is this component a strategy or a signal optimizer this host can run?

use crate::sandbox::check::Contract;
use crate::sandbox::{Runtime, SandboxLimits};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `stratbox check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The component (.wasm).
    component: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bytes = super::read_file(&args.component)?;
    let runtime = Runtime::new(SandboxLimits::default())?;
    let compiled = match runtime.compile(&bytes) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", args.component.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let r = &compiled.report;
    if args.json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else {
        println!("{}: ok", args.component.display());
        println!(
            "world:   stratbox:strategy/{}@{}.0{}",
            r.world.name(),
            r.contract.name(),
            if r.contract == Contract::CURRENT {
                ""
            } else {
                " (an earlier contract; it runs through its adapter)"
            }
        );
        println!("size:    {} bytes", r.size);
        println!("sha256:  {}", r.hash);
        println!("imports:");
        for i in &r.imports {
            println!("  {i}");
        }
        println!("exports:");
        for e in &r.exports {
            println!("  {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
