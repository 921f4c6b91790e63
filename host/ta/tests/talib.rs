//! Every registered function against the numbers TA-Lib's C core gives (fixtures written by
//! `tests/fixtures/ta/generate.py` with the TA-Lib package from PyPI).
//!
//! A valid output passes when `|ours - talib| <= 1e-9 * max(|talib|, 1e-6 * scale)`, where
//! `scale` is the largest magnitude of that output in the case: relative error 1e-9, with a floor
//! so that values that cancel to almost zero (a MACD histogram crossing zero) are judged against
//! the size of their operands. NaN must stand exactly where TA-Lib has no value.
//!
//! `TA_ONLY=SMA,EMA` restricts the run to some functions.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use stratbox_ta::{Function, Series, registry};

const REL_TOL: f64 = 1e-9;

fn fixtures() -> PathBuf {
    manifest_dir().join("../../tests/fixtures/ta")
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        serde_json::from_str(&text).unwrap()
    } else {
        serde_json::from_slice(&bytes).unwrap()
    }
}

fn series() -> BTreeMap<String, Series> {
    let v = read_json(&fixtures().join("series.json.gz"));
    let col = |s: &Value, k: &str| -> Vec<f64> {
        s[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    v.as_object()
        .unwrap()
        .iter()
        .map(|(name, s)| {
            let series = Series {
                open: col(s, "open"),
                high: col(s, "high"),
                low: col(s, "low"),
                close: col(s, "close"),
                volume: col(s, "volume"),
            };
            (name.clone(), series)
        })
        .collect()
}

/// The series a case runs on: the columns it carries as `inputs` (the others NaN), else the
/// shared series it names.
fn case_series(shared: &BTreeMap<String, Series>, case: &Value) -> Series {
    let Some(inputs) = case.get("inputs") else {
        return shared[case["series"].as_str().unwrap()].clone();
    };
    let rows = case["rows"].as_u64().unwrap() as usize;
    let col = |k: &str| -> Vec<f64> {
        inputs.get(k).map_or(vec![f64::NAN; rows], |c| {
            c.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
    };
    Series {
        open: col("open"),
        high: col("high"),
        low: col("low"),
        close: col("close"),
        volume: col("volume"),
    }
}

fn only() -> Option<Vec<String>> {
    std::env::var("TA_ONLY")
        .ok()
        .map(|s| s.split(',').map(|n| n.trim().to_uppercase()).collect())
}

fn selected(name: &str) -> bool {
    only().is_none_or(|o| o.iter().any(|n| n == name))
}

fn talib_functions() -> Vec<Value> {
    read_json(&fixtures().join("meta.json"))["functions"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn every_talib_function_is_registered() {
    let missing: Vec<String> = talib_functions()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .filter(|n| registry::find(n).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "{} functions not implemented: {}",
        missing.len(),
        missing.join(" ")
    );
}

#[test]
fn registry_metadata_matches_talib() {
    let mut problems = Vec::new();
    for meta in talib_functions() {
        let name = meta["name"].as_str().unwrap();
        let Some(f) = registry::find(name) else {
            continue;
        };
        if !selected(name) {
            continue;
        }
        if f.group.talib_name() != meta["group"].as_str().unwrap() {
            problems.push(format!("{name}: group {:?}", f.group));
        }
        let outputs: Vec<&str> = meta["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap())
            .collect();
        if f.outputs != outputs.as_slice() {
            problems.push(format!(
                "{name}: outputs {:?}, TA-Lib has {outputs:?}",
                f.outputs
            ));
        }
        let inputs: Vec<String> = meta["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap().to_string())
            .collect();
        let ours: Vec<String> = f
            .inputs
            .iter()
            .map(|i| format!("{i:?}").to_lowercase())
            .collect();
        if ours != inputs {
            problems.push(format!("{name}: inputs {ours:?}, TA-Lib has {inputs:?}"));
        }
        let params = meta["params"].as_array().unwrap();
        let theirs: Vec<(String, f64, String)> = params
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["default"].as_f64().unwrap(),
                    p["type"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let ours: Vec<(String, f64, String)> = f
            .params
            .iter()
            .map(|p| {
                let kind = match p.kind {
                    stratbox_ta::ParamKind::Integer => "integer",
                    stratbox_ta::ParamKind::Real => "real",
                    stratbox_ta::ParamKind::MaType => "matype",
                };
                (p.name.to_string(), p.default, kind.to_string())
            })
            .collect();
        if ours != theirs {
            problems.push(format!("{name}: params {ours:?}, TA-Lib has {theirs:?}"));
        }
        for (p, m) in f.params.iter().zip(params) {
            if let Some(min) = m["min"].as_f64()
                && min != p.min
            {
                problems.push(format!(
                    "{name}: {} min {}, TA-Lib accepts from {min}",
                    p.name, p.min
                ));
            }
        }
        let lookback = f.lookback(&f.defaults()).unwrap();
        if lookback as u64 != meta["lookback"].as_u64().unwrap() {
            problems.push(format!(
                "{name}: default lookback {lookback}, TA-Lib {}",
                meta["lookback"]
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Compares one case; returns a description of the first disagreement.
fn check_case(f: &Function, series: &Series, case: &Value) -> Result<f64, String> {
    let params = case["params"].as_object().unwrap();
    let values: Vec<f64> = f
        .params
        .iter()
        .map(|p| params[p.name].as_f64().unwrap())
        .collect();
    let rows = case["rows"].as_u64().unwrap() as usize;
    let series = series.head(rows);
    let label = format!(
        "{} {:?} on {}",
        f.name,
        values,
        case["series"].as_str().unwrap()
    );
    let mut streaming = f
        .build(&values)
        .map_err(|e| format!("{label}: refused: {e}"))?;
    let expected_lookback = case["lookback"].as_u64().unwrap() as usize;
    if streaming.lookback() != expected_lookback {
        return Err(format!(
            "{label}: lookback {} but TA-Lib {expected_lookback}",
            streaming.lookback()
        ));
    }
    let width = f.outputs.len();
    let mut out = vec![f64::NAN; width];
    let mut stream_cols = vec![Vec::with_capacity(rows); width];
    for i in 0..rows {
        streaming.next(&series.bar(i), &mut out);
        for k in 0..width {
            stream_cols[k].push(out[k]);
        }
    }
    let mut batch_cols = vec![Vec::new(); width];
    f.build(&values).unwrap().batch(&series, &mut batch_cols);
    let refs = case["outputs"].as_array().unwrap();
    let mut worst: f64 = 0.0;
    for k in 0..width {
        let reference: Vec<Option<f64>> = refs[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64())
            .collect();
        let scale = reference
            .iter()
            .flatten()
            .fold(0.0f64, |m, x| m.max(x.abs()));
        for i in 0..rows {
            let (ours, batch) = (stream_cols[k][i], batch_cols[k][i]);
            if ours.to_bits() != batch.to_bits() && !(ours.is_nan() && batch.is_nan()) {
                return Err(format!(
                    "{label}: {}[{i}] streaming {ours} but batch {batch}",
                    f.outputs[k]
                ));
            }
            match reference[i] {
                None if !ours.is_nan() => {
                    return Err(format!(
                        "{label}: {}[{i}] = {ours} where TA-Lib has no value",
                        f.outputs[k]
                    ));
                }
                None => {}
                Some(t) => {
                    let err = (ours - t).abs();
                    let denom = t.abs().max(1e-6 * scale);
                    let rel = if err == 0.0 { 0.0 } else { err / denom };
                    if rel.is_nan() || rel > REL_TOL {
                        return Err(format!(
                            "{label}: {}[{i}] = {ours:e}, TA-Lib {t:e} (relative error {rel:e})",
                            f.outputs[k]
                        ));
                    }
                    worst = worst.max(rel);
                }
            }
        }
    }
    Ok(worst)
}

#[test]
fn outputs_match_talib() {
    let series = series();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut worst: f64 = 0.0;
    for f in registry::all() {
        if !selected(f.name) {
            continue;
        }
        let fixture = read_json(&fixtures().join(format!("{}.json.gz", f.name)));
        for case in fixture["cases"].as_array().unwrap() {
            let s = case_series(&series, case);
            let outcome = std::panic::catch_unwind(|| check_case(f, &s, case))
                .unwrap_or_else(|_| Err(format!("{} {}: panicked", f.name, case["params"])));
            match outcome {
                Ok(w) => {
                    worst = worst.max(w);
                    checked += 1;
                }
                Err(e) => failures.push(e),
            }
        }
    }
    eprintln!("{checked} cases agree with TA-Lib; worst relative error {worst:e}");
    assert!(
        failures.is_empty(),
        "{} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The package's directory: where the test runner says it is (cargo and nextest set
/// `CARGO_MANIFEST_DIR` when they run a test), else where it was built, so a test binary
/// reused from another checkout in a shared target directory reads this checkout's files.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .into()
}
