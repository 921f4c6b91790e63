//! Running `stratbox serve` and `stratbox exchange-sim` as processes, for the tests that drive
//! the service end to end.

use super::announced;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "test-token-0123456789";

pub struct Server {
    /// The process.
    pub child: Child,
    /// Its control endpoint.
    pub endpoint: String,
}

impl Server {
    pub fn start(config: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["serve", "--config"])
            .arg(config)
            .env_remove("STRATBOX_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start stratbox serve");
        let endpoint = announced(&mut child, "stratbox listening on ");
        Server { child, endpoint }
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
                assert!(status.success(), "serve exited with {status}");
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
    let mut sim = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args([
            "exchange-sim",
            "--listen",
            "127.0.0.1:0",
            "--symbol",
            symbols,
            "--interval",
            "1m",
            "--candles",
            "5000",
            "--bars-per-second",
            "100",
            "--book-ms",
            "50",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = announced(&mut sim, "exchange-sim listening on http://");
    (Process(sim), addr)
}
