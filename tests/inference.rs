//! Model inference inside the host: the ensemble predicts after every closed bar from the
//! feature engine's windows, strategies read the prediction through `market.predict`, a
//! prediction only uses data known by its bar, and operators load, replace and roll back models
//! on a running service without restarting it.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ndarray::Axis;
use stratbox::engine::Inference;
use stratbox::feeds::{MarketEvent, replay};
use stratbox::inference::{InferenceConfig, MemberConfig, Predictor};
use stratbox::sandbox::SandboxLimits;
use stratbox_infer::{Compute, Model};

/// The 16 inputs the reference models read: z-scored bar features and indicators.
const FEATURES: [&str; 16] = [
    "zscore_32:ret_1",
    "zscore_32:ret_5",
    "zscore_32:rv_20",
    "zscore_32:RSI_14",
    "zscore_32:MACD_12_26_9.macdhist",
    "zscore_32:ADX_14",
    "zscore_32:ATR_14",
    "zscore_32:CCI_14",
    "zscore_32:MFI_14",
    "zscore_32:WILLR_14",
    "zscore_32:OBV",
    "zscore_32:ROC_10",
    "zscore_32:NATR_14",
    "zscore_32:volume",
    "zscore_32:BBANDS_20_2_2_0.upperband",
    "zscore_32:STOCH_5_3_0_3_0.slowk",
];

fn reference(name: &str) -> (PathBuf, PathBuf) {
    let dir = repo_root().join("tests/fixtures/models/reference");
    (
        dir.join(format!("{name}.json")),
        dir.join(format!("{name}.safetensors")),
    )
}

fn member(name: &str, weight: f64) -> MemberConfig {
    let (manifest, weights) = reference(name);
    MemberConfig {
        name: name.into(),
        manifest,
        weights,
        weight,
        features: FEATURES.map(String::from).to_vec(),
        seq: 64,
    }
}

fn ensemble(names: &[(&str, f64)]) -> InferenceConfig {
    InferenceConfig {
        models: names.iter().map(|&(n, w)| member(n, w)).collect(),
        device: stratbox_infer::DeviceChoice::Cpu,
        ..InferenceConfig::default()
    }
}

fn btc_bars(n: usize) -> Vec<stratbox::model::Bar> {
    let mut bars = replay::read_candles(&data_dir().join("BTC_1m_a.csv"), 0, None).unwrap();
    bars.truncate(n);
    bars
}

fn u64_state(engine: &stratbox::engine::Engine, key: &str) -> Option<u64> {
    let state = engine.state("counter").unwrap();
    state
        .get(key)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
}

#[test]
fn strategies_read_inline_predictions_made_only_from_past_data() {
    let config = ensemble(&[("lstm", 0.4), ("transformer", 0.35), ("cnn", 0.25)]);
    let bars = btc_bars(260);
    let run = |n: usize| {
        let mut engine = engine(SandboxLimits::default());
        deploy(&mut engine, "counter", "counter", "{}");
        let predictor = Predictor::load(&config, &Compute::cpu(), engine.market(), 1).unwrap();
        engine.set_inference(Inference::Inline(Box::new(predictor)));
        let mut seen = Vec::new();
        for bar in &bars[..n] {
            engine.handle(&MarketEvent::Bar(*bar));
            seen.push(engine.market().read().unwrap().prediction(0).cloned());
        }
        (engine, seen)
    };
    let (engine, seen) = run(bars.len());

    // Windows of 64 rows over z-scores of 32 rows: the first prediction comes with bar 95.
    let first = seen.iter().position(Option::is_some).unwrap();
    assert_eq!(first, 64 + 32 - 2);
    for (i, p) in seen.iter().enumerate().skip(first) {
        let p = p.as_ref().unwrap();
        assert_eq!(
            p.as_of,
            bars[i].close_time(),
            "bar {i}: a prediction for this very bar"
        );
        assert!((p.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(p.members.len(), 3);
    }
    // The strategy saw each one during the bar it was made for.
    let predictions = (bars.len() - first) as u64;
    assert_eq!(u64_state(&engine, "predictions"), Some(predictions));
    assert_eq!(
        u64_state(&engine, "prediction_time"),
        Some(bars.last().unwrap().close_time() as u64)
    );

    // The ensemble's numbers are the members' softmax outputs over the feature windows, weighted.
    let market = engine.market().read().unwrap();
    let columns = market
        .features
        .columns(&FEATURES.map(String::from))
        .unwrap();
    let (symbols, input) = market.features.batch(&[0], &columns, 64);
    assert_eq!(symbols, vec![0]);
    let mut expected = [0.0f64; 3];
    for (name, weight) in [("lstm", 0.4), ("transformer", 0.35), ("cnn", 0.25)] {
        let (manifest, weights) = reference(name);
        let logits = Model::load(&manifest, &weights, &Compute::cpu())
            .unwrap()
            .infer(input.view())
            .unwrap();
        let row = logits.index_axis(Axis(0), 0);
        let max = row.iter().copied().fold(f32::MIN, f32::max);
        let exp: Vec<f64> = row.iter().map(|v| ((v - max) as f64).exp()).collect();
        let sum: f64 = exp.iter().sum();
        for (e, x) in expected.iter_mut().zip(&exp) {
            *e += weight * x / sum;
        }
    }
    let latest = market.prediction(0).unwrap();
    for (got, want) in latest.probabilities.iter().zip(expected) {
        assert!(
            (got - want).abs() < 1e-6,
            "{:?} vs {expected:?}",
            latest.probabilities
        );
    }
    drop(market);

    // No look-ahead: a run that stops at bar k made exactly the same prediction at k.
    for k in [first + 1, 150, 200] {
        let (_, cut) = run(k + 1);
        assert_eq!(
            cut[k], seen[k],
            "prediction at bar {k} depends on later bars"
        );
    }
}

#[test]
fn bad_model_configs_are_rejected_with_the_reason() {
    let engine = engine(SandboxLimits::default());
    let market = engine.market();
    let load = |config: &InferenceConfig| match Predictor::load(config, &Compute::cpu(), market, 1)
    {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    let mut config = ensemble(&[("lstm", 1.0)]);
    config.models[0].features.pop();
    let e = load(&config);
    assert!(
        e.contains("`lstm`") && e.contains("lists 15 features") && e.contains("reads 16"),
        "{e}"
    );

    let mut config = ensemble(&[("cnn", 1.0)]);
    config.models[0].features[3] = "zscore_32:RSI_9".into();
    let e = load(&config);
    assert!(e.contains("RSI_9") && e.contains("[features].extra"), "{e}");

    let mut config = ensemble(&[("transformer", 1.0)]);
    config.models[0].seq = 65;
    assert!(load(&config).contains("position table has 64 rows"));

    let mut config = ensemble(&[("cnn", 1.0)]);
    config.models[0].seq = 250;
    assert!(load(&config).contains("raise [features].history"));

    let mut config = ensemble(&[("cnn", 1.0)]);
    config.models[0].weights = reference("lstm").1;
    let e = load(&config);
    assert!(e.contains("`convs.0.weight` is missing"), "{e}");

    let e = load(&InferenceConfig::default());
    assert!(e.contains("no models"), "{e}");
}

const TOKEN: &str = "inference-token-0123";

fn serve_config(dir: &Path) -> PathBuf {
    let csv = dir.join("bars.csv");
    let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
    for b in btc_bars(13_000) {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            b.open_time, b.open, b.high, b.low, b.close, b.volume
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let (manifest, weights) = reference("cnn");
    let features = FEATURES.map(|f| format!("{f:?}")).join(", ");
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
         [store]\nurl = \"sqlite://{db}\"\ncomponent_cache = \"components\"\n\
         [market]\nsource = \"replay\"\ndata = \"bars.csv\"\nsymbol = \"BTCUSDT\"\nbars_per_second = 400\n\
         [inference]\ndevice = \"cpu\"\n\
         [[inference.models]]\nname = \"cnn\"\nmanifest = \"{m}\"\nweights = \"{w}\"\nfeatures = [{features}]\n",
        db = dir.join("db.sqlite").display(),
        m = manifest.display(),
        w = weights.display(),
    );
    let path = dir.join("serve.toml");
    std::fs::write(&path, config).unwrap();
    path
}

#[test]
fn operators_replace_and_roll_back_models_on_a_running_service() {
    let dir = tempfile::tempdir().unwrap();
    let config = serve_config(dir.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("STRATBOX_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let endpoint = announced(&mut child, "stratbox listening on ");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let mut request = http
            .request(method, format!("{endpoint}/v1/inference{path}"))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        rt.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        })
    };
    let wait_for = |what: &str, ok: &dyn Fn(&serde_json::Value) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, status) = call(reqwest::Method::GET, "", None);
            if ok(&status) {
                return status;
            }
            assert!(Instant::now() < deadline, "{what}: {status}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    let status = wait_for("first predictions", &|s| {
        s["predictions"].as_u64() > Some(10)
    });
    assert_eq!(status["version"], 1);
    assert!(status["device"].as_str().unwrap().starts_with("cpu"));
    assert_eq!(status["members"][0]["name"], "cnn");

    // A broken ensemble is refused with the reason; the running one keeps predicting.
    let mut bad = serde_json::to_value(ensemble(&[("lstm", 1.0)])).unwrap();
    bad["models"][0]["weights"] = serde_json::json!(dir.path().join("missing.safetensors"));
    let (code, body) = call(reqwest::Method::PUT, "", Some(bad));
    assert_eq!(code, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("missing.safetensors"),
        "{body}"
    );
    let before = call(reqwest::Method::GET, "", None).1["predictions"]
        .as_u64()
        .unwrap();
    let status = wait_for("still predicting", &|s| {
        s["predictions"].as_u64() > Some(before)
    });
    assert_eq!(status["version"], 1);

    // A new ensemble replaces it without a restart, and predicting goes on.
    let good = serde_json::to_value(ensemble(&[("lstm", 0.6), ("cnn", 0.4)])).unwrap();
    let (code, body) = call(reqwest::Method::PUT, "", Some(good));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["previous_version"], 1);
    assert_eq!(body["members"].as_array().unwrap().len(), 2);
    let before = body["predictions"].as_u64().unwrap();
    wait_for("predicting on version 2", &|s| {
        s["predictions"].as_u64() > Some(before + 5)
    });

    let (code, body) = call(reqwest::Method::POST, "/rollback", None);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["previous_version"], 2);
    assert_eq!(body["stale_dropped"], 0, "a swap loses no prediction");

    let (code, _) = rt.block_on(async {
        let r = http
            .get(format!("{endpoint}/v1/inference"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), ())
    });
    assert_eq!(code, 401, "the token is required");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn model_commands_run_and_describe_pytorch_exports() {
    let dir = tempfile::tempdir().unwrap();
    let reference_dir = repo_root().join("tests/fixtures/models/reference");
    for arch in ["lstm", "transformer", "cnn"] {
        let (manifest, weights) = reference(arch);
        let io = reference_dir.join(format!("{arch}_io.safetensors"));
        let out = dir.path().join(format!("{arch}_out.safetensors"));
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["model", "run", "--device", "cpu", "--manifest"])
            .arg(&manifest)
            .arg("--weights")
            .arg(&weights)
            .arg("--input")
            .arg(&io)
            .arg("--output")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let read = |path: &Path, name: &str| {
            let bytes = std::fs::read(path).unwrap();
            let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            let view = tensors.tensor(name).unwrap();
            assert_eq!(view.shape().len(), 2);
            view.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
                .collect::<Vec<_>>()
        };
        let (got, want) = (read(&out, "output"), read(&io, "output"));
        let diff: f64 = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = want.iter().map(|b| b * b).sum::<f64>().sqrt();
        assert!(diff / norm < 1e-4, "{arch}: relative error {}", diff / norm);

        let info = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["model", "info"])
            .arg(&manifest)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&info.stdout);
        assert!(
            text.contains(arch) && text.contains("parameters") && text.contains("flops"),
            "{text}"
        );
    }
    let (manifest, weights) = reference("cnn");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["model", "run", "--manifest"])
        .arg(&manifest)
        .arg("--weights")
        .arg(&weights)
        .arg("--input")
        .arg(reference_dir.join("lstm_io.safetensors"))
        .arg("--output")
        .arg(dir.path().join("x.safetensors"))
        .arg("--device")
        .arg("tpu")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected auto, gpu or cpu"));
}

#[test]
fn the_device_choice_falls_back_or_fails_clearly_without_an_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, weights) = reference("cnn");
    let io = repo_root().join("tests/fixtures/models/reference/cnn_io.safetensors");
    let run = |device: &str, hide_adapters: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"));
        command
            .args(["model", "run", "--device", device, "--manifest"])
            .arg(&manifest)
            .arg("--weights")
            .arg(&weights)
            .arg("--input")
            .arg(&io)
            .arg("--output")
            .arg(dir.path().join(format!("{device}.safetensors")));
        if hide_adapters {
            // No Vulkan driver manifest: the loader finds no adapter at all.
            command
                .env("VK_ICD_FILENAMES", "/nonexistent.json")
                .env("VK_DRIVER_FILES", "/nonexistent.json");
        }
        let out = command.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, err) = run("gpu", true);
    assert!(!ok && err.contains("no GPU adapter found"), "{err}");
    let (ok, err) = run("auto", true);
    assert!(ok && err.contains("on cpu (no GPU adapter found"), "{err}");
    // With lavapipe present, auto still takes the CPU path (a software adapter is slower) and
    // says why; gpu takes lavapipe and gives PyTorch's numbers through the CLI too.
    let (ok, err) = run("auto", false);
    assert!(
        ok && err.contains("on cpu (no hardware GPU adapter; found only llvmpipe"),
        "{err}"
    );
    if std::env::var("STRATBOX_NO_GPU").as_deref() != Ok("1") {
        let (ok, err) = run("gpu", false);
        assert!(ok && err.contains("on gpu: llvmpipe"), "{err}");
    }
}

#[test]
fn a_strategy_trades_on_predictions_in_a_backtest() {
    let config = ensemble(&[("lstm", 0.4), ("transformer", 0.35), ("cnn", 0.25)]);
    let bars = btc_bars(400);
    let events: Vec<_> = bars
        .iter()
        .map(|b| stratbox::feeds::MarketEvent::Bar(*b))
        .collect();
    let run = |inference| {
        stratbox::backtest::run(
            stratbox::sandbox::Runtime::new(SandboxLimits::default()).unwrap(),
            stratbox::backtest::Backtest {
                components: vec![stratbox::backtest::Component {
                    name: "follower".into(),
                    bytes: guest("model-follower"),
                    // Enter on the first prediction whatever it says, leave when it turns
                    // negative.
                    config: r#"{"quantity": 10, "min_return": -1, "min_confidence": 0}"#.into(),
                    budget: stratbox::risk::Budget::unlimited(10_000.0),
                }],
                symbols: &["BTCUSDT".to_string()],
                exchange_info: None,
                events: &events,
                execution: Default::default(),
                inference,
                features: None,
                signals: None,
                progress: false,
            },
        )
        .unwrap()
    };
    let report = run(Some(&config));
    assert_eq!(report.halted().count(), 0);
    let first_fill = report
        .fills
        .first()
        .expect("the strategy traded on a prediction");
    // The first prediction comes with bar 94; the market order fills at the next bar's open.
    assert_eq!(first_fill.time, bars[95].open_time);
    assert!(
        run(None).fills.is_empty(),
        "no models, no predictions, no trades"
    );
}
