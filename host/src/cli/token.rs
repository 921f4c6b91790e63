//! `stratbox token`: hashes a secret for `[[server.tokens]]`, and creates, lists and revokes
//! the API's tokens on a running service (an admin token required).

use super::operator::Endpoint;
use crate::api::{Client, RateLimit, Scope, hash_secret};
use std::io::BufRead;
use std::process::ExitCode;

/// The token subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Prints the SHA-256 of a secret read from stdin, for `[[server.tokens]]`'s `sha256`.
    Hash,
    /// Creates a token on the service and prints its secret (shown only this once).
    Create {
        /// Who will hold it.
        #[arg(long)]
        name: String,
        /// `read`, `trade` or `admin`.
        #[arg(long)]
        scope: String,
        /// Its own request rate, requests a second (the service's when absent).
        #[arg(long, requires = "burst")]
        rate: Option<f64>,
        /// Its own burst: requests at once before its rate applies.
        #[arg(long, requires = "rate")]
        burst: Option<f64>,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Lists the service's tokens (names, scopes, origins).
    List {
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Revokes a token created through the API.
    Revoke {
        /// Its name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        endpoint: Endpoint,
    },
}

/// Runs a token subcommand.
pub fn run(command: TokenCommand) -> anyhow::Result<ExitCode> {
    let client = |e: &Endpoint| Client::new(&e.endpoint, &e.token);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match command {
        TokenCommand::Hash => {
            let mut secret = String::new();
            std::io::stdin().lock().read_line(&mut secret)?;
            let secret = secret.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!secret.is_empty(), "give the secret on stdin");
            println!("{}", hash_secret(secret));
        }
        TokenCommand::Create {
            name,
            scope,
            rate,
            burst,
            endpoint,
        } => {
            let scope: Scope = scope.parse().map_err(anyhow::Error::msg)?;
            let rate_limit = rate
                .zip(burst)
                .map(|(per_second, burst)| RateLimit { per_second, burst });
            let created =
                runtime.block_on(client(&endpoint).create_token(&name, scope, rate_limit))?;
            println!("{}", created.token);
        }
        TokenCommand::List { endpoint } => {
            for t in runtime.block_on(client(&endpoint).tokens())? {
                let rate = t.rate_limit.map_or_else(String::new, |r| {
                    format!(" {}/s burst {}", r.per_second, r.burst)
                });
                println!("{:<24} {:<6} {:?}{rate}", t.name, t.scope.name(), t.source);
            }
        }
        TokenCommand::Revoke { name, endpoint } => {
            runtime.block_on(client(&endpoint).revoke_token(&name))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
