// Gradient of the relation KL (relation_kl.wgsl) with respect to the student's states. With
// G(i, x) = mask[i] · (R_S(i, x) − R_T(i, x)) = ∂(mask[i]·KL_i)/∂score_S(i, x) and scores symmetric in (i, x),
//
//     ∂L/∂a_i = g · c · Σ_x [G(i, x) + G(x, i)] · a_x,
//
// where g is the upstream gradient over (heads · Σmask) and a_x the student's head slice of key x. Each
// invocation owns one (key split, batch, head, query i) and recomputes its scores against the split's keys,
// reading the row log-sum-exps of the forward pass: O(len²·d) work, no [len × len] memory. With several splits it
// writes one partial gradient per split, which sum_splits.wgsl adds in split order.

@group(0) @binding(0) var<storage, read_write> student: array<f32>;
@group(0) @binding(1) var<storage, read_write> teacher: array<f32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> rows: array<f32>;
// [g / (heads · Σmask)]
@group(0) @binding(4) var<storage, read_write> upstream: array<f32>;
// [splits, batch, len, width]
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;
// [batch, len, width, heads, causal (0 | 1), c (f32 bits), splits, keys per split]
@group(0) @binding(6) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
// A multiple of 4, as in relation_kl.wgsl.
const HEAD_WIDTH: u32 = {{ head_width }}u;
const HEAD_VECTORS: u32 = HEAD_WIDTH / 4u;

fn student4(at: u32) -> vec4<f32> {
    return vec4<f32>(student[at], student[at + 1u], student[at + 2u], student[at + 3u]);
}

fn teacher4(at: u32) -> vec4<f32> {
    return vec4<f32>(teacher[at], teacher[at + 1u], teacher[at + 2u], teacher[at + 3u]);
}

// As in relation_kl.wgsl (sixteen columns a trip, for lavapipe's loop limit).
fn scores(a: u32, b: u32, scale: f32) -> vec2<f32> {
    var s = vec4<f32>(0.0);
    var t = vec4<f32>(0.0);
    var k = 0u;
    for (; k + 16u <= HEAD_WIDTH; k += 16u) {
        s += student4(a + k) * student4(b + k) + student4(a + k + 4u) * student4(b + k + 4u)
            + student4(a + k + 8u) * student4(b + k + 8u) + student4(a + k + 12u) * student4(b + k + 12u);
        t += teacher4(a + k) * teacher4(b + k) + teacher4(a + k + 4u) * teacher4(b + k + 4u)
            + teacher4(a + k + 8u) * teacher4(b + k + 8u) + teacher4(a + k + 12u) * teacher4(b + k + 12u);
    }
    for (; k < HEAD_WIDTH; k += 4u) {
        s += student4(a + k) * student4(b + k);
        t += teacher4(a + k) * teacher4(b + k);
    }
    return vec2<f32>(s.x + s.y + s.z + s.w, t.x + t.y + t.z + t.w) * scale;
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
    let splits = params[6];
    let keys_per_split = params[7];
    let total = batch * heads * len;
    let index = (group.y * groups.x + group.x) * WORKGROUP + lane;
    if index >= total * splits {
        return;
    }
    let row = index % total;
    let split = index / total;
    let i = row % len;
    let head = (row / len) % heads;
    let b = row / (len * heads);
    let query = (b * len + i) * width + head * HEAD_WIDTH;
    let weight_i = mask[b * len + i];

    var acc: array<vec4<f32>, HEAD_VECTORS>;
    if weight_i != 0.0 {
        let head_rows = row - i;
        let first = split * keys_per_split;
        for (var x = first; x < min(first + keys_per_split, len); x++) {
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
            var v = 0u;
            for (; v + 4u <= HEAD_VECTORS; v += 4u) {
                acc[v] += coefficient * student4(key + 4u * v);
                acc[v + 1u] += coefficient * student4(key + 4u * v + 4u);
                acc[v + 2u] += coefficient * student4(key + 4u * v + 8u);
                acc[v + 3u] += coefficient * student4(key + 4u * v + 12u);
            }
            for (; v < HEAD_VECTORS; v++) {
                acc[v] += coefficient * student4(key + 4u * v);
            }
        }
    }
    let factor = scale * upstream[0];
    for (var v = 0u; v < HEAD_VECTORS; v++) {
        let value = acc[v] * factor;
        let at = split * batch * len * width + query + 4u * v;
        grad[at] = value.x;
        grad[at + 1u] = value.y;
        grad[at + 2u] = value.z;
        grad[at + 3u] = value.w;
    }
}
