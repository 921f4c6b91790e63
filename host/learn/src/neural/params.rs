//! A network's parameters by PyTorch's state_dict names, each with its gradient, its seeded
//! initialisation (PyTorch's defaults), and reading and writing safetensors by those names.

use crate::LearnError;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use safetensors::{Dtype, SafeTensors};

/// One tensor: its name, shape, values and gradient (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// PyTorch's state_dict name.
    pub name: String,
    /// PyTorch's shape.
    pub shape: Vec<usize>,
    /// The values.
    pub value: Vec<f32>,
    /// The gradient accumulated since the last [`Params::zero_grad`].
    pub grad: Vec<f32>,
}

/// Every parameter of a network, in registration order; layers hold indices into it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    /// The tensors.
    pub list: Vec<Param>,
}

impl Params {
    /// Registers a tensor and returns its index.
    pub fn add(&mut self, name: impl Into<String>, shape: &[usize], value: Vec<f32>) -> usize {
        debug_assert_eq!(shape.iter().product::<usize>(), value.len());
        self.list.push(Param {
            name: name.into(),
            shape: shape.to_vec(),
            grad: vec![0.0; value.len()],
            value,
        });
        self.list.len() - 1
    }

    /// Tensor `i` as a matrix (its first dimension by the rest).
    pub fn matrix(&self, i: usize) -> ArrayView2<'_, f32> {
        let p = &self.list[i];
        let rows = p.shape[0];
        ArrayView2::from_shape((rows, p.value.len() / rows), &p.value).expect("sized at add")
    }

    /// Tensor `i` as a vector.
    pub fn vector(&self, i: usize) -> ArrayView1<'_, f32> {
        ArrayView1::from(&self.list[i].value)
    }

    /// The gradient of tensor `i` as a matrix, like [`Params::matrix`].
    pub fn grad_matrix(&mut self, i: usize) -> ArrayViewMut2<'_, f32> {
        let p = &mut self.list[i];
        let rows = p.shape[0];
        let cols = p.value.len() / rows;
        ArrayViewMut2::from_shape((rows, cols), &mut p.grad).expect("sized at add")
    }

    /// The gradient of tensor `i` as a vector.
    pub fn grad_vector(&mut self, i: usize) -> ArrayViewMut1<'_, f32> {
        ArrayViewMut1::from(&mut self.list[i].grad)
    }

    /// Clears every gradient.
    pub fn zero_grad(&mut self) {
        for p in &mut self.list {
            p.grad.fill(0.0);
        }
    }

    /// Values in f32 count.
    pub fn len(&self) -> usize {
        self.list.iter().map(|p| p.value.len()).sum()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Replaces every value by the tensor of the same name in a safetensors file's bytes
    /// (prefixed by `prefix`, e.g. `"param."`): each must be there, float32, of the same
    /// shape; the error names the first that is not.
    pub fn load(&mut self, bytes: &[u8], prefix: &str) -> Result<(), LearnError> {
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| LearnError::Data(format!("not a safetensors file: {e}")))?;
        for p in &mut self.list {
            p.value = read_f32(&tensors, &format!("{prefix}{}", p.name), &p.shape)?;
        }
        Ok(())
    }
}

/// The f32 values of tensor `name`, checked to have `shape`.
pub fn read_f32(
    tensors: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
) -> Result<Vec<f32>, LearnError> {
    let view = tensors
        .tensor(name)
        .map_err(|_| LearnError::Data(format!("no tensor named `{name}`")))?;
    if view.dtype() != Dtype::F32 || view.shape() != shape {
        return Err(LearnError::Data(format!(
            "tensor `{name}` is {:?} {:?}, expected F32 {shape:?}",
            view.dtype(),
            view.shape()
        )));
    }
    Ok(view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// A seeded generator (splitmix64): the same seed gives the same initialisation and the same
/// batch order on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` values uniform in [−bound, bound).
    pub fn uniform(&mut self, n: usize, bound: f32) -> Vec<f32> {
        (0..n)
            .map(|_| ((self.unit() * 2.0 - 1.0) * f64::from(bound)) as f32)
            .collect()
    }

    /// `n` values normal with standard deviation `std` (Box–Muller).
    pub fn normal(&mut self, n: usize, std: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                let u = 1.0 - self.unit();
                let v = self.unit();
                ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() * f64::from(std)) as f32
            })
            .collect()
    }

    /// `0..n` in a random order (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        order
    }
}

/// PyTorch's `nn.Linear` initialisation: weight and bias uniform in ±1/√fan_in.
pub fn linear(
    params: &mut Params,
    rng: &mut Rng,
    name: &str,
    outputs: usize,
    inputs: usize,
) -> (usize, usize) {
    let bound = 1.0 / (inputs as f32).sqrt();
    let w = params.add(
        format!("{name}.weight"),
        &[outputs, inputs],
        rng.uniform(outputs * inputs, bound),
    );
    let b = params.add(
        format!("{name}.bias"),
        &[outputs],
        rng.uniform(outputs, bound),
    );
    (w, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_seeded_and_its_draws_have_their_distributions() {
        let a = Rng::new(3).normal(20_000, 2.0);
        assert_eq!(a, Rng::new(3).normal(20_000, 2.0));
        let mean = a.iter().map(|v| f64::from(*v)).sum::<f64>() / a.len() as f64;
        let var = a
            .iter()
            .map(|v| (f64::from(*v) - mean).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        assert!(mean.abs() < 0.05, "{mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.05, "{var}");
        let u = Rng::new(4).uniform(10_000, 0.5);
        assert!(u.iter().all(|v| (-0.5..0.5).contains(v)));
        let mut p = Rng::new(5).permutation(100);
        assert_ne!(p, (0..100).collect::<Vec<_>>());
        p.sort_unstable();
        assert_eq!(p, (0..100).collect::<Vec<_>>());
    }
}
