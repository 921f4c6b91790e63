//! `stratbox indicators`: TA-Lib functions over a candle file, written as CSV.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use stratbox_ta::{Series, Spec, registry};

use crate::feeds::candles;

/// Arguments of `stratbox indicators`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Candles: plain `open_time_ms,open,high,low,close,volume` CSV or a Binance kline dump.
    #[arg(long)]
    input: PathBuf,
    /// Where to write the CSV (`-` for standard output).
    #[arg(long)]
    output: PathBuf,
    /// Comma-separated specs (`SMA_20,BBANDS_20_2_2_0,MACD_12_26_9`); every function with
    /// TA-Lib's defaults when absent.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

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
    let candles = candles::read_file(&args.input)?;
    let mut series = Series::default();
    for c in &candles {
        series.push(stratbox_ta::Bar {
            open: c.open.to_f64(),
            high: c.high.to_f64(),
            low: c.low.to_f64(),
            close: c.close.to_f64(),
            volume: c.volume.to_f64(),
        });
    }
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut header = vec!["open_time_ms".to_string()];
    for spec in &specs {
        let mut out = vec![Vec::new(); spec.function.outputs.len()];
        spec.build().batch(&series, &mut out);
        columns.extend(out);
        header.extend(spec.column_names());
    }
    let mut sink: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.output)
                .with_context(|| format!("cannot write {}", args.output.display()))?,
        )
    };
    let mut w = std::io::BufWriter::new(&mut sink);
    writeln!(w, "{}", header.join(","))?;
    let mut line = String::new();
    for (i, c) in candles.iter().enumerate() {
        line.clear();
        line.push_str(&c.open_time.to_string());
        for column in &columns {
            line.push(',');
            let v = column[i];
            if v.is_finite() {
                line.push_str(&v.to_string());
            }
        }
        writeln!(w, "{line}")?;
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}
