//! Running `stratbox serve` and `stratbox exchange-sim` as processes, for the tests that drive
//! the service end to end.

use super::announced;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "test-token-0123456789";

pub struct Server {
    /// The process.
    pub child: Child,
    /// Its control endpoint.
    pub endpoint: String,
    /// Where its log (standard error) goes, shown when it exits badly.
    log: tempfile::NamedTempFile,
}

impl Server {
    pub fn start(config: &Path) -> Server {
        Self::start_with_env(config, &[])
    }

    /// Starts the service with `env` (name, value) added to its environment.
    pub fn start_with_env(config: &Path, env: &[(&str, &str)]) -> Server {
        let log = tempfile::NamedTempFile::new().expect("a file for the service's log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["serve", "--config"])
            .arg(config)
            .env_remove("STRATBOX_TOKEN")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("reopen the log file"))
            .spawn()
            .expect("start stratbox serve");
        let endpoint = announced(&mut child, "stratbox listening on ");
        Server {
            child,
            endpoint,
            log,
        }
    }

    pub fn run(&self, args: &[&str]) -> (bool, String) {
        self.run_with_token(args, TOKEN)
    }

    pub fn run_with_token(&self, args: &[&str], token: &str) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(args)
            .args(["--endpoint", &self.endpoint, "--token", token])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// Everything the service has logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The last 40 lines the service logged.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "serve exited with {status}; the end of its log:\n{}",
                    self.log_tail()
                );
                return;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed when dropped, so a failing test leaves nothing running.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `stratbox exchange-sim` for `symbols` (comma-separated), pacing 100 bars a second;
/// returns it and its address.
pub fn start_exchange_sim(symbols: &str) -> (Process, String) {
    start_exchange_sim_with(symbols, &[])
}

/// The same with more flags (accounts, faults, fees), which replace the defaults they name.
pub fn start_exchange_sim_with(symbols: &str, flags: &[&str]) -> (Process, String) {
    // The defaults of these tests, unless `flags` gives its own.
    let defaults = [
        ("--interval", "1m"),
        ("--candles", "5000"),
        ("--bars-per-second", "100"),
        ("--book-ms", "50"),
    ];
    let mut sim = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args([
            "exchange-sim",
            "--listen",
            "127.0.0.1:0",
            "--symbol",
            symbols,
        ])
        .args(
            defaults
                .iter()
                .filter(|(flag, _)| !flags.contains(flag))
                .flat_map(|(flag, value)| [*flag, *value]),
        )
        .args(flags)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = announced(&mut sim, "exchange-sim listening on http://");
    (Process(sim), addr)
}

/// The `market-maker` component's configuration in the paper-trading tests: quotes a tick
/// inside the spread.
pub const MM_CONFIG: &str = r#"{"quantity": 0.01, "max_position": 0.05, "inside_ticks": 1}"#;

/// Its risk budget (TOML): 1,000,000 USDT and 1 BTC to start, the limits out of the way.
pub const MM_BUDGET: &str = "balances = { USDT = 1000000, BTC = 1 }\nmax_order_notional = 1000000\nmax_position_notional = 1000000\nmax_gross_exposure = 10000000\nmax_orders_per_second = 1000\nmax_daily_loss = 1000000\n";

/// Writes `dir/serve.toml`: the service paper-trading the market maker (deployment `mm`) on
/// BTCUSDT from the exchange simulator at `addr`, stored in `dir/db.sqlite`, with
/// `market_extra` (TOML lines) added to its `[market]` table. Returns the file.
pub fn market_maker_service(dir: &Path, addr: &str, market_extra: &str) -> PathBuf {
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
             [store]\nurl = \"sqlite://{}\"\ncomponent_cache = \"components\"\n\
             [market]\nsource = \"binance\"\nrest = \"http://{addr}\"\nws = \"ws://{addr}\"\n\
             symbols = [\"BTCUSDT\"]\ninterval = \"1m\"\n{market_extra}\
             [[deploy]]\nname = \"mm\"\ncomponent = \"{}\"\nconfig = '{MM_CONFIG}'\n\
             budget = {{ {} }}\n",
            dir.join("db.sqlite").display(),
            super::guest_path("market-maker").display(),
            MM_BUDGET.trim().replace('\n', ", "),
        ),
    )
    .expect("write the service configuration");
    config
}
