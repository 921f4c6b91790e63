//! Batch TA-Lib functions for many symbols on one core against all of them: every function
//! and pattern (173, TA-Lib's defaults) over 100 symbols x 100,000 bars through
//! [`ChunkedBatch`] (the symbols in parallel, and each chunk's functions), then the whole
//! `stratbox indicators` path (read, compute, format the CSV; written to nowhere) over ten
//! candle files, each on a rayon pool of one thread and of every core, alternating rounds,
//! best of each.
//!
//! `cargo bench -p stratbox --bench indicators -- --bench` (`INDICATORS_BENCH_SYMBOLS`,
//! `INDICATORS_BENCH_BARS` and `INDICATORS_BENCH_FILES` change the sizes).

use rayon::prelude::*;
use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use stratbox::features::batch::{CHUNK_BARS, ChunkedBatch};
use stratbox_ta::{Series, Spec, registry};

const ROUNDS: usize = 2;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A seeded random walk of `n` bars, its own for each `seed`.
fn series(seed: u64, n: usize) -> Series {
    let mut s = Series::default();
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ seed.wrapping_mul(0xD1B5_4A32_D192_ED03);
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
        s.push(stratbox_ta::Bar {
            open,
            high: open.max(close) * (1.0 + uniform() * 0.005),
            low: open.min(close) * (1.0 - uniform() * 0.005),
            close,
            volume: 1.0 + uniform() * 1000.0,
        });
    }
    s
}

/// Every function over every symbol, a chunk at a time; a checksum of the outputs.
fn compute(all: &[Series], specs: &[Spec]) -> f64 {
    all.par_iter()
        .map(|s| {
            let mut functions = ChunkedBatch::new(specs);
            let mut sum = 0.0;
            let mut chunk = Series::default();
            for start in (0..s.len()).step_by(CHUNK_BARS) {
                chunk.clear();
                for i in start..(start + CHUNK_BARS).min(s.len()) {
                    chunk.push(s.bar(i));
                }
                functions.run(&chunk);
                sum += functions
                    .columns()
                    .map(|c| c.last().copied().filter(|v| v.is_finite()).unwrap_or(0.0))
                    .sum::<f64>();
            }
            sum
        })
        .sum()
}

/// `stratbox indicators`' path over `files`, its CSV written to nowhere.
fn command(files: &[PathBuf], specs: &[Spec]) -> usize {
    files
        .par_iter()
        .map(|f| {
            stratbox::cli::indicators::write_file(f, specs, std::io::sink(), |_| {})
                .expect("a written file")
        })
        .sum()
}

/// The best time of `run` on a pool of one thread and on one of every core, alternating.
fn one_and_all(run: impl Fn() + Sync) -> (Duration, Duration) {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let all = rayon::ThreadPoolBuilder::new().build().unwrap();
    let (mut t1, mut tn) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        one.install(&run);
        t1 = t1.min(t.elapsed());
        let t = Instant::now();
        all.install(&run);
        tn = tn.min(t.elapsed());
    }
    (t1, tn)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let symbols = env_or("INDICATORS_BENCH_SYMBOLS", 100);
    let bars = env_or("INDICATORS_BENCH_BARS", 100_000);
    let files = env_or("INDICATORS_BENCH_FILES", 10);
    let cores = rayon::ThreadPoolBuilder::new()
        .build()
        .unwrap()
        .current_num_threads();
    let specs: Vec<Spec> = registry::all()
        .iter()
        .map(|f| Spec::with_defaults(f))
        .collect();
    let all: Vec<Series> = (0..symbols as u64).map(|k| series(k, bars)).collect();
    let (t1, tn) = one_and_all(|| {
        black_box(compute(&all, &specs));
    });
    println!(
        "{} functions x {symbols} symbols x {bars} bars: 1 thread {:.2} s, {cores} threads {:.2} s: {:.2}x",
        specs.len(),
        t1.as_secs_f64(),
        tn.as_secs_f64(),
        t1.as_secs_f64() / tn.as_secs_f64()
    );
    drop(all);
    let dir =
        std::env::temp_dir().join(format!("stratbox-indicators-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths: Vec<PathBuf> = (0..files)
        .map(|k| {
            let path = dir.join(format!("S{k}.csv"));
            let s = series(1_000 + k as u64, bars);
            let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            writeln!(w, "open_time_ms,open,high,low,close,volume").unwrap();
            for i in 0..s.len() {
                let b = s.bar(i);
                writeln!(
                    w,
                    "{},{},{},{},{},{}",
                    i as i64 * 60_000,
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume
                )
                .unwrap();
            }
            path
        })
        .collect();
    let (t1, tn) = one_and_all(|| {
        black_box(command(&paths, &specs));
    });
    println!(
        "stratbox indicators' path (read, compute, CSV), {files} files x {bars} bars: 1 thread {:.2} s, {cores} threads {:.2} s: {:.2}x",
        t1.as_secs_f64(),
        tn.as_secs_f64(),
        t1.as_secs_f64() / tn.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
