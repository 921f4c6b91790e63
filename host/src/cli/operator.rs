//! The operator commands: `deploy`, `swap`, `rollback`, `halt`, `resume` and `list`, which
//! talk to a running `stratbox serve` over its control endpoint.

use crate::api::Client;
use crate::engine::{DeploymentInfo, Status};
use crate::risk::Budget;
use crate::sandbox::Grants;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the service is and how to authenticate.
#[derive(clap::Args, Debug)]
pub struct Endpoint {
    /// The control endpoint.
    #[arg(
        long,
        env = "STRATBOX_ENDPOINT",
        default_value = "http://127.0.0.1:7400"
    )]
    pub(super) endpoint: String,
    /// The bearer token the service was configured with.
    #[arg(long, env = "STRATBOX_TOKEN", hide_env_values = true)]
    pub(super) token: String,
}

/// Arguments of `stratbox deploy`.
#[derive(clap::Args, Debug)]
pub struct DeployArgs {
    /// The component (.wasm).
    component: PathBuf,
    /// Deployment name.
    #[arg(long)]
    name: String,
    /// Risk budget (TOML).
    #[arg(long)]
    budget: PathBuf,
    /// Configuration passed to `init` (a JSON file).
    #[arg(long)]
    config: Option<PathBuf>,
    /// What the guest may reach beyond the contract (TOML: `wall_clock`, `env`, `dirs`,
    /// `connect`); nothing without it.
    #[arg(long)]
    grants: Option<PathBuf>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Arguments of `stratbox swap`.
#[derive(clap::Args, Debug)]
pub struct SwapArgs {
    /// The new component (.wasm).
    component: PathBuf,
    /// Deployment name.
    #[arg(long)]
    name: String,
    /// New configuration (a JSON file); the current one is kept otherwise.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Arguments of `rollback`, `halt` and `resume`.
#[derive(clap::Args, Debug)]
pub struct NameArgs {
    /// Deployment name.
    #[arg(long)]
    name: String,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Arguments of `stratbox list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// The operator commands.
#[derive(Debug)]
pub enum Op {
    /// Deploy.
    Deploy(DeployArgs),
    /// Swap.
    Swap(SwapArgs),
    /// Rollback, halt or resume.
    Action(&'static str, NameArgs),
    /// List.
    List(ListArgs),
    /// Remove.
    Remove(NameArgs),
}

pub fn run(op: Op) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (list, json) = runtime.block_on(async {
        match op {
            Op::Deploy(a) => {
                let component = super::read_file(&a.component)?;
                let budget = Budget::parse(&super::read_text(&a.budget)?)
                    .with_context(|| format!("in {}", a.budget.display()))?;
                let config = a.config.as_deref().map(super::read_text).transpose()?;
                let grants = match &a.grants {
                    Some(path) => {
                        let base = std::fs::canonicalize(path)
                            .with_context(|| format!("{}", path.display()))?;
                        let base = base.parent().unwrap_or(std::path::Path::new("/"));
                        Grants::parse(&super::read_text(path)?, base)
                            .map_err(anyhow::Error::msg)
                            .with_context(|| format!("in {}", path.display()))?
                    }
                    None => Grants::default(),
                };
                let client = Client::new(&a.endpoint.endpoint, &a.endpoint.token);
                Ok::<_, anyhow::Error>((
                    client
                        .deploy(&a.name, &component, config, budget, grants)
                        .await?,
                    false,
                ))
            }
            Op::Swap(a) => {
                let component = super::read_file(&a.component)?;
                let config = a.config.as_deref().map(super::read_text).transpose()?;
                let client = Client::new(&a.endpoint.endpoint, &a.endpoint.token);
                Ok((client.swap(&a.name, &component, config).await?, false))
            }
            Op::Action(action, a) => {
                let client = Client::new(&a.endpoint.endpoint, &a.endpoint.token);
                Ok((client.action(&a.name, action).await?, false))
            }
            Op::Remove(a) => {
                let client = Client::new(&a.endpoint.endpoint, &a.endpoint.token);
                Ok((client.remove(&a.name).await?, false))
            }
            Op::List(a) => {
                let client = Client::new(&a.endpoint.endpoint, &a.endpoint.token);
                Ok((client.list().await?, a.json))
            }
        }
    })?;
    print_list(&list, json)?;
    Ok(ExitCode::SUCCESS)
}

fn print_list(list: &[DeploymentInfo], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(list)?);
        return Ok(());
    }
    println!(
        "{:<20} {:<17} {:<8} {:<9} {:>10} {:>14} {:>5} {:>6} {:<12} {:<12} reason",
        "name",
        "world",
        "status",
        "trading",
        "events",
        "equity",
        "open",
        "cpu",
        "version",
        "previous"
    );
    for d in list {
        let (status, reason) = match &d.status {
            Status::Running => ("running", ""),
            Status::Halted(r) => ("halted", r.as_str()),
        };
        println!(
            "{:<20} {:<17} {:<8} {:<9} {:>10} {:>14.4} {:>5} {:>5.1}% {:<12} {:<12} {}",
            d.name,
            d.world.name(),
            status,
            d.trading_state.name(),
            d.delivered,
            d.equity,
            d.open_orders,
            d.cpu_share * 100.0,
            &d.hash[..12.min(d.hash.len())],
            d.previous_hash
                .as_deref()
                .map_or("-", |h| &h[..12.min(h.len())]),
            reason
        );
    }
    Ok(())
}
