//! Misbehaves on the bar its config names, in the way it names:
//! `{"attack": "loop" | "alloc" | "recursion" | "panic" | "orders" | "signals" | "file" | "socket" | "exit" | "clock" | "env" | "burn", "on_bar": 3}`.
//! `burn` spins for `"burn_ms"` of wall time (the clock must be granted) on that bar and every
//! bar after it.
//! `file` reads `"path"` (default `/etc/passwd`) and `socket` connects to `"addr"` (default
//! `127.0.0.1:5432`), panicking when they are refused and recording `file_bytes` / `connected`
//! in state when granted; `env` records the length of `STRATBOX_GRANT` (0 when unset) as `env_len`.
//! Until then it counts bars in state, so tests can see it ran.

use std::hint::black_box;
use stratbox_guest::prelude::*;

struct Hostile {
    attack: String,
    on_bar: u64,
    seen: u64,
    path: String,
    addr: String,
    burn_ms: u64,
}

fn recurse(depth: u64, pad: [u64; 16]) -> u64 {
    let pad = black_box(pad);
    if black_box(depth) == u64::MAX {
        pad[0]
    } else {
        recurse(depth + 1, pad) + pad[(depth % 16) as usize]
    }
}

impl Strategy for Hostile {
    fn init(cfg: &str) -> Result<Self, String> {
        let attack = config::string(cfg, "attack").ok_or("config needs \"attack\"")?;
        let on_bar = config::number(cfg, "on_bar").unwrap_or(1.0) as u64;
        Ok(Hostile {
            attack,
            on_bar,
            seen: 0,
            path: config::string(cfg, "path").unwrap_or_else(|| "/etc/passwd".into()),
            addr: config::string(cfg, "addr").unwrap_or_else(|| "127.0.0.1:5432".into()),
            burn_ms: config::number(cfg, "burn_ms").unwrap_or(0.0) as u64,
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        self.seen += 1;
        let _ = state::set_u64("seen", self.seen);
        if self.seen < self.on_bar {
            return;
        }
        match self.attack.as_str() {
            "loop" => {
                let mut x = 0u64;
                loop {
                    x = black_box(x.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![7u8; 1 << 20]));
                }
            }
            "recursion" => {
                black_box(recurse(0, [1; 16]));
            }
            "panic" => panic!("hostile guest panicked on purpose at bar {}", self.seen),
            "orders" => {
                for i in 0..10_000_000u64 {
                    let _ = Order::market(bar.symbol, Side::Buy, 0.001)
                        .client_id(i)
                        .submit();
                }
            }
            "signals" => {
                for _ in 0..10_000_000u64 {
                    signals::emit(&Signal {
                        symbol: bar.symbol,
                        time: 0,
                        direction: Direction::Long,
                        strength: 1.0,
                        confidence: 1.0,
                        kind: SignalKind::Trend,
                        horizon_ms: 0,
                        source: "someone-else".into(),
                    });
                }
            }
            "file" => {
                let text = std::fs::read_to_string(&self.path)
                    .unwrap_or_else(|e| panic!("open {}: {e:?}", self.path));
                log::error(&text);
                let _ = state::set_u64("file_bytes", text.len() as u64);
            }
            "socket" => {
                let stream = std::net::TcpStream::connect(&self.addr)
                    .unwrap_or_else(|e| panic!("connect to {}: {e:?}", self.addr));
                drop(stream);
                let _ = state::set_u64("connected", 1);
            }
            "env" => {
                let len = std::env::var("STRATBOX_GRANT").map_or(0, |v| v.len());
                let _ = state::set_u64("env_len", len as u64);
            }
            "burn" => {
                let started = std::time::Instant::now();
                let mut x = 0u64;
                while started.elapsed().as_millis() < u128::from(self.burn_ms) {
                    x = black_box(x.wrapping_add(1));
                }
            }
            "exit" => std::process::exit(3),
            "clock" => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(u64::MAX, |d| d.as_secs());
                let _ = state::set_u64("clock", now);
            }
            other => panic!("unknown attack {other}"),
        }
    }
}

export_strategy!(Hostile);
