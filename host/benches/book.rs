//! Depth diffs: parsing Binance `depthUpdate` events exactly and applying them to a local book,
//! against plain `serde_json::Value` parsing of the same messages as the baseline; and the best
//! bid lookup on books of very different sizes (it is O(1)).
//!
//! `cargo bench -p stratbox --bench book`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use stratbox::book::{BookSync, OrderBook};
use stratbox::feeds::binance::ws::parse_depth_event;
use stratbox::model::Fixed;

const MESSAGES: usize = 2_000;
const LEVELS_PER_SIDE: usize = 10;

/// Realistic diffs: ten levels a side near the top of a BTCUSDT-like book, one in five deleted.
fn messages() -> Vec<String> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..MESSAGES)
        .map(|i| {
            let side = |sign: f64, next: &mut dyn FnMut() -> u64| {
                (0..LEVELS_PER_SIDE)
                    .map(|_| {
                        let price = 43_000.0 + sign * (1 + next() % 500) as f64 * 0.01;
                        let qty = if next().is_multiple_of(5) { 0.0 } else { (next() % 200_000) as f64 / 100_000.0 };
                        format!("[\"{price:.8}\",\"{qty:.8}\"]")
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let first = 1_000 + i as u64 * 20;
            format!(
                "{{\"e\":\"depthUpdate\",\"E\":{},\"s\":\"BTCUSDT\",\"U\":{first},\"u\":{},\"b\":[{}],\"a\":[{}]}}",
                1_700_000_000_000u64 + i as u64 * 100,
                first + 19,
                side(-1.0, &mut next),
                side(1.0, &mut next)
            )
        })
        .collect()
}

fn depth(c: &mut Criterion) {
    let messages = messages();
    let levels = (MESSAGES * LEVELS_PER_SIDE * 2) as u64;
    let mut group = c.benchmark_group("depth_diffs");
    group.throughput(Throughput::Elements(levels));
    group.bench_function("serde_json_value_parse (baseline)", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(serde_json::from_str::<serde_json::Value>(black_box(m)).unwrap());
            }
        })
    });
    group.bench_function("parse_exact_and_apply", |b| {
        b.iter(|| {
            let mut sync = BookSync::new();
            sync.on_diff(parse_depth_event(&messages[0]).unwrap());
            sync.on_snapshot(999, &[], &[]);
            for m in &messages[1..] {
                black_box(sync.on_diff(parse_depth_event(black_box(m)).unwrap()));
            }
            black_box(sync.book().map(|b| b.best_bid()))
        })
    });
    group.finish();
}

fn best_bid(c: &mut Criterion) {
    let mut group = c.benchmark_group("best_bid");
    for levels in [100usize, 10_000, 1_000_000] {
        let bids: Vec<(Fixed, Fixed)> = (0..levels)
            .map(|i| (Fixed::from_raw(1_000_000 + i as i64), Fixed::from_int(1)))
            .collect();
        let book = OrderBook::from_snapshot(1, &bids, &[]);
        group.bench_with_input(BenchmarkId::from_parameter(levels), &book, |b, book| {
            b.iter(|| black_box(book).best_bid())
        });
    }
    group.finish();
}

criterion_group!(benches, depth, best_bid);
criterion_main!(benches);
