//! Helpers shared by the end-to-end tests: building the guest components, reading the shared
//! market data, and making engines.
#![allow(dead_code)]

pub mod api;
pub mod exchange;
pub mod service;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use stratbox::engine::Engine;
use stratbox::execution::venues::{BarFillConfig, BarVenue};
use stratbox::journal::NullJournal;
use stratbox::model::Bar;
use stratbox::risk::Budget;
use stratbox::sandbox::{Runtime, SandboxLimits, StateStore};

/// Runs the `stratbox` command: whether it succeeded, and its stdout and stderr together.
pub fn run_stratbox(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs the `stratbox` command, which must succeed, and reads its stdout as JSON.
pub fn stratbox_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stratbox {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    manifest_dir()
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// Where a test keeps what it leaves for people to look at (screenshots):
/// `<target>/test-artifacts/<name>`.
pub fn artifacts(name: &str) -> PathBuf {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_stratbox"));
    let target = binary.parent().and_then(|p| p.parent()).unwrap();
    target.join("test-artifacts").join(name)
}

/// Runs the Playwright script `tests/dashboard/<script>` (Debian's Chromium) with `args` and
/// returns what it printed; panics with its output when it fails.
pub fn browser_check<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> String {
    let out = Command::new("python3")
        .arg(repo_root().join("tests/dashboard").join(script))
        .args(args)
        .output()
        .expect("python3 with playwright (scripts/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Where the real market data lives: `STRATBOX_TEST_DATA`, or `../shared/data` beside the repository.
pub fn data_dir() -> PathBuf {
    std::env::var_os("STRATBOX_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"))
}

/// The path of a guest component, building every guest once per test process.
pub fn guest_path(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let root = repo_root();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("strategies/target"));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--quiet",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(root.join("strategies/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("run cargo to build the guests");
        assert!(status.success(), "building the guest components failed");
        target.join("wasm32-wasip2/release")
    });
    dir.join(format!("{}.wasm", name.replace('-', "_")))
}

/// The real BTCUSDT capture (`l2/btcusdt_20240808.gz`) decoded: its symbol names (by id, as a
/// backtest takes them) and its market events.
pub fn btcusdt_capture() -> (Vec<String>, Vec<stratbox::feeds::MarketEvent>) {
    let path = data_dir().join("l2/btcusdt_20240808.gz");
    let mut names: Vec<String> = Vec::new();
    let mut intern = |n: &str| match names.iter().position(|x| x == n) {
        Some(i) => i as u32,
        None => {
            names.push(n.to_string());
            names.len() as u32 - 1
        }
    };
    let capture = stratbox::feeds::capture::read(&[&path], &mut intern, None, None)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    (names, capture.events)
}

/// The bytes of a guest component.
pub fn guest(name: &str) -> Arc<[u8]> {
    let path = guest_path(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .into()
}

/// The bytes of a component built against contract 0.1 by the 0.1 SDK (kept in
/// `tests/fixtures/components-v0.1/`, which says how they were built).
pub fn v0_1_guest(name: &str) -> Arc<[u8]> {
    let path = repo_root()
        .join("tests/fixtures/components-v0.1")
        .join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .into()
}

/// A component as the `version` SDK built it (`tests/fixtures/components-v<version>`).
pub fn older_guest(version: &str, name: &str) -> Arc<[u8]> {
    let path = repo_root()
        .join(format!("tests/fixtures/components-v{version}"))
        .join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .into()
}

/// `n` synthetic one-minute bars of symbol 0, consecutive, gently oscillating around 100.
pub fn bars(n: usize) -> Vec<Bar> {
    (0..n)
        .map(|i| {
            let c = 100.0 + (i as f64 / 7.0).sin();
            Bar {
                symbol: 0,
                interval_ms: 60_000,
                open_time: i as i64 * 60_000,
                open: c,
                high: c + 0.5,
                low: c - 0.5,
                close: c,
                volume: 10.0,
            }
        })
        .collect()
}

/// An engine over a fresh runtime with `limits`, with symbol 0 named BTCUSDT.
pub fn engine(limits: SandboxLimits) -> Engine {
    let engine = Engine::new(
        Runtime::new(limits).expect("runtime"),
        Arc::new(NullJournal),
        Box::new(BarVenue::new(BarFillConfig::default())),
    );
    engine.market().write().unwrap().add_symbol("BTCUSDT");
    engine
}

/// Deploys guest `guest` as `name` with `config` and an unlimited budget.
pub fn deploy(engine: &mut Engine, name: &str, guest_name: &str, config: &str) {
    engine
        .deploy(
            name,
            guest(guest_name),
            config.to_string(),
            Budget::unlimited(1e9),
            StateStore::default(),
        )
        .unwrap_or_else(|e| panic!("deploy {name}: {e}"));
}

/// A u64 the guest stored with `state::set_u64`.
pub fn state_u64(engine: &Engine, name: &str, key: &str) -> Option<u64> {
    engine
        .state(name)
        .unwrap()
        .get(key)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

/// What `child` announced on its first line of standard output after `prefix` (e.g. the
/// address in "stratbox listening on http://..."); takes its stdout.
pub fn announced(child: &mut std::process::Child, prefix: &str) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut line)
        .expect("read the first line");
    line.trim()
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("expected {prefix:?}, got first line {line:?}"))
        .to_string()
}

/// The package's directory: where the test runner says it is (cargo and nextest set
/// `CARGO_MANIFEST_DIR` when they run a test), else where it was built, so a test binary
/// reused from another checkout in a shared target directory reads this checkout's files.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .into()
}

/// The local PostgreSQL (trust auth, database `test`).
pub const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A schema of its own in the local PostgreSQL, so runs never see each other's rows; dropped
/// with everything in it by [`PgSchema::drop_all`].
pub struct PgSchema {
    /// The database URL whose connections use the schema.
    pub url: String,
    name: String,
    admin: sqlx::PgPool,
}

impl PgSchema {
    /// Creates a schema named from `prefix`, the process and the time.
    pub async fn create(prefix: &str) -> PgSchema {
        let name = format!(
            "{prefix}{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let admin = sqlx::PgPool::connect(POSTGRES)
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (database test)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .unwrap();
        PgSchema {
            url: format!("{POSTGRES}?options=-c%20search_path%3D{name}"),
            name,
            admin,
        }
    }

    /// Drops the schema and everything in it.
    pub async fn drop_all(self) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&self.admin)
        .await
        .unwrap();
    }
}
