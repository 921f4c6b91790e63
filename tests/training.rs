//! Learning in the host on real candles (`../shared/data`): training sets built through the
//! feature engine see no bar after their own, and `stratbox model train` judges a model out of
//! sample on purged walk-forward folds, passes the shifted-labels control, and writes a model
//! that inference loads.

mod common;

use common::data_dir;
use std::process::Command;
use stratbox::features::FeatureConfig;
use stratbox::feeds::candles;
use stratbox::learning::dataset::{Dataset, DatasetSpec};
use stratbox_learn::labels::{LabelSpec, Threshold};

fn spec() -> DatasetSpec {
    DatasetSpec {
        features: ["ret_1", "RSI_14", "zscore_32:ret_1", "ADX_14"]
            .map(String::from)
            .to_vec(),
        seq: 8,
        label: LabelSpec::FixedHorizon {
            horizon: 5,
            threshold: Threshold::Volatility { k: 0.5, window: 30 },
        },
        interval_ms: 60_000,
    }
}

/// A sample's inputs come from its bar and those before: the training set of the first bars
/// alone holds the same windows for the samples both have.
#[test]
fn a_samples_inputs_do_not_depend_on_later_bars() {
    let rows = candles::read_file(&data_dir().join("BTC_1m_a.csv")).unwrap();
    let full = Dataset::build(
        &[("BTCX".into(), rows[..3000].to_vec())],
        &spec(),
        FeatureConfig::default(),
    )
    .unwrap();
    let short = Dataset::build(
        &[("BTCX".into(), rows[..1500].to_vec())],
        &spec(),
        FeatureConfig::default(),
    )
    .unwrap();
    assert!(short.len() > 1000, "{} samples", short.len());
    for i in 0..short.len() {
        assert_eq!(short.times[i], full.times[i]);
        assert_eq!(short.spans[i], full.spans[i]);
        assert_eq!(short.labels[i], full.labels[i]);
        assert_eq!(
            short.x.index_axis(ndarray::Axis(0), i),
            full.x.index_axis(ndarray::Axis(0), i),
            "sample {i}"
        );
    }
    // Labels look ahead their horizon (more across a gap); the last samples wait for theirs.
    let last = full.spans.last().unwrap();
    assert!(last.end - last.start >= 5, "{last:?}");
    assert!(full.times.last().unwrap() + 5 * 60_000 <= rows[2999].open_time + 60_000);
}

/// `stratbox model train --config config` on the shared 1m candles, into `out`.
fn train(config: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    train_on(config, &data_dir().join("BTC_1m_a.csv"), out)
}

/// `stratbox model train --config config --data data --output out`.
fn train_on(
    config: &std::path::Path,
    data: &std::path::Path,
    out: &std::path::Path,
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["model", "train", "--config"])
        .arg(config)
        .arg("--data")
        .arg(data)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn model_train_judges_out_of_sample_and_writes_a_model_inference_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("models");
    let status = train(&common::repo_root().join("examples/train.toml"), &out);
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(status.status.success(), "{stderr}");
    assert!(stderr.contains("logistic: fold 1/"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert!(report["samples"].as_u64().unwrap() > 13_000, "{report}");
    assert!(report["folds"].as_u64().unwrap() >= 8, "{report}");
    assert_eq!(report["models"][1]["name"], "gbt");
    assert_eq!(report["models"][1]["shifted_at_chance"], true, "{report}");
    let model = &report["models"][0];
    assert_eq!(model["shifted_at_chance"], true, "{model}");
    let scores = &model["out_of_sample"];
    let n = scores["samples"].as_u64().unwrap();
    let confusion: u64 = scores["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(confusion, n, "every test sample scored once");
    assert!(scores["log_loss"].as_f64().unwrap() > 0.0);
    assert!(scores["prior_log_loss"].as_f64().unwrap() > 0.0);
    assert_eq!(model["trained_on"], 4000);
    // The ensemble's table for PUT /v1/inference: both models, weighted by 1 / log loss.
    let table: stratbox::inference::InferenceConfig =
        serde_json::from_str(&std::fs::read_to_string(out.join("inference.json")).unwrap())
            .unwrap();
    assert_eq!(table.models.len(), 2);
    for (member, report) in table
        .models
        .iter()
        .zip(report["models"].as_array().unwrap())
    {
        assert_eq!(member.name, report["name"].as_str().unwrap());
        let loss = report["out_of_sample"]["log_loss"].as_f64().unwrap();
        assert!((member.weight - 1.0 / loss).abs() < 1e-12, "{member:?}");
        assert!(member.manifest.is_absolute() && member.manifest.exists());
        assert_eq!(member.features.len(), 10);
    }
    // A running service takes the table as it is: its ensemble becomes the two trained models.
    let (_sim, addr) = common::service::start_exchange_sim("BTCUSDT");
    let server = common::service::Server::start(&common::service::market_maker_service(
        dir.path(),
        &addr,
        "",
    ));
    let api = common::api::Api::new(&server);
    let table = serde_json::to_value(&table).unwrap();
    let (status, body) = api.call("PUT", "/v1/inference", common::service::TOKEN, Some(table));
    assert_eq!(status, 200, "{body}");
    let running = api.get("/v1/inference", common::service::TOKEN);
    let names: Vec<&str> = running["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["logistic", "gbt"], "{running}");
    server.terminate();
    // What inference loads: the manifest and its weights, run on a window of inputs.
    let compute = stratbox_infer::Compute::select(stratbox_infer::DeviceChoice::Cpu).unwrap();
    let mut loaded = stratbox_infer::Model::load(
        &out.join("logistic.json"),
        &out.join("logistic.safetensors"),
        &compute,
    )
    .unwrap();
    assert_eq!(loaded.manifest().arch(), "logistic");
    let input = ndarray::Array3::<f32>::zeros((2, 1, 10));
    assert_eq!(loaded.infer(input.view()).unwrap().dim(), (2, 3));
    let mut trees = stratbox_infer::Model::load(
        &out.join("gbt.json"),
        &out.join("gbt.safetensors"),
        &compute,
    )
    .unwrap();
    assert_eq!(trees.infer(input.view()).unwrap().dim(), (2, 3));
    // A broken configuration is refused, naming what is wrong.
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(common::repo_root().join("examples/train.toml"))
        .unwrap()
        .replace("kind = \"logistic\"", "kind = \"forest\"");
    std::fs::write(&bad, text).unwrap();
    let refused = train(&bad, &out);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("kind \"forest\""),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn model_train_trains_the_three_networks_on_windows_and_inference_runs_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("networks");
    let status = train(
        &common::repo_root().join("examples/train-networks.toml"),
        &out,
    );
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(status.status.success(), "{stderr}");
    assert!(stderr.contains("lstm: epoch 1/8"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let table: stratbox::inference::InferenceConfig =
        serde_json::from_str(&std::fs::read_to_string(out.join("inference.json")).unwrap())
            .unwrap();
    let compute = stratbox_infer::Compute::select(stratbox_infer::DeviceChoice::Cpu).unwrap();
    for (k, arch) in ["lstm", "cnn", "transformer"].iter().enumerate() {
        let model = &report["models"][k];
        assert_eq!(model["name"], *arch);
        assert_eq!(model["shifted_at_chance"], true, "{model}");
        // The kept model is the best epoch's on the validation window.
        let epochs = model["epochs"].as_array().unwrap();
        assert!(!epochs.is_empty() && epochs.len() <= 8, "{model}");
        let best = epochs
            .iter()
            .filter(|e| e["best"] == true)
            .map(|e| e["validation_loss"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        assert!(
            epochs
                .iter()
                .all(|e| e["validation_loss"].as_f64().unwrap() >= best)
        );
        let t = model["temperature"].as_f64().unwrap();
        assert!(t > 0.05 && t < 20.0, "{model}");
        let member = &table.models[k];
        assert_eq!((member.name.as_str(), member.seq), (*arch, 16));
        let mut loaded =
            stratbox_infer::Model::load(&member.manifest, &member.weights, &compute).unwrap();
        assert_eq!(loaded.manifest().arch(), *arch);
        let input = ndarray::Array3::<f32>::from_elem((2, 16, 10), 0.5);
        let logits = loaded.infer(input.view()).unwrap();
        assert_eq!(logits.dim(), (2, 3));
        assert!(logits.iter().all(|v| v.is_finite()));
    }
    // A shape inference could not run is refused before any training, naming the model.
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(common::repo_root().join("examples/train-networks.toml"))
        .unwrap()
        .replace("nhead = 2", "nhead = 3");
    std::fs::write(&bad, text).unwrap();
    let refused = train(&bad, &out);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("\"transformer\"") && stderr.contains("nhead"),
        "{stderr}"
    );
}

#[test]
fn model_evaluate_judges_the_written_models_on_later_candles_only_and_trades_them() {
    let dir = tempfile::tempdir().unwrap();
    // Train on the first 9000 bars; evaluate on the whole file (only what follows is judged).
    let full = data_dir().join("BTC_1m_a.csv");
    let text = std::fs::read_to_string(&full).unwrap();
    let early = dir.path().join("BTC_1m_a.csv");
    std::fs::write(
        &early,
        text.lines().take(9001).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let out = dir.path().join("models");
    let trained = train_on(
        &common::repo_root().join("examples/train.toml"),
        &early,
        &out,
    );
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    assert!(out.join("train.toml").exists(), "the settings are kept");
    let evaluate = |data: &std::path::Path, report: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["model", "evaluate", "--models"])
            .arg(&out)
            .arg("--data")
            .arg(data)
            .arg("--report")
            .arg(report)
            .arg("--strategy")
            .arg(common::guest_path("model-follower"))
            .args(["--trials", "10"])
            .output()
            .unwrap()
    };
    let path = dir.path().join("evaluation.json");
    let run = evaluate(&full, &path);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let trained_to = report["trained_to_ms"].as_i64().unwrap();
    // Not before the last training label's last bar closed.
    let training: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let labels_end = training["labels_end_ms"].as_i64().unwrap();
    assert!(labels_end > trained_to, "{training}");
    assert!(
        report["from_ms"].as_i64().unwrap() >= labels_end,
        "{report}"
    );
    assert!(report["samples"].as_u64().unwrap() > 4000, "{report}");
    assert_eq!(report["trials"], 10);
    let names: Vec<&str> = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["logistic", "gbt", "ensemble"]);
    for m in report["models"].as_array().unwrap() {
        assert_eq!(m["shifted_at_chance"], true, "{m}");
        let scores = &m["scores"];
        assert_eq!(scores["samples"], report["samples"]);
        for key in ["accuracy", "log_loss", "brier"] {
            assert!(scores[key].as_f64().unwrap().is_finite(), "{m}");
        }
        assert!(m["ic_spearman"].as_f64().unwrap().abs() < 1.0);
        let t = &m["trading"];
        assert!(t["trades"].as_u64().unwrap() > 0, "{m}");
        assert!(t["fees"].as_f64().unwrap() > 0.0, "{m}");
        let sharpe = t["sharpe"].as_f64().unwrap();
        let (lo, hi) = (
            t["sharpe_interval"][0].as_f64().unwrap(),
            t["sharpe_interval"][1].as_f64().unwrap(),
        );
        assert!(lo < sharpe && sharpe < hi, "{t}");
        let deflated = t["deflated_sharpe"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&deflated), "{t}");
        assert!((0.0..=1.0).contains(&t["max_drawdown"].as_f64().unwrap()));
    }
    // Candles the models were trained on cannot judge them.
    let refused = evaluate(&early, &dir.path().join("none.json"));
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("after the training data"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn trained_runs_are_registered_listed_and_any_one_can_be_deployed_by_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let config = common::repo_root().join("examples/train.toml");
    // Two runs: the second with another seed of its control, so a lineage of two.
    let second_config = dir.path().join("train.toml");
    std::fs::write(
        &second_config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("seed = 7", "seed = 8"),
    )
    .unwrap();
    // The second reads the same candles from the history store instead of the file.
    let imported = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["data", "import"])
        .arg(data_dir().join("BTC_1m_a.csv"))
        .args(["--symbol", "BTC_1m_a", "--interval", "1m", "--db", &db])
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    for (config, out) in [(&config, "first"), (&second_config, "second")] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stratbox"));
        command
            .args(["model", "train", "--config"])
            .arg(config)
            .arg("--output")
            .arg(dir.path().join(out))
            .args(["--db", &db]);
        if out == "first" {
            command.arg("--data").arg(data_dir().join("BTC_1m_a.csv"));
        } else {
            command.args(["--symbol", "BTC_1m_a"]);
        }
        let run = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stderr}");
        assert!(stderr.contains("registered as model version"), "{stderr}");
    }
    let list = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["model", "list", "--json", "--db", &db])
        .output()
        .unwrap();
    assert!(list.status.success());
    let versions: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["parent_id"], versions[0]["id"]);
    // The same candles from the store make the same training set and the same models.
    let (a, b) = (&versions[0]["report"], &versions[1]["report"]);
    assert_eq!(a["samples"], b["samples"]);
    assert_eq!(
        a["models"][0]["out_of_sample"]["log_loss"],
        b["models"][0]["out_of_sample"]["log_loss"]
    );
    assert_eq!(versions[0]["weights_sha256"], versions[1]["weights_sha256"]);
    assert!(versions[1]["config"].as_str().unwrap().contains("seed = 8"));
    assert_eq!(versions[0]["symbols"][0], "BTC_1m_a");
    assert_eq!(
        versions[0]["weights_sha256"].as_object().unwrap().len(),
        4,
        "both models written, their weights and manifests hashed"
    );
    let table = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["model", "list", "--db", &db])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("logistic ") && table.contains("2017-"),
        "{table}"
    );
    // The service on the same store lists them and installs any one's ensemble.
    let (_sim, addr) = common::service::start_exchange_sim("BTCUSDT");
    let server = common::service::Server::start(&common::service::market_maker_service(
        dir.path(),
        &addr,
        "",
    ));
    let api = common::api::Api::new(&server);
    let listed = api.get("/v1/models", common::service::TOKEN);
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let first = versions[0]["id"].as_i64().unwrap();
    let before = api.get("/v1/inference", common::service::TOKEN)["version"]
        .as_u64()
        .unwrap();
    let (status, body) = api.call(
        "POST",
        &format!("/v1/models/{first}/deploy"),
        common::service::TOKEN,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let running = api.get("/v1/inference", common::service::TOKEN);
    assert!(running["version"].as_u64().unwrap() > before, "{running}");
    let names: Vec<&str> = running["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["logistic", "gbt"], "{running}");
    // A version whose weights changed on disk is refused, naming the file; the running stays.
    let second = versions[1]["id"].as_i64().unwrap();
    let changed = dir.path().join("second/gbt.safetensors");
    let mut bytes = std::fs::read(&changed).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&changed, bytes).unwrap();
    let (status, body) = api.call(
        "POST",
        &format!("/v1/models/{second}/deploy"),
        common::service::TOKEN,
        None,
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("gbt.safetensors"), "{body}");
    assert_eq!(
        api.get("/v1/inference", common::service::TOKEN)["version"],
        running["version"]
    );
    let (status, _) = api.call("POST", "/v1/models/99/deploy", common::service::TOKEN, None);
    assert_eq!(status, 404);
    let (status, _) = api.call("GET", "/v1/models/99", common::service::TOKEN, None);
    assert_eq!(status, 404);
    server.terminate();
}

/// Trees calibrated on the last fifth of each training set (`calibrate = true`): the
/// temperature fitted there divides the written model's logits, and out of sample the
/// calibrated trees' log loss is lower than the same trees' uncalibrated.
#[test]
fn calibrated_trees_fold_their_temperature_and_lose_less_out_of_sample() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo_root().join("examples/train.toml")).unwrap();
    let trees_only = format!(
        "{}[[models]]\nname = \"gbt\"{}",
        text.split("[[models]]").next().unwrap(),
        text.split("[[models]]\nname = \"gbt\"").nth(1).unwrap()
    )
    .replace("calibrate = true\n", "");
    let mut reports = Vec::new();
    for (name, extra) in [("plain", ""), ("calibrated", "calibrate = true\n")] {
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(&config, format!("{trees_only}{extra}")).unwrap();
        let out = dir.path().join(name);
        let run = train(&config, &out);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stderr}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        reports.push(report["models"][0].clone());
        if name == "calibrated" {
            assert!(
                stderr.contains("gbt: calibrated on the validation window"),
                "{stderr}"
            );
        }
    }
    let (plain, calibrated) = (&reports[0], &reports[1]);
    assert!(plain.get("temperature").is_none(), "{plain}");
    let t = calibrated["temperature"].as_f64().unwrap();
    assert!(
        t.is_finite() && (0.05..=20.0).contains(&t) && t != 1.0,
        "T = {t}"
    );
    let loss = |m: &serde_json::Value| m["out_of_sample"]["log_loss"].as_f64().unwrap();
    assert!(
        loss(calibrated) < loss(plain),
        "T = {t}: {} against {}",
        loss(calibrated),
        loss(plain)
    );
    // The same predictions' ranking: accuracy moves only through the refit on all samples.
    let accuracy = |m: &serde_json::Value| m["out_of_sample"]["accuracy"].as_f64().unwrap();
    assert!((accuracy(calibrated) - accuracy(plain)).abs() < 0.05);
}
