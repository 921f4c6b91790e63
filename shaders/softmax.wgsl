// Softmax of every row of x (rows, n), max-subtracted so any finite input is safe: exp() only
// sees arguments ≤ 0. One invocation per row.

struct Params {
    rows: u32,
    n: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

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
    let base = row * p.n;
    var m = x[base];
    for (var c = 1u; c < p.n; c++) {
        m = max(m, x[base + c]);
    }
    var sum = 0.0;
    for (var c = 0u; c < p.n; c++) {
        let e = exp(x[base + c] - m);
        y[base + c] = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    for (var c = 0u; c < p.n; c++) {
        y[base + c] *= inv;
    }
}
