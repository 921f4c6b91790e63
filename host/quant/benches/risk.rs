//! Risk mathematics' speed: Monte Carlo VaR over 10,000 paths of 20 assets (goal < 20 ms),
//! historical VaR of the same portfolio as the baseline in the same run, and minimum variance
//! over 100 assets, whose input is written to `$RISK_BENCH_CSV` (default
//! `/tmp/stratbox_min_variance_100.csv`) for `host/benches/pypfopt/min_variance.py` to time
//! PyPortfolioOpt on the same returns.
//!
//! `cargo bench -p stratbox-quant --bench risk`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use stratbox_quant::Matrix;
use stratbox_quant::covariance;
use stratbox_quant::optimize::{self, Constraints};
use stratbox_quant::rng::Rng;
use stratbox_quant::var::{self, Method};

/// `rows` bars of `assets` correlated returns: a market factor plus noise, seeded.
fn returns(rows: usize, assets: usize, seed: u64) -> Matrix {
    let mut rng = Rng(seed);
    let betas: Vec<f64> = (0..assets).map(|_| 0.5 + rng.uniform()).collect();
    let vols: Vec<f64> = (0..assets).map(|_| 0.005 + 0.015 * rng.uniform()).collect();
    let mut data = Vec::with_capacity(rows * assets);
    for _ in 0..rows {
        let market = 0.01 * rng.normal();
        for j in 0..assets {
            data.push(0.0003 + betas[j] * market + vols[j] * rng.normal());
        }
    }
    Matrix::new(rows, assets, data).unwrap()
}

fn bench(c: &mut Criterion) {
    let r20 = returns(1_000, 20, 1);
    let w20 = vec![1.0 / 20.0; 20];
    let mut g = c.benchmark_group("var_20_assets");
    g.bench_function("monte_carlo_10000_paths", |b| {
        let m = Method::MonteCarlo {
            paths: 10_000,
            seed: 3,
        };
        b.iter(|| var::portfolio(black_box(&r20), &w20, m, 0.99, 1).unwrap())
    });
    g.bench_function("historical_1000_bars", |b| {
        b.iter(|| var::portfolio(black_box(&r20), &w20, Method::Historical, 0.99, 1).unwrap())
    });
    g.finish();

    let r100 = returns(1_000, 100, 2);
    let path = std::env::var("RISK_BENCH_CSV")
        .unwrap_or_else(|_| "/tmp/stratbox_min_variance_100.csv".into());
    let mut text = String::new();
    for i in 0..r100.rows() {
        let row: Vec<String> = r100.row(i).iter().map(|v| format!("{v:?}")).collect();
        text += &row.join(",");
        text.push('\n');
    }
    std::fs::write(&path, text).expect("write the benchmark's returns");
    let mut g = c.benchmark_group("min_variance_100_assets");
    g.sample_size(20);
    g.bench_function("sample_covariance", |b| {
        b.iter(|| covariance::sample(black_box(&r100)).unwrap())
    });
    let cov = covariance::sample(&r100).unwrap();
    let w = optimize::min_variance(&cov, &Constraints::default()).unwrap();
    println!(
        "min variance over 100 assets: variance {:.6e}, {} weights above 1e-6",
        cov.quadratic(&w),
        w.iter().filter(|&&v| v > 1e-6).count()
    );
    g.bench_function("solve", |b| {
        b.iter(|| optimize::min_variance(black_box(&cov), &Constraints::default()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
