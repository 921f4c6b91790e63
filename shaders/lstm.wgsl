// One LSTM layer's recurrence over the whole sequence in a single dispatch, all four gates fused.
//
// Gates are interleaved per unit, as vec4 (i, f, g, o) in PyTorch's gate order: gates_in is
// (batch · steps, hidden) vec4 holding x_t · W_ihᵀ + b_ih + b_hh for every step, computed before by
// one matrix multiply with W_ih's rows permuted to that order; w_hh is (hidden_in, hidden) vec4,
// w_hh[k · hidden + j] = W_hh[(i, f, g, o) of unit j][k], so that invocations working on
// neighbouring units read neighbouring weights, one vec4 per step of the dot product.
//
// A workgroup owns `per_group` consecutive samples and loops over time; h (double-buffered) and c
// live in workgroup memory, laid out [h ping | h pong | c], each per_group · hidden floats. At each
// step every invocation takes (sample, unit) pairs, computes the unit's four gates from the
// previous h, updates c, writes the new h into the other buffer and to `out` (batch · steps,
// hidden); one barrier separates the steps. Workgroups are numbered wg.y · num_workgroups.x + wg.x.

struct Params {
    batch: u32,
    steps: u32,
    hidden: u32,
    per_group: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gates_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w_hh: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// At least 3 · per_group · hidden.
override STATE_FLOATS: u32 = 3u;

var<workgroup> state: array<f32, STATE_FLOATS>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let b0 = (wg.y * groups.x + wg.x) * p.per_group;
    if (b0 >= p.batch) {
        return;
    }
    let hidden = p.hidden;
    let units = p.per_group * hidden;
    let cell = 2u * units;
    for (var u = li; u < 3u * units; u += 64u) {
        state[u] = 0.0;
    }
    workgroupBarrier();
    for (var t = 0u; t < p.steps; t++) {
        let cur = (t % 2u) * units;
        let next = units - cur;
        for (var u = li; u < units; u += 64u) {
            let s = u / hidden;
            let j = u % hidden;
            let b = b0 + s;
            if (b < p.batch) {
                let row = b * p.steps + t;
                var g = gates_in[row * hidden + j];
                let h0 = cur + s * hidden;
                for (var k = 0u; k < hidden; k++) {
                    g += w_hh[k * hidden + j] * state[h0 + k];
                }
                let c = sigmoid(g.y) * state[cell + u] + sigmoid(g.x) * tanh_stable(g.z);
                let h = sigmoid(g.w) * tanh_stable(c);
                state[cell + u] = c;
                state[next + u] = h;
                out[row * hidden + j] = h;
            }
        }
        workgroupBarrier();
    }
}
