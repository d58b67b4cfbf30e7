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
// See `Relation` in relation_common.wgsl.
@group(0) @binding(6) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
// A multiple of 4, as in relation_kl.wgsl.
const HEAD_WIDTH: u32 = {{ head_width }}u;
const HEAD_VECTORS: u32 = HEAD_WIDTH / 4u;

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
    let r = relation();
    let index = (group.y * groups.x + group.x) * WORKGROUP + lane;
    if index >= r.total * r.splits {
        return;
    }
    let s = slot(r, index);
    let weight_i = mask[s.b * r.len + s.i];

    var acc: array<vec4<f32>, HEAD_VECTORS>;
    if weight_i != 0.0 {
        let head_rows = s.row - s.i;
        for (var x = s.first; x < min(s.first + r.keys_per_split, r.len); x++) {
            let weight_x = mask[s.b * r.len + x];
            if weight_x == 0.0 {
                continue;
            }
            let key = key_at(r, s, x);
            let st = scores(s.query, key, r.scale);
            var coefficient = 0.0;
            // x is a key of query i, and i a key of query x (both, on the diagonal).
            if !r.causal || x <= s.i {
                coefficient += weight_i * relation_gap(st, s.row, r.total);
            }
            if !r.causal || s.i <= x {
                coefficient += weight_x * relation_gap(st, head_rows + x, r.total);
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
    let factor = r.scale * upstream[0];
    let split_offset = s.split * r.batch * r.len * r.width;
    for (var v = 0u; v < HEAD_VECTORS; v++) {
        let value = acc[v] * factor;
        let at = split_offset + s.query + 4u * v;
        grad[at] = value.x;
        grad[at + 1u] = value.y;
        grad[at + 2u] = value.z;
        grad[at + 3u] = value.w;
    }
}
