//! The host's models against scikit-learn's, on the fixtures of `tests/fixtures/learn`
//! (generate.py beside them).

use ndarray::Array2;
use serde_json::Value;
use stratbox_learn::logistic::{ClassWeight, Logistic, LogisticSpec};

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/learn")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    let cols = rows[0].len();
    Array2::from_shape_vec((rows.len(), cols), rows.concat()).unwrap()
}

#[test]
fn logistic_regression_gives_scikit_learns_probabilities() {
    let f = fixture("logistic.json");
    let x = matrix(&f["x"]);
    let y: Vec<usize> = serde_json::from_value(f["y"].clone()).unwrap();
    let w: Vec<f64> = serde_json::from_value(f["w"].clone()).unwrap();
    let spec = LogisticSpec {
        c: f["c"].as_f64().unwrap(),
        class_weight: ClassWeight::Balanced,
        tol: 1e-10,
        ..LogisticSpec::default()
    };
    let model = Logistic::fit(x.view(), &y, Some(&w), 3, &spec).unwrap();
    let ours = model.probabilities(matrix(&f["x_test"]).view());
    let theirs = matrix(&f["probabilities"]);
    let worst = (&ours - &theirs).iter().fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(
        worst < 1e-6,
        "largest difference {worst} after {} iterations",
        model.iterations
    );
}
