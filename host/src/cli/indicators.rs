//! `stratbox indicators`: TA-Lib functions over candle files, written as CSV. Files run in
//! parallel, and within a file the functions of each chunk of bars (see
//! [`crate::features::batch`]) and the formatting of its rows; a file is read and written a
//! chunk at a time, so its length costs no memory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use stratbox_ta::{Series, Spec, registry};

use crate::features::batch::{CHUNK_BARS, ChunkedBatch};
use crate::feeds::candles;

/// Arguments of `stratbox indicators`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Candles: plain `open_time_ms,open,high,low,close,volume` CSV or a Binance kline dump
    /// (bare or zipped). Repeat it, or separate files with commas, for several.
    #[arg(long, required = true, value_delimiter = ',')]
    input: Vec<PathBuf>,
    /// Where to write: a CSV file (`-` for standard output) for one input; for several, a
    /// directory (created) that gets `<input name>.csv` for each.
    #[arg(long)]
    output: PathBuf,
    /// Comma-separated specs (`SMA_20,BBANDS_20_2_2_0,MACD_12_26_9`); every function with
    /// TA-Lib's defaults when absent.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Threads to use (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `stratbox indicators`: every input written, or the failures named, each with its file.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let specs: Vec<Spec> = if args.only.is_empty() {
        registry::all()
            .iter()
            .map(|f| Spec::with_defaults(f))
            .collect()
    } else {
        args.only
            .iter()
            .map(|s| Spec::parse(s))
            .collect::<Result<_, _>>()?
    };
    let outputs = outputs(&args.input, &args.output)?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(jobs) = args.jobs {
        anyhow::ensure!(jobs > 0, "--jobs must be at least 1");
        pool = pool.num_threads(jobs);
    }
    let pool = pool.build().context("cannot start the worker threads")?;
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.input.len() as u64)
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} files, {msg} ({elapsed})")
            .expect("template")
            .progress_chars("=> "),
    );
    let bars = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<anyhow::Result<()>> = pool.install(|| {
        args.input
            .par_iter()
            .zip(&outputs)
            .map(|(input, output)| {
                write_output(input, output, &specs, |n| {
                    let total = bars.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                    progress.set_message(format!("{} bars", total + n as u64));
                })?;
                progress.inc(1);
                Ok(())
            })
            .collect()
    });
    progress.finish_and_clear();
    // Every file that could be done is; the failures are named, each with its file.
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(Result::err)
        .map(|e| format!("{e:#}"))
        .collect();
    if !failures.is_empty() {
        anyhow::bail!("{}", failures.join("\n"));
    }
    Ok(ExitCode::SUCCESS)
}

/// Each input's output: `output` itself for one input, `output/<name>.csv` for several (two
/// inputs of one output name are refused rather than one overwriting the other); an output
/// that is one of the inputs is refused.
fn outputs(inputs: &[PathBuf], output: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let outputs = if let [_] = inputs {
        vec![output.to_path_buf()]
    } else {
        anyhow::ensure!(
            output.as_os_str() != "-",
            "--output - takes one input; for several give a directory"
        );
        let mut seen = std::collections::HashSet::new();
        let outputs = inputs
            .iter()
            .map(|input| {
                let stem = input
                    .file_stem()
                    .with_context(|| format!("{} names no file", input.display()))?;
                let name = format!("{}.csv", stem.to_string_lossy());
                anyhow::ensure!(
                    seen.insert(name.clone()),
                    "two inputs would both be written to {name}"
                );
                Ok(output.join(name))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        std::fs::create_dir_all(output)
            .with_context(|| format!("cannot create the directory {}", output.display()))?;
        outputs
    };
    let inputs: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|i| std::fs::canonicalize(i).ok())
        .collect();
    for out in &outputs {
        if let Ok(target) = std::fs::canonicalize(out) {
            anyhow::ensure!(
                !inputs.contains(&target),
                "{} is an input: its output would replace it",
                out.display()
            );
        }
    }
    Ok(outputs)
}

/// Writes the CSV of `input` to `output` (`-`: standard output; a device or pipe as it is,
/// where the rows before a bad line are already out when the command fails on it) through a
/// `.partial` file renamed once complete: a file that fails leaves no half output, and an
/// earlier output of the same name stays until a new one is whole.
fn write_output(
    input: &Path,
    output: &Path,
    specs: &[Spec],
    done: impl FnMut(usize),
) -> anyhow::Result<()> {
    if output.as_os_str() == "-" {
        write_file(input, specs, std::io::stdout(), done)?;
        return Ok(());
    }
    // A device or pipe (`/dev/null`) is written as it is, never renamed over.
    if std::fs::metadata(output).is_ok_and(|m| !m.is_file()) {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(output)
            .with_context(|| format!("cannot write {}", output.display()))?;
        write_file(input, specs, file, done)?;
        return Ok(());
    }
    let mut partial = output.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let written = write_file(input, specs, file, done).and_then(|_| {
        std::fs::rename(&partial, output)
            .with_context(|| format!("cannot write {}", output.display()))
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Runs `specs` over the candles of `input` a chunk at a time, writing the CSV (open time, then
/// every column; values before a function's lookback empty) to `sink`; `done` is told each
/// chunk's bars. Returns the bars written.
pub fn write_file(
    input: &Path,
    specs: &[Spec],
    sink: impl Write,
    mut done: impl FnMut(usize),
) -> anyhow::Result<usize> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
    let mut header = vec!["open_time_ms".to_string()];
    header.extend(specs.iter().flat_map(Spec::column_names));
    writeln!(w, "{}", header.join(","))?;
    let mut functions = ChunkedBatch::new(specs);
    let mut chunk = Series::default();
    let mut times: Vec<i64> = Vec::with_capacity(CHUNK_BARS);
    let mut rows = candles::rows(input)?.peekable();
    let mut total = 0;
    while rows.peek().is_some() {
        chunk.clear();
        times.clear();
        for candle in rows.by_ref().take(CHUNK_BARS) {
            let c = candle?;
            times.push(c.open_time);
            chunk.push(stratbox_ta::Bar {
                open: c.open.to_f64(),
                high: c.high.to_f64(),
                low: c.low.to_f64(),
                close: c.close.to_f64(),
                volume: c.volume.to_f64(),
            });
        }
        functions.run(&chunk);
        let columns: Vec<&[f64]> = functions.columns().collect();
        for text in format_rows(&times, &columns) {
            w.write_all(text.as_bytes())
                .with_context(|| format!("cannot write the output of {}", input.display()))?;
        }
        total += times.len();
        done(times.len());
    }
    anyhow::ensure!(total > 0, "{}: no candles", input.display());
    w.flush()
        .with_context(|| format!("cannot write the output of {}", input.display()))?;
    Ok(total)
}

/// The CSV rows of a chunk, formatted in parallel in runs of rows, in order.
fn format_rows(times: &[i64], columns: &[&[f64]]) -> Vec<String> {
    const ROWS: usize = 256;
    (0..times.len())
        .step_by(ROWS)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|start| {
            use std::fmt::Write as _;
            let mut text = String::with_capacity(ROWS * (columns.len() + 1) * 12);
            for (i, time) in times.iter().enumerate().skip(start).take(ROWS) {
                let _ = write!(text, "{time}");
                for column in columns {
                    text.push(',');
                    let v = column[i];
                    if v.is_finite() {
                        let _ = write!(text, "{v}");
                    }
                }
                text.push('\n');
            }
            text
        })
        .collect()
}
