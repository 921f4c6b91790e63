// Layer normalisation of every row of x (rows, d): (x − mean) / sqrt(var + 1e-5) · gamma + beta,
// with the biased variance, as PyTorch. One invocation per row, two passes over it.

struct Params {
    rows: u32,
    d: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const EPS: f32 = 1e-5;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = (wg.y * groups.x + wg.x) * 64u + li;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.d;
    var sum = 0.0;
    for (var c = 0u; c < p.d; c++) {
        sum += x[base + c];
    }
    let mean = sum / f32(p.d);
    var sq = 0.0;
    for (var c = 0u; c < p.d; c++) {
        let dev = x[base + c] - mean;
        sq += dev * dev;
    }
    let inv = 1.0 / sqrt(sq / f32(p.d) + EPS);
    for (var c = 0u; c < p.d; c++) {
        y[base + c] = (x[base + c] - mean) * inv * gamma[c] + beta[c];
    }
}
