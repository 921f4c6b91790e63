//! The CPU path against PyTorch: every fixture case at every batch size, the reference examples,
//! and the loader's errors on broken manifests and weights.

mod common;

use std::sync::Arc;

use ndarray::Array3;
use safetensors::{Dtype, tensor::TensorView};
use stratbox_infer::{Compute, InferError, Manifest, Model, Weights, tensors};

const TOLERANCE: f64 = 1e-4;

#[test]
fn every_case_matches_pytorch_on_the_cpu() {
    let cases = common::cases();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut worst = (0.0f64, String::new());
    for case in &cases {
        let input = case.input(4);
        assert_eq!(
            &input.as_slice().unwrap()[..4],
            &case.input_head[..],
            "{}",
            case.name
        );
        let (manifest, weights) = case.files();
        let mut model = Model::load(&manifest, &weights, &Compute::cpu()).unwrap();
        for &batch in &case.batches {
            let out = model.infer(case.input(batch).view()).unwrap();
            let err = common::relative_error(&out, &case.expected(batch));
            assert!(
                err <= TOLERANCE,
                "{} batch {batch}: relative error {err:e}",
                case.name
            );
            if err > worst.0 {
                worst = (err, format!("{} b{batch}", case.name));
            }
        }
    }
    eprintln!(
        "worst relative error on the CPU: {:e} ({})",
        worst.0, worst.1
    );
}

#[test]
fn reference_examples_match() {
    let dir = common::dir().join("reference");
    for arch in ["lstm", "transformer", "cnn"] {
        let mut model = Model::load(
            &dir.join(format!("{arch}.json")),
            &dir.join(format!("{arch}.safetensors")),
            &Compute::cpu(),
        )
        .unwrap();
        let io = dir.join(format!("{arch}_io.safetensors"));
        let input = tensors::read_array3(&io, "input").unwrap();
        let expected = common::tensor2(&std::fs::read(&io).unwrap(), "output");
        let out = model.infer(input.view()).unwrap();
        let err = common::relative_error(&out, &expected);
        assert!(err <= TOLERANCE, "{arch}: {err:e}");
    }
}

fn lstm_manifest() -> Manifest {
    Manifest::from_json(
        r#"{"arch": "lstm", "n_features": 3, "hidden": 4, "layers": 2, "n_out": 2}"#,
    )
    .unwrap()
}

/// Safetensors bytes of `tensors` (name, dtype, shape), zero-filled.
fn safetensors_of(tensors: &[(&str, Dtype, Vec<usize>)]) -> Vec<u8> {
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, dtype, shape)| vec![0u8; shape.iter().product::<usize>() * dtype.bitsize() / 8])
        .collect();
    let views: Vec<_> = tensors
        .iter()
        .zip(&data)
        .map(|((name, dtype, shape), d)| {
            (
                name.to_string(),
                TensorView::new(*dtype, shape.clone(), d).unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

fn lstm_tensors() -> Vec<(&'static str, Dtype, Vec<usize>)> {
    vec![
        ("lstm.weight_ih_l0", Dtype::F32, vec![16, 3]),
        ("lstm.weight_hh_l0", Dtype::F32, vec![16, 4]),
        ("lstm.bias_ih_l0", Dtype::F32, vec![16]),
        ("lstm.bias_hh_l0", Dtype::F32, vec![16]),
        ("lstm.weight_ih_l1", Dtype::F32, vec![16, 4]),
        ("lstm.weight_hh_l1", Dtype::F32, vec![16, 4]),
        ("lstm.bias_ih_l1", Dtype::F32, vec![16]),
        ("lstm.bias_hh_l1", Dtype::F32, vec![16]),
        ("head.weight", Dtype::F32, vec![2, 4]),
        ("head.bias", Dtype::F32, vec![2]),
    ]
}

fn load_error(tensors: Vec<(&str, Dtype, Vec<usize>)>) -> String {
    match Weights::from_safetensors(&lstm_manifest(), &safetensors_of(&tensors)) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn weight_errors_name_the_tensor() {
    assert!(Weights::from_safetensors(&lstm_manifest(), &safetensors_of(&lstm_tensors())).is_ok());

    let mut missing = lstm_tensors();
    missing.retain(|t| t.0 != "lstm.bias_hh_l1");
    let e = load_error(missing);
    assert!(e.contains("`lstm.bias_hh_l1` is missing"), "{e}");

    let mut misshapen = lstm_tensors();
    misshapen[4].2 = vec![16, 3];
    let e = load_error(misshapen);
    assert!(
        e.contains("`lstm.weight_ih_l1` has shape [16, 3]") && e.contains("[16, 4]"),
        "{e}"
    );

    let mut half = lstm_tensors();
    half[8].1 = Dtype::F16;
    let e = load_error(half);
    assert!(e.contains("`head.weight` is F16, expected F32"), "{e}");

    let mut extra = lstm_tensors();
    extra.push(("lstm.weight_ih_l2", Dtype::F32, vec![16, 4]));
    let e = load_error(extra);
    assert!(
        e.contains("`lstm.weight_ih_l2` is not part of the lstm"),
        "{e}"
    );

    let e = Weights::from_safetensors(&lstm_manifest(), b"not safetensors").unwrap_err();
    assert!(e.to_string().contains("not a safetensors file"), "{e}");
}

#[test]
fn input_errors_are_clear() {
    let weights = Weights::from_safetensors(&lstm_manifest(), &safetensors_of(&lstm_tensors()));
    let mut model =
        Model::new(lstm_manifest(), Arc::new(weights.unwrap()), &Compute::cpu()).unwrap();
    let e = model.infer(Array3::zeros((2, 5, 4)).view()).unwrap_err();
    assert!(
        matches!(e, InferError::Input(_)) && e.to_string().contains("3 features"),
        "{e}"
    );
    let e = model.infer(Array3::zeros((0, 5, 3)).view()).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let mut nan = Array3::zeros((1, 5, 3));
    nan[[0, 2, 1]] = f32::NAN;
    assert!(
        model
            .infer(nan.view())
            .unwrap_err()
            .to_string()
            .contains("NaN")
    );
    assert_eq!(
        model.infer(Array3::zeros((3, 5, 3)).view()).unwrap().dim(),
        (3, 2)
    );

    let transformer = Manifest::from_json(
        r#"{"arch": "transformer", "n_features": 2, "d_model": 4, "nhead": 2, "layers": 1,
            "ff": 8, "seq_len": 8, "n_out": 3}"#,
    )
    .unwrap();
    let e = transformer.check_input(9, 2).unwrap_err();
    assert!(e.to_string().contains("position table has 8 rows"), "{e}");
}

/// The reference ensemble on `compute`, weights 0.4 / 0.35 / 0.25.
fn reference_ensemble(compute: &Compute) -> stratbox_infer::Ensemble {
    let dir = common::dir().join("reference");
    let members = [("lstm", 0.4), ("transformer", 0.35), ("cnn", 0.25)]
        .map(|(name, weight)| stratbox_infer::EnsembleMember {
            name: name.into(),
            model: Model::load(
                &dir.join(format!("{name}.json")),
                &dir.join(format!("{name}.safetensors")),
                compute,
            )
            .unwrap(),
            weight,
        })
        .into_iter()
        .collect();
    stratbox_infer::Ensemble::new(members, None).unwrap()
}

#[test]
fn an_ensemble_on_the_gpu_runs_in_one_submit_and_matches_the_cpu() {
    let context =
        match stratbox_infer::gpu::GpuContext::new(stratbox_infer::gpu::AdapterPolicy::Any) {
            Ok(c) => c,
            Err(e) if std::env::var("STRATBOX_NO_GPU").as_deref() == Ok("1") => {
                eprintln!("skipping: {e} (STRATBOX_NO_GPU=1)");
                return;
            }
            Err(e) => {
                panic!("no GPU adapter: {e}; install mesa-vulkan-drivers or set STRATBOX_NO_GPU=1")
            }
        };
    let gpu = Compute::Gpu(Arc::new(context));
    let case = common::cases()
        .into_iter()
        .find(|c| c.n_features == 16 && c.seq == 64)
        .unwrap();
    let input = case.input(64);
    let inputs = [input.view(), input.view(), input.view()];
    let on_cpu = reference_ensemble(&Compute::cpu())
        .predict(&inputs)
        .unwrap();
    let mut ensemble = reference_ensemble(&gpu);
    let on_gpu = ensemble.predict(&inputs).unwrap();
    assert_eq!(on_gpu.len(), 64);
    for (g, c) in on_gpu.iter().zip(&on_cpu) {
        for (a, b) in g.probabilities.iter().zip(&c.probabilities) {
            assert!(
                (a - b).abs() < 1e-5,
                "{:?} vs {:?}",
                g.probabilities,
                c.probabilities
            );
        }
    }
    let dispatches: usize = ensemble
        .members()
        .iter()
        .map(|m| m.model.last_dispatches())
        .sum();
    assert!(dispatches > 0, "every member ran on the GPU");
}
