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
        shutdown_signal(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => drop(s.recv().await),
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
