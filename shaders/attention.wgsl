// Multi-head self-attention, softmax(q·kᵀ · scale) · v per sample and head, in one dispatch.
//
// qkv is (batch · seq, 3·d): queries, keys and values side by side (nn.MultiheadAttention's packed
// in_proj); out is (batch · seq, d), the heads concatenated, before the output projection.
//
// A workgroup owns one (sample, head) and 64 queries, one per invocation. Keys are taken in chunks
// of 32: the chunk's keys, then its values, are staged in workgroup memory 16 head dimensions at a
// time. Each invocation keeps its 32 scores, the running maximum m and the running sum l of
// exp(score − m); when a chunk raises the maximum, the sum and the partial output (accumulated in
// `out`) are rescaled by exp(m_old − m_new). Every exponent is ≤ 0: the softmax is max-subtracted.
// Workgroups are numbered wg.y · num_workgroups.x + wg.x over (sample, head, query block).

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

// tile[key · DIMS + dim]
var<workgroup> tile: array<f32, 512>;

// Stages keys (part 1) or values (part 2) j0 .. j0+KEYS, dimensions c0 .. c0+DIMS of one head.
fn stage(b: u32, col0: u32, j0: u32, c0: u32, li: u32) {
    for (var e = 0u; e < KEYS * DIMS / QUERIES; e++) {
        let idx = li + QUERIES * e;
        let key = j0 + idx / DIMS;
        let dim = c0 + idx % DIMS;
        var v = 0.0;
        if (key < p.seq && dim < p.head_dim) {
            v = qkv[(b * p.seq + key) * 3u * p.d + col0 + dim];
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
    let q_base = (b * p.seq + min(query, p.seq - 1u)) * 3u * p.d + head * hd;
    let o_base = (b * p.seq + min(query, p.seq - 1u)) * p.d + head * hd;
    var m = 0.0;
    var l = 0.0;
    var s: array<f32, 32>;
    for (var j0 = 0u; j0 < p.seq; j0 += KEYS) {
        for (var jj = 0u; jj < KEYS; jj++) {
            s[jj] = 0.0;
        }
        for (var c0 = 0u; c0 < hd; c0 += DIMS) {
            stage(b, p.d + head * hd, j0, c0, li);
            workgroupBarrier();
            if (valid) {
                let dims = min(DIMS, hd - c0);
                for (var cc = 0u; cc < dims; cc++) {
                    let q = qkv[q_base + c0 + cc];
                    for (var jj = 0u; jj < KEYS; jj++) {
                        s[jj] += q * tile[jj * DIMS + cc];
                    }
                }
            }
            workgroupBarrier();
        }
        let keys = min(KEYS, p.seq - j0);
        for (var jj = 0u; jj < keys; jj++) {
            s[jj] *= p.scale;
        }
        var m_new = s[0];
        if (j0 > 0u) {
            m_new = max(m, m_new);
        }
        for (var jj = 1u; jj < keys; jj++) {
            m_new = max(m_new, s[jj]);
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
            if (valid) {
                let dims = min(DIMS, hd - c0);
                for (var cc = 0u; cc < dims; cc++) {
                    var acc = 0.0;
                    if (j0 > 0u) {
                        acc = out[o_base + c0 + cc] * rescale;
                    }
                    for (var jj = 0u; jj < keys; jj++) {
                        acc += s[jj] * tile[jj * DIMS + cc];
                    }
                    out[o_base + c0 + cc] = acc;
                }
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
