// Tiled matrix multiply with a fused epilogue: y = act(x · wᵀ + bias) (+ residual).
//
// x is (m, k) row-major, w is (n, k) row-major (PyTorch's Linear layout), y is (m, n). Each
// workgroup computes a 32×32 tile of y: 64 invocations in an 8×8 grid, each owning a 4×4 block,
// staging 32×16 panels of x and w in workgroup memory per step along k, as vec4 of four rows so
// that one step of an invocation's block is two vec4 loads and four vec4 multiply-adds.
//
// With CONV, x is read as the im2col matrix of a causal dilated 1-D convolution without ever
// materialising it: rows are (sample, step) pairs of a (batch·seq, in_ch) activation, column
// c·taps + j is input channel c at tap j, i.e. step t − dilation·(taps − 1 − j) (zero before the
// sequence starts: PyTorch's left padding), so w is the Conv1d weight (out, in, taps) as stored.
//
// The residual row is `row % res_rows`, so a (res_rows, n) table such as the transformer's
// position embeddings is added to every sample. Tiles are numbered row-major over the grid
// (wg.y · num_workgroups.x + wg.x) so the host can fold large grids into two dimensions.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    res_rows: u32,
    seq: u32,
    in_ch: u32,
    taps: u32,
    dilation: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

// 0: identity, 1: ReLU, 2: GELU (erf).
override ACTIVATION: u32 = 0u;
override RESIDUAL: bool = false;
override CONV: bool = false;

const TILE_M: u32 = 32u;
const TILE_N: u32 = 32u;
const TILE_K: u32 = 16u;

// Panels stored k-major as vec4 of 4 consecutive rows (columns of w):
// xs[kk · 8 + r] = x[row0 + 4r .. row0 + 4r + 3][k0 + kk], ws likewise for w.
var<workgroup> xs: array<vec4<f32>, 128>;
var<workgroup> ws: array<vec4<f32>, 128>;

fn load_x(row: u32, col: u32) -> f32 {
    if (row >= p.m || col >= p.k) {
        return 0.0;
    }
    if (CONV) {
        let t = row % p.seq;
        let j = col % p.taps;
        let shift = p.dilation * (p.taps - 1u - j);
        if (t < shift) {
            return 0.0;
        }
        return x[(row - shift) * p.in_ch + col / p.taps];
    }
    return x[row * p.k + col];
}

fn activate(v: f32) -> f32 {
    if (ACTIVATION == 1u) {
        return max(v, 0.0);
    }
    if (ACTIVATION == 2u) {
        return gelu(v);
    }
    return v;
}

fn store(row: u32, acc: vec4<f32>, col0: u32) {
    if (row >= p.m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if (col < p.n) {
            var v = activate(acc[j] + bias[col]);
            if (RESIDUAL) {
                v += residual[(row % p.res_rows) * p.n + col];
            }
            y[row * p.n + col] = v;
        }
    }
}

fn load_w(col: u32, k: u32) -> f32 {
    if (col >= p.n || k >= p.k) {
        return 0.0;
    }
    return w[col * p.k + k];
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let tiles_n = (p.n + TILE_N - 1u) / TILE_N;
    let tile = wg.y * groups.x + wg.x;
    let row0 = (tile / tiles_n) * TILE_M;
    let col0 = (tile % tiles_n) * TILE_N;
    if (row0 >= p.m) {
        return;
    }
    let tx = li % 8u;
    let ty = li / 8u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        for (var e = 0u; e < 2u; e++) {
            let idx = li + 64u * e;
            let kk = idx % TILE_K;
            let r = idx / TILE_K;
            let row = row0 + 4u * r;
            let col = col0 + 4u * r;
            let k = k0 + kk;
            xs[kk * 8u + r] = vec4<f32>(load_x(row, k), load_x(row + 1u, k), load_x(row + 2u, k),
                load_x(row + 3u, k));
            ws[kk * 8u + r] = vec4<f32>(load_w(col, k), load_w(col + 1u, k), load_w(col + 2u, k),
                load_w(col + 3u, k));
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            let a = xs[kk * 8u + ty];
            let b = ws[kk * 8u + tx];
            acc0 += a.x * b;
            acc1 += a.y * b;
            acc2 += a.z * b;
            acc3 += a.w * b;
        }
        workgroupBarrier();
    }
    let row = row0 + 4u * ty;
    store(row, acc0, col0 + 4u * tx);
    store(row + 1u, acc1, col0 + 4u * tx);
    store(row + 2u, acc2, col0 + 4u * tx);
    store(row + 3u, acc3, col0 + 4u * tx);
}
