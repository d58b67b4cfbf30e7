// Combines the key splits of relation_kl.wgsl for each (batch, head, query i), in split order:
//
//     m = max_k m_k,   l = Σ_k l_k e^{m_k − m},   c = Σ_k c_k e^{m_T,k − m_T},
//     KL_i = c / l_T − (m_T + ln l_T) + (m_S + ln l_S).
//
// Output rows [3, batch·heads·len]: mask[i]·KL_i, then the student's and teacher's row log-sum-exps, which
// relation_kl_backward.wgsl reads.

@group(0) @binding(0) var<storage, read_write> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> rows: array<f32>;
// [rows (batch·heads·len), len, heads, splits]
@group(0) @binding(3) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
const LOWEST: f32 = -3.0e38;

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let total = params[0];
    let len = params[1];
    let heads = params[2];
    let splits = params[3];
    let row = (group.y * groups.x + group.x) * WORKGROUP + lane;
    if row >= total {
        return;
    }
    let weight = mask[(row / (len * heads)) * len + row % len];
    if weight == 0.0 {
        rows[row] = 0.0;
        rows[total + row] = 0.0;
        rows[2u * total + row] = 0.0;
        return;
    }
    let stride = splits * total;
    var max_s = LOWEST;
    var max_t = LOWEST;
    for (var k = 0u; k < splits; k++) {
        max_s = max(max_s, partials[k * total + row]);
        max_t = max(max_t, partials[2u * stride + k * total + row]);
    }
    var sum_s = 0.0;
    var sum_t = 0.0;
    var cross = 0.0;
    for (var k = 0u; k < splits; k++) {
        let at = k * total + row;
        sum_s += partials[stride + at] * exp(partials[at] - max_s);
        let rescale = exp(partials[2u * stride + at] - max_t);
        sum_t += partials[3u * stride + at] * rescale;
        cross += partials[4u * stride + at] * rescale;
    }
    let lse_s = max_s + log(sum_s);
    let lse_t = max_t + log(sum_t);
    rows[row] = weight * (cross / sum_t - lse_t + lse_s);
    rows[total + row] = lse_s;
    rows[2u * total + row] = lse_t;
}
