// Matrix-vector products y_r = w · v_r + bias for a batch of vectors, with the vector pooled on the
// fly from a (rows · steps, k) activation: the head of every model.
//
// POOL 0: v_r is row r of x (steps = 1). POOL 1: v_r is the mean of rows r·steps .. r·steps+steps−1
// (mean over time). POOL 2: v_r is row r·steps + steps − 1 (the last step).
//
// w is (n, k) row-major. A workgroup owns one vector and 64 outputs; it pools the vector in chunks
// of 256 into workgroup memory, and each invocation accumulates its output's dot product over the
// chunk. Workgroups are numbered wg.y · num_workgroups.x + wg.x.

struct Params {
    rows: u32,
    n: u32,
    k: u32,
    steps: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

override POOL: u32 = 0u;

const CHUNK: u32 = 256u;

var<workgroup> v: array<f32, 256>;

fn pooled(row: u32, col: u32) -> f32 {
    if (POOL == 1u) {
        var sum = 0.0;
        for (var t = 0u; t < p.steps; t++) {
            sum += x[(row * p.steps + t) * p.k + col];
        }
        return sum / f32(p.steps);
    }
    if (POOL == 2u) {
        return x[(row * p.steps + p.steps - 1u) * p.k + col];
    }
    return x[row * p.k + col];
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let blocks = (p.n + 63u) / 64u;
    let id = wg.y * groups.x + wg.x;
    let row = id / blocks;
    let out = (id % blocks) * 64u + li;
    if (row >= p.rows) {
        return;
    }
    var acc = 0.0;
    for (var k0 = 0u; k0 < p.k; k0 += CHUNK) {
        for (var e = 0u; e < CHUNK / 64u; e++) {
            let kk = li + 64u * e;
            var value = 0.0;
            if (k0 + kk < p.k) {
                value = pooled(row, k0 + kk);
            }
            v[kk] = value;
        }
        workgroupBarrier();
        if (out < p.n) {
            let len = min(CHUNK, p.k - k0);
            let base = out * p.k + k0;
            for (var kk = 0u; kk < len; kk++) {
                acc += w[base + kk] * v[kk];
            }
        }
        workgroupBarrier();
    }
    if (out < p.n) {
        y[row * p.n + out] = acc + bias[out];
    }
}
