//! Risk measures against the outside references in `tests/fixtures/risk/reference.json`
//! (numpy/scipy, scikit-learn's LedoitWolf and PyPortfolioOpt, by `generate.py` beside it):
//! VaR and CVaR by five methods at two confidences and two horizons, covariance estimators,
//! portfolio optimisers and VaR backtests, over real candles and a synthetic eight-asset
//! market; then `stratbox risk` itself, its JSON and its refusals.

mod common;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use stratbox::risk::returns::{self, Returns};
use stratbox_quant::backtest::{self, evaluate};
use stratbox_quant::covariance::{self, Estimator};
use stratbox_quant::optimize::{self, Constraints};
use stratbox_quant::var::{self, Method, RISKMETRICS_LAMBDA};
use stratbox_quant::{Matrix, stats};

fn reference() -> Value {
    let path = common::repo_root().join("tests/fixtures/risk/reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A case's files, as the fixture names them (`shared/data/...` is the shared market data).
fn files(case: &Value) -> Vec<PathBuf> {
    case["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let f = f.as_str().unwrap();
            match f.strip_prefix("shared/data/") {
                Some(name) => common::data_dir().join(name),
                None => common::repo_root().join(f),
            }
        })
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> Matrix {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(floats).collect();
    Matrix::from_rows(&rows).unwrap()
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    let tol = rel * want.abs().max(1e-12);
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got} against the reference {want} (|diff| {:.3e}, allowed {tol:.3e})",
        (got - want).abs()
    );
}

fn close_all(what: &str, got: &[f64], want: &[f64], abs: f64) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= abs,
            "{what}[{i}]: {g} against the reference {w} (allowed {abs:e}): {got:?} vs {want:?}"
        );
    }
}

fn cases() -> Vec<(String, Value, Returns)> {
    let r = reference();
    r["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, case)| {
            let returns = returns::read(&files(case)).unwrap();
            (name.clone(), case.clone(), returns)
        })
        .collect()
}

#[test]
fn returns_are_aligned_as_the_reference_aligns_them() {
    for (name, case, r) in cases() {
        assert_eq!(
            r.matrix.rows() as u64,
            case["n_returns"].as_u64().unwrap(),
            "{name}"
        );
        let p = r.matrix.times(&floats(&case["weights"])).unwrap();
        close_all(&name, &p[..5], &floats(&case["portfolio"]["first5"]), 0.0);
        close(
            &name,
            p.iter().sum(),
            case["portfolio"]["sum"].as_f64().unwrap(),
            1e-12,
        );
    }
}

#[test]
fn var_and_cvar_match_numpy_and_scipy() {
    for (name, case, r) in cases() {
        let w = floats(&case["weights"]);
        let methods = [
            ("historical", Method::Historical, 1e-12),
            ("parametric", Method::Parametric, 1e-12),
            (
                "ewma",
                Method::Ewma {
                    lambda: RISKMETRICS_LAMBDA,
                },
                1e-12,
            ),
            ("cornish-fisher", Method::CornishFisher, 1e-10),
        ];
        for (label, method, rel) in methods {
            for h in ["1", "10"] {
                for c in ["0.95", "0.99"] {
                    let want = &case["var"][label][h][c];
                    let e = var::portfolio(
                        &r.matrix,
                        &w,
                        method,
                        c.parse().unwrap(),
                        h.parse().unwrap(),
                    )
                    .unwrap();
                    let what = format!("{name} {label} h={h} c={c}");
                    close(
                        &format!("{what} VaR"),
                        e.var,
                        want["var"].as_f64().unwrap(),
                        rel,
                    );
                    close(
                        &format!("{what} CVaR"),
                        e.cvar,
                        want["cvar"].as_f64().unwrap(),
                        rel,
                    );
                }
            }
        }
    }
}

/// Seeded Monte Carlo converges to the normal it draws from: within 4 standard errors of the
/// parametric values the fixture records (the standard error of a quantile estimate is
/// `sqrt(a (1 - a) / n) / f(q)`; of the tail mean about `sigma_tail / sqrt(a n)`).
#[test]
fn monte_carlo_var_is_within_its_sampling_error_of_the_normal_it_draws_from() {
    let paths = 200_000;
    for (name, case, r) in cases() {
        let w = floats(&case["weights"]);
        for h in ["1", "10"] {
            for c in ["0.95", "0.99"] {
                let conf: f64 = c.parse().unwrap();
                let a = 1.0 - conf;
                let hb: f64 = h.parse().unwrap();
                let method = Method::MonteCarlo { paths, seed: 7 };
                let e = var::portfolio(&r.matrix, &w, method, conf, h.parse().unwrap()).unwrap();
                let sigma = case["var"]["monte-carlo"]["sigma"].as_f64().unwrap() * hb.sqrt();
                let z = stats::normal_ppf(a);
                let se_var = (a * (1.0 - a) / paths as f64).sqrt() / (stats::normal_pdf(z) / sigma);
                let se_cvar = 1.5 * sigma / (a * paths as f64).sqrt();
                let want = &case["var"]["monte-carlo"][h][c];
                let what = format!("{name} monte-carlo h={h} c={c}");
                let (wv, wc) = (
                    want["var"].as_f64().unwrap(),
                    want["cvar"].as_f64().unwrap(),
                );
                assert!(
                    (e.var - wv).abs() < 4.0 * se_var,
                    "{what}: VaR {} vs {wv}",
                    e.var
                );
                assert!(
                    (e.cvar - wc).abs() < 4.0 * se_cvar,
                    "{what}: CVaR {} vs {wc}",
                    e.cvar
                );
                // The same seed, the same numbers.
                let again =
                    var::portfolio(&r.matrix, &w, method, conf, h.parse().unwrap()).unwrap();
                assert_eq!(e, again);
            }
        }
    }
}

#[test]
fn covariances_match_numpy_and_scikit_learn() {
    for (name, case, r) in cases() {
        let want = &case["covariance"];
        let n = r.matrix.cols();
        let check = |label: &str, got: &Matrix| {
            let m = matrix(&want[label]);
            for i in 0..n {
                for j in 0..n {
                    close(
                        &format!("{name} {label} [{i},{j}]"),
                        got.get(i, j),
                        m.get(i, j),
                        1e-9,
                    );
                }
            }
        };
        check("sample", &covariance::sample(&r.matrix).unwrap());
        let (lw, shrinkage) = covariance::ledoit_wolf(&r.matrix).unwrap();
        close(
            &format!("{name} shrinkage"),
            shrinkage,
            want["ledoit-wolf-shrinkage"].as_f64().unwrap(),
            1e-9,
        );
        check("ledoit-wolf", &lw);
        check(
            "ewma",
            &covariance::ewma(&r.matrix, RISKMETRICS_LAMBDA).unwrap(),
        );
    }
}

fn estimators() -> [(&'static str, Estimator); 3] {
    [
        ("sample", Estimator::Sample),
        ("ledoit-wolf", Estimator::LedoitWolf),
        (
            "ewma",
            Estimator::Ewma {
                lambda: RISKMETRICS_LAMBDA,
            },
        ),
    ]
}

#[test]
fn optimisers_match_pyportfolioopt() {
    for (name, case, r) in cases() {
        let opt = &case["optimize"];
        for (label, estimator) in estimators() {
            let cov = covariance::estimate(&r.matrix, estimator).unwrap();
            for (bound, want) in opt["min-variance"][label].as_object().unwrap() {
                let c = Constraints {
                    max_weight: bound.parse().unwrap(),
                    turnover: None,
                };
                let w = optimize::min_variance(&cov, &c).unwrap();
                close_all(
                    &format!("{name} min-variance {label} {bound}"),
                    &w,
                    &floats(&want["weights_exact"]),
                    1e-6,
                );
            }
            if let Some(sharpe) = opt["max-sharpe"][label].as_object() {
                for (bound, want) in sharpe {
                    let w = optimize::max_sharpe(
                        &r.matrix.column_means(),
                        &cov,
                        bound.parse().unwrap(),
                    )
                    .unwrap();
                    close_all(
                        &format!("{name} max-sharpe {label} {bound}"),
                        &w,
                        &floats(&want["weights_exact"]),
                        1e-6,
                    );
                }
            }
            let w = optimize::risk_parity(&cov).unwrap();
            close_all(
                &format!("{name} risk-parity {label}"),
                &w,
                &floats(&opt["risk-parity"][label]["weights"]),
                1e-9,
            );
            let w = optimize::hrp(&cov).unwrap();
            close_all(
                &format!("{name} hrp {label}"),
                &w,
                &floats(&opt["hrp"][label]["weights"]),
                1e-9,
            );
        }
        for (bound, want) in opt["min-cvar"].as_object().unwrap() {
            let Ok(max_weight) = bound.parse::<f64>() else {
                continue;
            };
            let beta = opt["min-cvar"]["beta"].as_f64().unwrap();
            let c = Constraints {
                max_weight,
                turnover: None,
            };
            let w = optimize::min_cvar(&r.matrix, beta, &c).unwrap();
            let cvar = optimize::scenario_cvar(&r.matrix, &w, beta).unwrap();
            let what = format!("{name} min-cvar {bound}");
            close(
                &what,
                cvar,
                want["cvar_exact_at_weights"].as_f64().unwrap(),
                1e-7,
            );
            if want["weights_unique"].as_bool() == Some(true) {
                close_all(&what, &w, &floats(&want["weights"]), 1e-4);
            }
        }
    }
}

/// A backtest's tests against the reference's: the statistics, p-values and zone.
fn same_tests(what: &str, b: &stratbox_quant::backtest::Backtest, want: &Value) {
    let pairs = [
        ("Kupiec", b.kupiec.statistic, "lr_pof"),
        ("Kupiec p", b.kupiec.p_value, "p_pof"),
        ("independence", b.independence.statistic, "lr_ind"),
        ("independence p", b.independence.p_value, "p_ind"),
        (
            "conditional coverage",
            b.conditional_coverage.statistic,
            "lr_cc",
        ),
        (
            "conditional coverage p",
            b.conditional_coverage.p_value,
            "p_cc",
        ),
        ("Basel probability", b.zone_probability, "basel_cum_prob"),
    ];
    for (label, got, key) in pairs {
        close(
            &format!("{what} {label}"),
            got,
            want[key].as_f64().unwrap(),
            1e-9,
        );
    }
    assert_eq!(
        b.zone.name(),
        want["basel_zone"].as_str().unwrap(),
        "{what}"
    );
}

#[test]
fn var_backtests_match_the_reference_tests() {
    for (name, case, r) in cases() {
        let p = r.matrix.times(&floats(&case["weights"])).unwrap();
        let bt = &case["backtest"];
        let window = bt["window"].as_u64().unwrap() as usize;
        for (label, method) in [
            ("historical", Method::Historical),
            ("parametric", Method::Parametric),
        ] {
            for (c, want) in bt[label].as_object().unwrap() {
                let what = format!("{name} {label} {c}");
                let b = backtest::rolling(&p, window, method, c.parse().unwrap()).unwrap();
                assert_eq!(
                    b.observations as u64,
                    want["n_obs"].as_u64().unwrap(),
                    "{what}"
                );
                let seq: String = b
                    .sequence
                    .iter()
                    .map(|&e| if e { '1' } else { '0' })
                    .collect();
                assert_eq!(seq, want["exceptions"].as_str().unwrap(), "{what}");
                same_tests(&what, &b, want);
            }
        }
    }
    for want in reference()["lr_cases"].as_array().unwrap() {
        let what = want["sequence"].as_str().unwrap();
        let seq: Vec<bool> = what.chars().map(|c| c == '1').collect();
        same_tests(what, &evaluate(seq, want["alpha"].as_f64().unwrap()), want);
    }
}

fn stratbox(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(args)
        .output()
        .unwrap()
}

/// The answers of the command or the API for synthetic8 against the reference: historical VaR
/// and CVaR, min-variance weights capped at 0.3, a parametric backtest's exceptions.
fn same_answers(what: &str, case: &Value, var: &Value, optimize: &Value, backtest: &Value) {
    let want = &case["var"]["historical"]["1"];
    close(
        &format!("{what} VaR"),
        var["var"]["0.99"].as_f64().unwrap(),
        want["0.99"]["var"].as_f64().unwrap(),
        1e-12,
    );
    close(
        &format!("{what} CVaR"),
        var["cvar"]["0.95"].as_f64().unwrap(),
        want["0.95"]["cvar"].as_f64().unwrap(),
        1e-12,
    );
    let want = floats(&case["optimize"]["min-variance"]["sample"]["0.3"]["weights_exact"]);
    for (i, w) in want.iter().enumerate() {
        let got = optimize["weights"][format!("S{i}")].as_f64().unwrap();
        assert!((got - w).abs() < 1e-6, "{what} S{i}: {got} vs {w}");
    }
    assert_eq!(
        backtest["backtests"]["0.99"]["exceptions"],
        case["backtest"]["parametric"]["0.99"]["n_exceptions"],
        "{what}"
    );
}

#[test]
fn the_command_prints_json_named_after_the_files_and_refuses_bad_input() {
    let reference = reference();
    let case = &reference["cases"]["synthetic8"];
    let list: Vec<String> = files(case)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let prices = list.join(",");
    let answer = |args: &[&str]| -> Value {
        let out = stratbox(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    same_answers(
        "CLI",
        case,
        &answer(&[
            "risk",
            "var",
            "--prices",
            &prices,
            "--method",
            "historical",
            "--confidence",
            "0.95,0.99",
            "--json",
        ]),
        &answer(&[
            "risk",
            "optimize",
            "--prices",
            &prices,
            "--method",
            "min-variance",
            "--max-weight",
            "0.3",
            "--json",
        ]),
        &answer(&[
            "risk",
            "backtest-var",
            "--prices",
            &prices,
            "--window",
            "250",
            "--method",
            "parametric",
            "--confidence",
            "0.99",
            "--json",
        ]),
    );

    // Refusals name what was wrong.
    let refused = |args: &[&str], says: &str| {
        let out = stratbox(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    };
    refused(
        &[
            "risk",
            "var",
            "--prices",
            &prices,
            "--method",
            "historical",
            "--weights",
            "0.5,0.5",
        ],
        "2 weights for 8 assets",
    );
    refused(
        &[
            "risk",
            "var",
            "--prices",
            &prices,
            "--method",
            "parametric",
            "--confidence",
            "1.5",
        ],
        "confidence must be strictly between 0 and 1",
    );
    refused(
        &[
            "risk",
            "optimize",
            "--prices",
            &prices,
            "--method",
            "min-variance",
            "--max-weight",
            "0.1",
        ],
        "cannot sum to 1",
    );
    refused(
        &[
            "risk",
            "var",
            "--prices",
            &format!("{},{}", list[0], list[0]),
            "--method",
            "historical",
        ],
        "both named \"S0\"",
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "open_time_ms,open,high,low,close,volume\n1,1,1,1,1,1\n2,1,1,1,0,1\n",
    )
    .unwrap();
    refused(
        &[
            "risk",
            "var",
            "--prices",
            &bad.display().to_string(),
            "--method",
            "historical",
        ],
        "line 3: inconsistent candle",
    );
    std::fs::write(
        &bad,
        "open_time_ms,open,high,low,close,volume\n1,1,1,1,1,1\n2,0,0,0,0,1\n",
    )
    .unwrap();
    refused(
        &[
            "risk",
            "var",
            "--prices",
            &bad.display().to_string(),
            "--method",
            "historical",
        ],
        "close at open time 2 is 0, not a positive price",
    );
    let other = dir.path().join("other.csv");
    std::fs::write(
        &other,
        "open_time_ms,open,high,low,close,volume\n5,1,1,1,1,1\n6,1,2,1,2,1\n",
    )
    .unwrap();
    refused(
        &[
            "risk",
            "var",
            "--prices",
            &format!("{},{}", list[0], other.display()),
            "--method",
            "historical",
        ],
        "share 0 open times",
    );
}

/// The same analyses through the control API, over posted prices.
#[test]
fn the_api_serves_the_same_analyses_over_posted_prices() {
    let reference = reference();
    let case = &reference["cases"]["synthetic8"];
    let mut prices = serde_json::Map::new();
    for path in files(case) {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let closes: Vec<Value> = stratbox::feeds::candles::read_file(&path)
            .unwrap()
            .iter()
            .map(|c| serde_json::json!([c.open_time, c.close.to_f64()]))
            .collect();
        prices.insert(name, Value::Array(closes));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{}\"\n[store]\nurl = \"sqlite://{}\"\n\
             [market]\nsource = \"replay\"\ndata = \"{}\"\nsymbol = \"BTCUSDT\"\n",
            common::service::TOKEN,
            dir.path().join("db.sqlite").display(),
            common::data_dir().join("BTC_1m_a.csv").display()
        ),
    )
    .unwrap();
    let server = common::service::Server::start(&config);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let post = |path: &str, body: Value, token: &str| -> (u16, Value) {
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .post(format!("{}{path}", server.endpoint))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    };
    let token = common::service::TOKEN;
    let with = |extra: Value| {
        let mut body = extra.as_object().unwrap().clone();
        body.insert("prices".into(), Value::Object(prices.clone()));
        Value::Object(body)
    };
    let answer = |path: &str, settings: Value| -> Value {
        let (status, v) = post(path, with(settings), token);
        assert_eq!(status, 200, "{v}");
        v
    };
    same_answers(
        "API",
        case,
        &answer(
            "/v1/risk/var",
            serde_json::json!({"method": "historical", "confidence": [0.95, 0.99]}),
        ),
        &answer(
            "/v1/risk/optimize",
            serde_json::json!({"method": "min-variance", "max_weight": 0.3}),
        ),
        &answer(
            "/v1/risk/backtest-var",
            serde_json::json!({"window": 250, "method": "parametric", "confidence": [0.99]}),
        ),
    );
    // Refusals: no shared times, an unknown setting, no token.
    let (status, v) = post(
        "/v1/risk/var",
        serde_json::json!({"prices": {}, "method": "historical"}),
        token,
    );
    assert_eq!(status, 422, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("share 0 open times"),
        "{v}"
    );
    let (status, v) = post(
        "/v1/risk/optimize",
        with(serde_json::json!({"method": "min-variance", "max_weight": 0.1})),
        token,
    );
    assert_eq!(status, 422, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("cannot sum to 1"),
        "{v}"
    );
    let (status, _) = post(
        "/v1/risk/var",
        with(serde_json::json!({"method": "historical"})),
        "wrong",
    );
    assert_eq!(status, 401);
    server.terminate();
}
