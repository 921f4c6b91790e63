//! `stratbox signals report`: the quality of every signal whose outcome the service stored,
//! per source x kind x symbol, and each signal optimizer's skill at scoring them.

use super::block_on;
use crate::model::time::parse_utc_ms;
use crate::signals::quality::QualityReport;
use crate::store::Store;
use anyhow::Context;
use std::process::ExitCode;

/// `stratbox signals` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SignalsCommand {
    /// Quality tables of the stored signal outcomes: hit rate with its 95 % interval, mean
    /// return in the signals' direction, information coefficient (Pearson and rank) of
    /// strength against realised return, the edge at each quarter of the horizon, excursions;
    /// then each optimizer's skill.
    Report(ReportArgs),
}

/// Arguments of `stratbox signals report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Only signals made at or after this time (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, or ms since
    /// the epoch; UTC).
    #[arg(long, value_parser = parse_since)]
    since: Option<i64>,
    /// The service's database (`sqlite://path` or `postgres://...`); the default SQLite file
    /// when omitted.
    #[arg(long, env = "STRATBOX_DB")]
    db: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_since(text: &str) -> Result<i64, String> {
    parse_utc_ms(text).ok_or_else(|| {
        format!("{text:?}: write YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or milliseconds")
    })
}

/// Runs a `stratbox signals` subcommand.
pub fn run(command: SignalsCommand) -> anyhow::Result<ExitCode> {
    let SignalsCommand::Report(args) = command;
    let url = args.db.unwrap_or_else(crate::config::default_db_url);
    // Opening a SQLite URL creates the file: a mistyped path would report nothing, silently.
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        && !std::path::Path::new(path).exists()
    {
        anyhow::bail!(
            "no database at {path}: give the service's --db (sqlite://path or postgres://...)"
        );
    }
    let report = block_on(async {
        let store = Store::open(&url).await?;
        Ok(store.signal_report(args.since).await?)
    })
    .with_context(|| format!("reading signal outcomes in {url}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Basis points of a return, or `-`.
fn bp(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}", x * 1e4)
    } else {
        "-".into()
    }
}

fn ic(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:+.3}"))
}

fn rate(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.1}%", v * 100.0))
}

/// The report as text tables (returns in basis points).
pub(super) fn table(report: &QualityReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if report.sources.is_empty() {
        out.push_str("no signal outcomes stored\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<24} {:<9} {:<10} {:>6} {:>6} {:>13} {:>8} {:>7} {:>7} {:>27} {:>7} {:>7}",
        "source",
        "kind",
        "symbol",
        "n",
        "hit",
        "95% interval",
        "mean bp",
        "IC",
        "rank IC",
        "edge bp at 1/4 1/2 3/4 1",
        "MFE bp",
        "MAE bp"
    );
    for q in &report.sources {
        let edge: Vec<String> = q.edge_by_horizon.iter().map(|e| bp(*e)).collect();
        let _ = writeln!(
            out,
            "{:<24} {:<9} {:<10} {:>6} {:>5.1}% {:>5.1}%-{:>5.1}% {:>8} {:>7} {:>7} {:>27} {:>7} {:>7}",
            q.source,
            q.kind.as_str(),
            q.symbol,
            q.signals,
            q.hit_rate * 100.0,
            q.hit_rate_low * 100.0,
            q.hit_rate_high * 100.0,
            bp(q.mean_return),
            ic(q.ic),
            ic(q.rank_ic),
            edge.join(" "),
            bp(q.mean_favourable),
            bp(q.mean_adverse),
        );
    }
    if !report.optimizers.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<24} {:>7} {:>7} {:>7} {:>16} {:>16}",
            "optimizer", "scored", "IC", "rank IC", "hit if >= 0.5", "hit if < 0.5"
        );
        for o in &report.optimizers {
            let _ = writeln!(
                out,
                "{:<24} {:>7} {:>7} {:>7} {:>9} of {:>4} {:>9} of {:>4}",
                o.optimizer,
                o.scored,
                ic(o.ic),
                ic(o.rank_ic),
                rate(o.favoured_hit_rate),
                o.favoured,
                rate(o.disfavoured_hit_rate),
                o.disfavoured,
            );
        }
    }
    out
}
