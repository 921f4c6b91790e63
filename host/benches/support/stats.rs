//! What the benchmarks share: settings from the environment and latency tables (each bench
//! uses part of it).
#![allow(dead_code)]

use std::time::Duration;

/// The value of environment variable `name`, or `default` when unset or unreadable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// p50, p99 and max of `times`, in microseconds.
pub fn quantiles(times: &mut [Duration]) -> (f64, f64, f64) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    (at(0.5), at(0.99), at(1.0))
}

/// Prints a table row: `what`, its p50, p99 and max, and its p50 against `baseline`'s.
pub fn report(what: &str, times: &mut [Duration], baseline: f64) {
    let (p50, p99, max) = quantiles(times);
    println!(
        "| {what} | {p50:.0} µs | {p99:.0} µs | {max:.0} µs | {:.2} |",
        p50 / baseline
    );
}
