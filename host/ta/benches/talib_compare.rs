//! Our indicators against TA-Lib's C core (through its Python package), measured side by side in
//! one run on the same series.
//!
//! `cargo bench -p stratbox-ta --bench talib_compare` (needs `python3` with `TA-Lib` from PyPI for
//! the TA-Lib side; without it only our figures are printed). `TA_BENCH_BARS` sets the batch
//! series length (default 1,000,000); `TA_BENCH_PER_FUNCTION=1` adds each function's batch time on
//! both sides, sorted by ratio (`TA_BENCH_PER_FUNCTION=ADX,VORTEX`: only those functions'), each
//! the median of three runs (`TA_BENCH_RUNS=N`: of N), each into new output columns as TA-Lib's
//! side allocates new arrays (`TA_BENCH_REUSE_OUTPUTS=1`: the same columns run after run, no
//! first touch of fresh memory). Named functions are timed alone: the live and whole-set
//! figures below are left out then, on both sides (for a profiler, or a quick comparison),
//! after one untimed pass of every function (so that each side's allocator is as warm as in a
//! full run).
//!
//! - live: one new bar through all 112 streaming indicators, against recomputing each over the
//!   last 500 bars with TA-Lib, as a TA-Lib user's live loop does;
//! - batch: all 112 over the whole series, against TA-Lib over the same arrays.

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use stratbox_ta::{Group, Indicator, Series, registry};

const LIVE_WINDOW: usize = 500;
const LIVE_BARS: usize = 200;

/// Makes this process's allocator keep the memory it is given back, as the Python process on
/// TA-Lib's side does in practice: there numpy's new arrays reuse the memory of those just
/// freed (a fresh Python process fills four new 8 MB arrays in a quarter of the time it takes
/// to fill four kept ones). Here glibc would hand the columns of each run back to the system
/// (they lie at the top of the heap, above its trim threshold, or are mapped on their own), so
/// each new column paid the system's zeroing of fresh pages, which TA-Lib's did not.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets two of the allocator's thresholds, before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// A seeded random walk with OHLCV bars, the same for both sides (written to CSV for TA-Lib).
fn series(n: usize) -> Series {
    let mut s = Series::with_capacity(n);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut close: f64 = 100.0;
    for _ in 0..n {
        let open = close;
        close = (open * (1.0 + (uniform() - 0.5) * 0.02)).max(0.01);
        let high = open.max(close) * (1.0 + uniform() * 0.005);
        let low = open.min(close) * (1.0 - uniform() * 0.005);
        s.push(stratbox_ta::Bar {
            open,
            high,
            low,
            close,
            volume: 1.0 + uniform() * 1000.0,
        });
    }
    s
}

fn functions() -> Vec<&'static stratbox_ta::Function> {
    registry::all()
        .iter()
        .copied()
        .filter(|f| f.group != Group::PatternRecognition)
        .collect()
}

fn fresh() -> Vec<(Box<dyn Indicator>, usize)> {
    functions()
        .iter()
        .map(|f| ((f.build)(&f.defaults()), f.outputs.len()))
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    keep_freed_memory();
    let bars: usize = std::env::var("TA_BENCH_BARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let data = series(bars);
    let path = std::env::temp_dir().join(format!("stratbox-ta-bench-{bars}.csv"));
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
        writeln!(w, "open_time_ms,open,high,low,close,volume").unwrap();
        for i in 0..data.len() {
            let b = data.bar(i);
            writeln!(
                w,
                "{i},{},{},{},{},{}",
                b.open, b.high, b.low, b.close, b.volume
            )
            .unwrap();
        }
    }
    let count = functions().len();

    let per_function =
        std::env::var_os("TA_BENCH_PER_FUNCTION").map(|v| v.to_string_lossy().into_owned());
    // Function names (upper case) time only those; any other value, every function.
    let only: Option<Vec<String>> = per_function
        .as_deref()
        .filter(|v| v.chars().any(|c| c.is_ascii_uppercase()))
        .map(|v| v.split(',').map(|name| name.trim().to_string()).collect());
    let runs: usize = std::env::var("TA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let (live, batch) = if only.is_some() {
        // One untimed pass of every function first, as on TA-Lib's side: the allocator then
        // holds what a full run leaves it (a fresh column's cost depends on it).
        batch_pass(&data);
        (None, None)
    } else {
        let (live, batch) = whole_set(&data);
        println!("stratbox-ta: {count} functions, {bars} bars");
        println!("  live  (one bar, all functions): {:>10.3} us", live * 1e6);
        println!("  batch (whole series, all):      {:>10.3} s", batch);
        (Some(live), Some(batch))
    };
    let reuse_outputs = std::env::var_os("TA_BENCH_REUSE_OUTPUTS").is_some_and(|v| v == "1");
    let ours_per_function: Vec<(&str, f64)> = if per_function.is_some() {
        functions()
            .iter()
            .filter(|f| {
                only.as_ref()
                    .is_none_or(|names| names.iter().any(|n| n == f.name))
            })
            .map(|f| {
                // New output columns each run, as TA-Lib's side gets new arrays; with
                // `TA_BENCH_REUSE_OUTPUTS=1` the same columns run after run, as a caller
                // computing many series keeps them (the first run pays the first touch of
                // fresh memory, the median is the steady state).
                let mut out = vec![Vec::new(); f.outputs.len()];
                let times = (0..runs)
                    .map(|_| {
                        if !reuse_outputs {
                            out = vec![Vec::new(); f.outputs.len()];
                        }
                        let mut ind = (f.build)(&f.defaults());
                        let start = Instant::now();
                        ind.batch(&data, &mut out);
                        black_box(&out);
                        start.elapsed().as_secs_f64()
                    })
                    .collect();
                (f.name, median(times))
            })
            .collect()
    } else {
        Vec::new()
    };

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/talib_baseline.py");
    let mut args = vec![
        script.to_string(),
        path.to_str().unwrap().to_string(),
        LIVE_WINDOW.to_string(),
        LIVE_BARS.to_string(),
        runs.to_string(),
    ];
    if per_function.is_some() {
        args.push("per-function".into());
        if let Some(names) = &only {
            args.push(names.join(","));
        }
    }
    let python = std::process::Command::new("python3").args(&args).output();
    match python {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let v: serde_json::Value = serde_json::from_str(text.trim()).expect("baseline JSON");
            println!("TA-Lib 0.8 C core via Python: {} functions", v["functions"]);
            if let (Some(live), Some(batch), Some(tl), Some(tb)) = (
                live,
                batch,
                v["live_per_bar_s"].as_f64(),
                v["batch_s"].as_f64(),
            ) {
                println!(
                    "  live  (recompute over last {LIVE_WINDOW}): {:>10.3} us   -> ours {:.1}x faster",
                    tl * 1e6,
                    tl / live
                );
                println!(
                    "  batch (whole series, all):      {:>10.3} s    -> ours/TA-Lib = {:.2}",
                    tb,
                    batch / tb
                );
            }
            if let Some(theirs) = v["per_function_s"].as_object() {
                let mut rows: Vec<(f64, &str, f64, f64)> = ours_per_function
                    .iter()
                    .filter_map(|&(name, o)| {
                        let t = theirs.get(name)?.as_f64()?;
                        Some((o / t, name, o, t))
                    })
                    .collect();
                rows.sort_by(|a, b| b.0.total_cmp(&a.0));
                println!("per function, batch ms: ours, TA-Lib, ratio (slowest ratio first)");
                for (ratio, name, o, t) in rows {
                    println!(
                        "  {name:<20} {:>9.2} {:>9.2} {ratio:>6.2}",
                        o * 1e3,
                        t * 1e3
                    );
                }
            }
        }
        Ok(o) => println!(
            "TA-Lib baseline failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => println!("TA-Lib baseline not run (python3: {e})"),
    }
    let _ = std::fs::remove_file(&path);
}

/// The live figure (seconds to update all functions for one bar, the median of 5) and the
/// whole-set batch figure (seconds for all over the series, the median of 3).
fn whole_set(data: &Series) -> (f64, f64) {
    // Live: warm every indicator over LIVE_WINDOW bars, then time single-bar updates.
    let mut live = Vec::new();
    for _ in 0..5 {
        let mut all = fresh();
        let mut out = [0.0; 4];
        for i in 0..LIVE_WINDOW {
            for (ind, w) in &mut all {
                ind.next(&data.bar(i), &mut out[..*w]);
            }
        }
        let start = Instant::now();
        for i in LIVE_WINDOW..LIVE_WINDOW + LIVE_BARS * 50 {
            let bar = data.bar(i);
            for (ind, w) in &mut all {
                ind.next(black_box(&bar), &mut out[..*w]);
            }
            black_box(&out);
        }
        live.push(start.elapsed().as_secs_f64() / (LIVE_BARS * 50) as f64);
    }
    let live = median(live);

    // Batch: all functions over the whole series; the median of 3 passes, as on its side.
    let batch = median((0..3).map(|_| batch_pass(data)).collect());
    (live, batch)
}

/// Seconds to compute every function once over the whole series, each into new columns.
fn batch_pass(data: &Series) -> f64 {
    let mut all = fresh();
    let start = Instant::now();
    for (ind, w) in &mut all {
        let mut out = vec![Vec::new(); *w];
        ind.batch(data, &mut out);
        black_box(&out);
    }
    start.elapsed().as_secs_f64()
}
