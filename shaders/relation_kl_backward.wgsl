// Gradient of the relation KL (relation_kl.wgsl) with respect to the student's states. With
// G(i, x) = mask[i] · (R_S(i, x) − R_T(i, x)) = ∂(mask[i]·KL_i)/∂score_S(i, x) and scores symmetric in (i, x),
//
//     ∂L/∂a_i = g · c · Σ_x [G(i, x) + G(x, i)] · a_x,
//
// where g is the upstream gradient over (heads · Σmask) and a_x the student's head slice of key x. Each
// invocation owns one (batch, head, query i) slice and recomputes its scores against every key, reading the
// row log-sum-exps of the forward pass: O(len²·d) work, no [len × len] memory.

@group(0) @binding(0) var<storage, read_write> student: array<f32>;
@group(0) @binding(1) var<storage, read_write> teacher: array<f32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> rows: array<f32>;
// [g / (heads · Σmask)]
@group(0) @binding(4) var<storage, read_write> upstream: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;
// [batch, len, width, heads, causal (0 | 1), c (f32 bits)]
@group(0) @binding(6) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
const HEAD_WIDTH: u32 = {{ head_width }}u;

fn scores(a: u32, b: u32, scale: f32) -> vec2<f32> {
    var s = 0.0;
    var t = 0.0;
    for (var k = 0u; k < HEAD_WIDTH; k++) {
        s += student[a + k] * student[b + k];
        t += teacher[a + k] * teacher[b + k];
    }
    return vec2<f32>(s, t) * scale;
}

// R_S − R_T at score pair `st` of the row whose statistics sit at `row`.
fn relation_gap(st: vec2<f32>, row: u32, total: u32) -> f32 {
    return exp(st.x - rows[total + row]) - exp(st.y - rows[2u * total + row]);
}

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let batch = params[0];
    let len = params[1];
    let width = params[2];
    let heads = params[3];
    let causal = params[4] == 1u;
    let scale = bitcast<f32>(params[5]);
    let total = batch * heads * len;
    let row = (group.y * groups.x + group.x) * WORKGROUP + lane;
    if row >= total {
        return;
    }
    let i = row % len;
    let head = (row / len) % heads;
    let b = row / (len * heads);
    let query = (b * len + i) * width + head * HEAD_WIDTH;
    let weight_i = mask[b * len + i];

    var acc: array<f32, HEAD_WIDTH>;
    if weight_i != 0.0 {
        let head_rows = row - i;
        for (var x = 0u; x < len; x++) {
            let weight_x = mask[b * len + x];
            if weight_x == 0.0 {
                continue;
            }
            let key = (b * len + x) * width + head * HEAD_WIDTH;
            let st = scores(query, key, scale);
            var coefficient = 0.0;
            // x is a key of query i, and i a key of query x (both, on the diagonal).
            if !causal || x <= i {
                coefficient += weight_i * relation_gap(st, row, total);
            }
            if !causal || i <= x {
                coefficient += weight_x * relation_gap(st, head_rows + x, total);
            }
            for (var k = 0u; k < HEAD_WIDTH; k++) {
                acc[k] += coefficient * student[key + k];
            }
        }
    }
    let factor = scale * upstream[0];
    for (var k = 0u; k < HEAD_WIDTH; k++) {
        grad[query + k] = acc[k] * factor;
    }
}
