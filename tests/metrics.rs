//! The metrics of a run against empyrical's, computed by `tests/fixtures/metrics/generate.py`
//! (365 days a year, risk-free rate 0), and the daily resampling of an equity curve against
//! pandas'.

use stratbox::monitor::{EquityPoint, daily_returns, ratios};

fn fixture() -> serde_json::Value {
    let path = manifest_dir().join("../tests/fixtures/metrics/metrics.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(a: f64, b: f64, what: &str) {
    let scale = a.abs().max(b.abs()).max(1e-12);
    assert!((a - b).abs() / scale < 1e-9, "{what}: {a} vs {b}");
}

#[test]
fn return_ratios_match_empyrical() {
    let f = fixture();
    for (i, case) in f["cases"].as_array().unwrap().iter().enumerate() {
        let returns = floats(&case["returns"]);
        let (annual_return, annual_volatility, sharpe, sortino, max_drawdown, calmar) =
            ratios(&returns);
        let expect = |k: &str| case[k].as_f64().unwrap();
        close(
            annual_return,
            expect("annual_return"),
            &format!("{i} annual return"),
        );
        close(
            annual_volatility,
            expect("annual_volatility"),
            &format!("{i} volatility"),
        );
        close(sharpe, expect("sharpe"), &format!("{i} sharpe"));
        close(sortino, expect("sortino"), &format!("{i} sortino"));
        close(
            max_drawdown,
            expect("max_drawdown"),
            &format!("{i} max drawdown"),
        );
        close(calmar, expect("calmar"), &format!("{i} calmar"));
    }
}

#[test]
fn equity_curves_resample_to_days_as_pandas_does() {
    let f = fixture();
    for curve in f["curves"].as_array().unwrap() {
        let times: Vec<i64> = curve["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_i64().unwrap())
            .collect();
        let points: Vec<EquityPoint> = times
            .iter()
            .zip(floats(&curve["equity"]))
            .map(|(&time, equity)| EquityPoint { time, equity })
            .collect();
        let ours = daily_returns(curve["initial"].as_f64().unwrap(), &points);
        let theirs = floats(&curve["daily_returns"]);
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() < 1e-12, "day {i}: {a} vs {b}");
        }
        close(ratios(&ours).2, curve["sharpe"].as_f64().unwrap(), "sharpe");
    }
}

/// The package's directory: where the test runner says it is (cargo and nextest set
/// `CARGO_MANIFEST_DIR` when they run a test), else where it was built, so a test binary
/// reused from another checkout in a shared target directory reads this checkout's files.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .into()
}
