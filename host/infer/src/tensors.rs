//! Reading and writing named f32 tensors in safetensors files (the `model run` command's I/O).

use std::path::Path;

use ndarray::{Array2, Array3};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::InferError;

/// Reads the 3-D f32 tensor `name` from a safetensors file.
pub fn read_array3(path: &Path, name: &str) -> Result<Array3<f32>, InferError> {
    let bytes = std::fs::read(path)
        .map_err(|e| InferError::Io(format!("reading {}: {e}", path.display())))?;
    let bad = |m: String| InferError::Input(format!("{}: {m}", path.display()));
    let tensors = SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let view = tensors.tensor(name).map_err(|_| {
        let mut names: Vec<_> = tensors.names().into_iter().map(str::to_string).collect();
        names.sort();
        bad(format!(
            "no tensor named `{name}` (found: {})",
            names.join(", ")
        ))
    })?;
    if view.dtype() != Dtype::F32 {
        return Err(bad(format!(
            "tensor `{name}` is {:?}, expected F32",
            view.dtype()
        )));
    }
    let &[a, b, c] = view.shape() else {
        return Err(bad(format!(
            "tensor `{name}` has shape {:?}, expected (batch, seq, features)",
            view.shape()
        )));
    };
    let data = view
        .data()
        .chunks_exact(4)
        .map(|x| f32::from_le_bytes([x[0], x[1], x[2], x[3]]))
        .collect();
    Ok(Array3::from_shape_vec((a, b, c), data).expect("shape from the header"))
}

/// Writes `tensors` (name, 2-D f32 array) to a safetensors file.
pub fn write_array2s(path: &Path, tensors: &[(&str, &Array2<f32>)]) -> Result<(), InferError> {
    let flat: Vec<(&str, Vec<usize>, Vec<f32>)> = tensors
        .iter()
        .map(|(name, a)| (*name, a.shape().to_vec(), a.iter().copied().collect()))
        .collect();
    write_tensors(path, &flat)
}

/// Writes `tensors` (name, shape, values in row-major order) to a safetensors file, as
/// PyTorch's `save_file` does for float32 tensors.
pub fn write_tensors(
    path: &Path,
    tensors: &[(&str, Vec<usize>, Vec<f32>)],
) -> Result<(), InferError> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, values)| values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), data)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), data)
                .map_err(|e| InferError::Io(format!("tensor `{name}`: {e}")))?;
            Ok((name.to_string(), view))
        })
        .collect::<Result<Vec<_>, InferError>>()?;
    let out = safetensors::serialize(views, None)
        .map_err(|e| InferError::Io(format!("encoding {}: {e}", path.display())))?;
    std::fs::write(path, out)
        .map_err(|e| InferError::Io(format!("writing {}: {e}", path.display())))
}
