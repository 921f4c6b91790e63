//! `stratbox features`: the feature registry.

use std::process::ExitCode;

use crate::features::{FeatureConfig, FeatureEngine};

/// Subcommands of `stratbox features`.
#[derive(clap::Subcommand, Debug)]
pub enum FeaturesCommand {
    /// Prints every named feature: name, parameters, lookback, source and description.
    List(ListArgs),
}

/// Arguments of `stratbox features list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// A service config whose `[features]` table adds extra specs, references and macro series.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(command: FeaturesCommand) -> anyhow::Result<ExitCode> {
    let FeaturesCommand::List(args) = command;
    let config = match &args.config {
        Some(path) => crate::config::ServiceConfig::load(path)?.features,
        None => FeatureConfig::default(),
    };
    let engine = FeatureEngine::new(config).map_err(|e| anyhow::anyhow!("[features]: {e}"))?;
    let defs = engine.catalog().defs();
    if args.json {
        for d in defs {
            let line = serde_json::json!({
                "name": d.name, "params": d.params, "lookback": d.lookback,
                "source": d.source.to_string(), "description": d.description,
            });
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let width = defs.iter().map(|d| d.name.len()).max().unwrap_or(4);
    println!(
        "{:width$}  {:>8}  {:<10}  description [params]",
        "name", "lookback", "source"
    );
    for d in defs {
        let params = if d.params.is_empty() {
            String::new()
        } else {
            format!(" [{}]", d.params)
        };
        println!(
            "{:width$}  {:>8}  {:<10}  {}{params}",
            d.name,
            d.lookback,
            d.source.to_string(),
            d.description
        );
    }
    println!("{} features", defs.len());
    Ok(ExitCode::SUCCESS)
}
