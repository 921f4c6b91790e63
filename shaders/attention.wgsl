// Multi-head self-attention, softmax(q·kᵀ · scale) · v per sample and head, in one dispatch.
//
// qkv is (batch · seq, 3·d): queries, keys and values side by side (nn.MultiheadAttention's packed
// in_proj); out is (batch · seq, d), the heads concatenated, before the output projection.
//
// A workgroup owns one (sample, head) and 64 queries, one per invocation. Keys are taken in chunks
// of 32: the chunk's keys, then its values, are staged in workgroup memory 16 head dimensions at a
// time (as vec4), while each invocation holds the matching 16 dimensions of its query or output
// in four vec4 registers. Each invocation keeps its 32 scores, the running maximum m and the
// running sum l of exp(score − m); when a chunk raises the maximum, the sum and the partial
// output (accumulated in `out`) are rescaled by exp(m_old − m_new). Every exponent is ≤ 0: the
// softmax is max-subtracted. Workgroups are numbered wg.y · num_workgroups.x + wg.x over
// (sample, head, query block).

struct Params {
    batch: u32,
    seq: u32,
    d: u32,
    heads: u32,
    head_dim: u32,
    query_blocks: u32,
    scale: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const QUERIES: u32 = 64u;
const KEYS: u32 = 32u;
const DIMS: u32 = 16u;

// tile[key · 4 + c] holds dimensions c0 + 4c .. c0 + 4c + 3 of one key (or value).
var<workgroup> tile: array<vec4<f32>, 128>;

// Element `dim` (< p.head_dim, else 0) of row `row` of qkv, starting at column `col0`.
fn element(row: u32, col0: u32, dim: u32) -> f32 {
    if (dim >= p.head_dim) {
        return 0.0;
    }
    return qkv[row * 3u * p.d + col0 + dim];
}

fn quad(row: u32, col0: u32, dim: u32) -> vec4<f32> {
    return vec4<f32>(element(row, col0, dim), element(row, col0, dim + 1u),
        element(row, col0, dim + 2u), element(row, col0, dim + 3u));
}

// Stages keys or values (columns from col0) j0 .. j0+KEYS, dimensions c0 .. c0+DIMS.
fn stage(b: u32, col0: u32, j0: u32, c0: u32, li: u32) {
    for (var e = 0u; e < KEYS * 4u / QUERIES; e++) {
        let idx = li + QUERIES * e;
        let key = j0 + idx / 4u;
        var v = vec4<f32>(0.0);
        if (key < p.seq) {
            v = quad(b * p.seq + key, col0, c0 + 4u * (idx % 4u));
        }
        tile[idx] = v;
    }
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let id = wg.y * groups.x + wg.x;
    let block = id % p.query_blocks;
    let head = (id / p.query_blocks) % p.heads;
    let b = id / (p.query_blocks * p.heads);
    if (b >= p.batch) {
        return;
    }
    let hd = p.head_dim;
    let query = block * QUERIES + li;
    let valid = query < p.seq;
    let row = b * p.seq + min(query, p.seq - 1u);
    let o_base = row * p.d + head * hd;
    var m = 0.0;
    var l = 0.0;
    var s: array<f32, 32>;
    for (var j0 = 0u; j0 < p.seq; j0 += KEYS) {
        for (var jj = 0u; jj < KEYS; jj++) {
            s[jj] = 0.0;
        }
        for (var c0 = 0u; c0 < hd; c0 += DIMS) {
            stage(b, p.d + head * hd, j0, c0, li);
            let q0 = quad(row, head * hd, c0);
            let q1 = quad(row, head * hd, c0 + 4u);
            let q2 = quad(row, head * hd, c0 + 8u);
            let q3 = quad(row, head * hd, c0 + 12u);
            workgroupBarrier();
            for (var jj = 0u; jj < KEYS; jj++) {
                let t = jj * 4u;
                s[jj] += dot(q0, tile[t]) + dot(q1, tile[t + 1u]) + dot(q2, tile[t + 2u])
                    + dot(q3, tile[t + 3u]);
            }
            workgroupBarrier();
        }
        let keys = min(KEYS, p.seq - j0);
        var m_new = s[0] * p.scale;
        if (j0 > 0u) {
            m_new = max(m, m_new);
        }
        for (var jj = 0u; jj < KEYS; jj++) {
            s[jj] *= p.scale;
            if (jj < keys) {
                m_new = max(m_new, s[jj]);
            }
        }
        var rescale = 0.0;
        if (j0 > 0u) {
            rescale = exp(m - m_new);
        }
        l *= rescale;
        for (var jj = 0u; jj < KEYS; jj++) {
            var e = 0.0;
            if (jj < keys) {
                e = exp(s[jj] - m_new);
            }
            s[jj] = e;
            l += e;
        }
        m = m_new;
        for (var c0 = 0u; c0 < hd; c0 += DIMS) {
            stage(b, 2u * p.d + head * hd, j0, c0, li);
            workgroupBarrier();
            var a0 = vec4<f32>(0.0);
            var a1 = vec4<f32>(0.0);
            var a2 = vec4<f32>(0.0);
            var a3 = vec4<f32>(0.0);
            for (var jj = 0u; jj < KEYS; jj++) {
                let t = jj * 4u;
                a0 += s[jj] * tile[t];
                a1 += s[jj] * tile[t + 1u];
                a2 += s[jj] * tile[t + 2u];
                a3 += s[jj] * tile[t + 3u];
            }
            if (valid) {
                accumulate(o_base, c0, a0, rescale, j0 > 0u);
                accumulate(o_base, c0 + 4u, a1, rescale, j0 > 0u);
                accumulate(o_base, c0 + 8u, a2, rescale, j0 > 0u);
                accumulate(o_base, c0 + 12u, a3, rescale, j0 > 0u);
            }
            workgroupBarrier();
        }
    }
    if (valid) {
        let inv = 1.0 / l;
        for (var c = 0u; c < hd; c++) {
            out[o_base + c] *= inv;
        }
    }
}

// out[o_base + dim .. + 3] (those below head_dim) = out · rescale (if `rescaled`, else 0) + add.
fn accumulate(o_base: u32, dim: u32, add: vec4<f32>, rescale: f32, rescaled: bool) {
    for (var i = 0u; i < 4u; i++) {
        if (dim + i < p.head_dim) {
            var v = add[i];
            if (rescaled) {
                v += out[o_base + dim + i] * rescale;
            }
            out[o_base + dim + i] = v;
        }
    }
}
