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
// step every invocation takes (sample group, unit) tasks: for SAMPLES consecutive samples it
// computes the unit's four gates from the previous h, so that each weight vec4 it loads serves
// SAMPLES samples, updates c, writes the new h into the other buffer and to `out` (batch · steps,
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
// Samples per task, 1 to 4; per_group is a multiple of it.
override SAMPLES: u32 = 1u;

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
    let tasks = p.per_group / SAMPLES * hidden;
    for (var t = 0u; t < p.steps; t++) {
        let cur = (t % 2u) * units;
        let next = units - cur;
        for (var task = li; task < tasks; task += 64u) {
            let first = task / hidden * SAMPLES;
            let j = task % hidden;
            var g: array<vec4<f32>, 4>;
            for (var s = 0u; s < SAMPLES; s++) {
                let b = b0 + first + s;
                if (b < p.batch) {
                    g[s] = gates_in[(b * p.steps + t) * hidden + j];
                }
            }
            let h0 = cur + first * hidden;
            for (var k = 0u; k < hidden; k++) {
                let w = w_hh[k * hidden + j];
                for (var s = 0u; s < SAMPLES; s++) {
                    g[s] += w * state[h0 + s * hidden + k];
                }
            }
            for (var s = 0u; s < SAMPLES; s++) {
                let b = b0 + first + s;
                if (b < p.batch) {
                    let u = (first + s) * hidden + j;
                    let gs = g[s];
                    let c = sigmoid(gs.y) * state[cell + u] + sigmoid(gs.x) * tanh_stable(gs.z);
                    let h = sigmoid(gs.w) * tanh_stable(c);
                    state[cell + u] = c;
                    state[next + u] = h;
                    out[(b * p.steps + t) * hidden + j] = h;
                }
            }
        }
        workgroupBarrier();
    }
}
