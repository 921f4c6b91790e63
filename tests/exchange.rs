//! The exchange simulator as a test exchange: trading accounts from the command line and
//! Binance's signed-request authentication, checked with our own signatures and with Binance's
//! own Python client (`binance-sdk-spot` from PyPI) pointed at the simulator.

mod common;

use common::service::Process;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::process::{Command, Stdio};

const KEY: &str = "sim-key-a";
const SECRET: &str = "sim-secret-a";

/// The simulator with the accounts `accounts` (its command-line flags); it and its base URL.
fn start_with(accounts: &[&std::ffi::OsStr]) -> (Process, String) {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args([
            "exchange-sim",
            "--listen",
            "127.0.0.1:0",
            "--candles",
            "2000",
        ])
        .args(accounts)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = common::announced(&mut sim, "exchange-sim listening on http://");
    (Process(sim), format!("http://{addr}"))
}

/// The simulator with two HMAC accounts: `KEY` (USDT and BTC) and `sim-key-b` (ETH).
fn start() -> (Process, String) {
    let flags = [
        "--api-key",
        KEY,
        "--api-secret",
        SECRET,
        "--balances",
        "USDT=10000,BTC=1",
        "--api-key",
        "sim-key-b",
        "--api-secret",
        "sim-secret-b",
        "--balances",
        "ETH=5",
    ];
    start_with(&flags.map(std::ffi::OsStr::new))
}

fn sign(secret: &str, text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn now_ms() -> i64 {
    stratbox::model::time::wall_clock_ms()
}

/// `GET base+path?query&signature=...` with `key`: status and body.
fn signed_get(base: &str, path: &str, key: &str, secret: &str, query: &str) -> (u16, Value) {
    let url = format!("{base}{path}?{query}&signature={}", sign(secret, query));
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let r = reqwest::Client::new()
            .get(url)
            .header("X-MBX-APIKEY", key)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    })
}

#[test]
fn accounts_answer_signed_requests_and_refuse_what_binance_refuses() {
    let (_sim, base) = start();
    let (status, account) = signed_get(
        &base,
        "/api/v3/account",
        KEY,
        SECRET,
        &format!("timestamp={}", now_ms()),
    );
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["accountType"], "SPOT");
    let balances: Vec<(&str, &str)> = account["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["asset"].as_str().unwrap(), b["free"].as_str().unwrap()))
        .collect();
    assert_eq!(
        balances,
        [("BTC", "1.00000000"), ("USDT", "10000.00000000")]
    );
    // The second account is its own.
    let (_, other) = signed_get(
        &base,
        "/api/v3/account",
        "sim-key-b",
        "sim-secret-b",
        &format!("timestamp={}", now_ms()),
    );
    assert_eq!(other["balances"][0]["asset"], "ETH");
    assert_ne!(other["uid"], account["uid"]);

    let refused = |key: &str, secret: &str, query: String| {
        let (status, body) = signed_get(&base, "/api/v3/account", key, secret, &query);
        (status, body["code"].as_i64().unwrap())
    };
    let ts = || format!("timestamp={}", now_ms());
    assert_eq!(refused("nobody", SECRET, ts()), (401, -2015));
    assert_eq!(refused(KEY, "wrong-secret", ts()), (400, -1022));
    assert_eq!(
        refused(KEY, SECRET, format!("timestamp={}", now_ms() - 10_000)),
        (400, -1021)
    );
    assert_eq!(
        refused(
            KEY,
            SECRET,
            format!("recvWindow=60001&timestamp={}", now_ms())
        ),
        (400, -1131)
    );
    assert_eq!(refused(KEY, SECRET, "recvWindow=5000".into()), (400, -1102));
    // A longer window takes an older timestamp.
    let (status, _) = signed_get(
        &base,
        "/api/v3/account",
        KEY,
        SECRET,
        &format!("recvWindow=20000&timestamp={}", now_ms() - 10_000),
    );
    assert_eq!(status, 200);
}

#[test]
fn binance_sdk_spot_reads_the_account_unchanged() {
    let (_sim, base) = start();
    let script = common::repo_root().join("tests/exchange_sim/sdk_account.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([&base, KEY, SECRET])
        .output()
        .expect("python3 with binance-sdk-spot (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let account: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(account["account_type"], "SPOT");
    assert_eq!(account["can_trade"], true);
    assert_eq!(account["balances"]["USDT"][0], "10000.00000000");
    assert_eq!(account["balances"]["BTC"][0], "1.00000000");
}

#[test]
fn accounts_on_the_command_line_must_be_whole() {
    for (args, says) in [
        (
            vec!["--api-key", "k"],
            "give each account an --api-key, then an --api-secret",
        ),
        (
            vec!["--api-secret", "s", "--api-key", "k"],
            "--api-secret must follow the --api-key",
        ),
        (
            vec!["--api-key", "k", "--api-secret", "s"],
            "has no --balances",
        ),
        (
            vec![
                "--api-key",
                "k",
                "--ed25519-key",
                "/nonexistent.pem",
                "--balances",
                "USDT=1",
            ],
            "--ed25519-key /nonexistent.pem",
        ),
        (
            vec!["--api-key", "k", "--api-secret", "s", "--balances", "USDT"],
            "ASSET=AMOUNT",
        ),
        (
            vec![
                "--api-key",
                "k",
                "--api-secret",
                "s",
                "--balances",
                "USDT=1",
                "--api-key",
                "k",
                "--api-secret",
                "t",
                "--balances",
                "BTC=1",
            ],
            "two accounts have the API key",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["exchange-sim", "--listen", "127.0.0.1:0"])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn binance_sdk_spot_signs_with_ed25519_and_the_simulator_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let keys = common::repo_root().join("tests/exchange_sim/ed25519_keys.py");
    assert!(
        Command::new("python3")
            .arg(&keys)
            .arg(dir.path())
            .status()
            .unwrap()
            .success()
    );
    let public = dir.path().join("public.pem");
    let flags = [
        "--api-key".as_ref(),
        "ed-key".as_ref(),
        "--ed25519-key".as_ref(),
        public.as_os_str(),
        "--balances".as_ref(),
        "USDT=250".as_ref(),
        // The HMAC account, its flags in another order.
        "--api-key".as_ref(),
        KEY.as_ref(),
        "--balances".as_ref(),
        "BTC=1".as_ref(),
        "--api-secret".as_ref(),
        SECRET.as_ref(),
    ];
    let (_sim, base) = start_with(&flags);
    let script = common::repo_root().join("tests/exchange_sim/sdk_account.py");
    let run = |key: &str| {
        Command::new("python3")
            .arg(&script)
            .args([&base, key, "--ed25519"])
            .arg(dir.path().join("private.pem"))
            .output()
            .unwrap()
    };
    let out = run("ed-key");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let account: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(account["balances"]["USDT"][0], "250.00000000");
    // The Ed25519 key signs for its own account only: the HMAC account refuses it.
    assert!(!run(KEY).status.success());
    // The HMAC account, its flags in another order, still answers its own signatures.
    let (status, _) = signed_get(
        &base,
        "/api/v3/account",
        KEY,
        SECRET,
        &format!("timestamp={}", now_ms()),
    );
    assert_eq!(status, 200);
}
