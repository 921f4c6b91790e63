//! `stratbox serve`: run the host as a service.

use crate::config::{ServiceConfig, default_db_url};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `stratbox serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The service configuration (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Database URL (`sqlite://path` or `postgres://...`); overrides `store.url`.
    #[arg(long, env = "STRATBOX_DB")]
    db: Option<String>,
    /// Address the control endpoint listens on; overrides `server.listen` (a container
    /// listens on `0.0.0.0:7400`).
    #[arg(long, env = "STRATBOX_LISTEN")]
    listen: Option<std::net::SocketAddr>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = ServiceConfig::load(&args.config)?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    let db = args
        .db
        .or_else(|| config.store.url.clone())
        .unwrap_or_else(default_db_url);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let shutdown = {
        let _context = runtime.enter();
        shutdown_signal()?
    };
    runtime.block_on(crate::serve::serve(
        config,
        db,
        |addr| {
            // One write, its failure ignored: a closed stdout must not stop the service.
            use std::io::Write;
            let _ = write!(
                std::io::stdout(),
                "stratbox listening on http://{addr}\ndashboard: http://{addr}/ (log in with the control token)\n"
            );
            let _ = std::io::stdout().flush();
        },
        shutdown,
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Listens for SIGTERM and Ctrl-C (SIGINT) from now on and completes on the first: a signal
/// that arrives while the service is still starting is kept until the service can stop cleanly,
/// not left to the default action that would end the process mid-start. Needs a runtime context.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = interrupt.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
