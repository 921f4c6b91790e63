//! `stratbox data fetch`: klines over a range from the REST API into the history store. It
//! asks only for the gaps the store has, so an interrupted fetch resumes where it stopped,
//! fetches closed candles only, and checks the range's quality once done.

use crate::feeds::binance::RestClient;
use crate::history::HistoryStore;
use crate::history::quality::{self, CheckConfig};
use indicatif::{ProgressBar, ProgressStyle};

pub async fn run(
    symbol: String,
    interval: String,
    from: &str,
    to: &str,
    base: String,
    quiet: bool,
    store: HistoryStore,
) -> anyhow::Result<()> {
    let (step, from, to) = super::data::fetch_range(&interval, from, to)?;
    let step = i64::from(step);
    // Only closed candles: one still open would be stored half made and never fetched again.
    let to = to.min(crate::model::time::wall_clock_ms() - step + 1);
    if to <= from {
        anyhow::bail!("no {interval} candle of that range has closed yet");
    }
    let symbol = symbol.to_ascii_uppercase();
    let client = RestClient::new(&base);
    let gaps = store.gaps(&symbol, &interval, step, from, to - 1).await?;
    let wanted: u64 = gaps
        .iter()
        .map(|g| ((g.to - g.from) / step + 1) as u64)
        .sum();
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(wanted)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} candles ({eta})")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{symbol} {interval}"));
    let mut fetched = 0u64;
    for gap in &gaps {
        fetched += client
            .klines_range(
                &symbol,
                &interval,
                step,
                gap.from,
                gap.to + 1,
                async |page| {
                    store.upsert(&symbol, &interval, &page).await.map_err(|e| {
                        crate::feeds::binance::RestError::Transport {
                            path: "store".into(),
                            message: e.to_string(),
                        }
                    })?;
                    bar.inc(page.len() as u64);
                    Ok(())
                },
            )
            .await?;
    }
    bar.finish_and_clear();
    let missing = store.gaps(&symbol, &interval, step, from, to - 1).await?;
    println!(
        "fetched {fetched} candles of {symbol} {interval}; {} already stored; {} gaps remain (the exchange has no candles there)",
        (((to - 1 - from) / step + 1) as u64).saturating_sub(wanted),
        missing.len()
    );
    let rows = store.candles(&symbol, &interval, from, to - 1).await?;
    let report = quality::check(
        &rows,
        &[],
        step,
        (Some(from), Some(to - 1)),
        &CheckConfig::default(),
    );
    println!("quality: {}", report.summary());
    Ok(())
}
