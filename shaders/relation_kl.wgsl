// BitDistill's attention-relation distillation term (§3.3, after MiniLMv2) for one projection (Q, K or V) of
// teacher and student, states [batch, len, width] split into `heads` relation heads of width d:
//
//     R = softmax_rows(c · A_h A_hᵀ)   (c = 1/√d; the cosine variant passes unit rows and c = 1),
//     KL_i = Σ_x R_T(i, x) · (log R_T(i, x) − log R_S(i, x)),
//
// with key x hidden from query i where mask[x] = 0 or, when causal, x > i. One invocation per (batch, head,
// query i) streams over the keys with an online softmax (as flash attention does), so no [len × len] matrix is
// ever written. Writing m, l for the running max and Σ exp(score − m) of a row,
//
//     KL_i = Σ_x e^{t_x − m_T} (t_x − s_x) / l_T − (m_T + ln l_T) + (m_S + ln l_S).
//
// Output rows [3, batch·heads·len]: mask[i]·KL_i, then the row log-sum-exps of student and teacher, which the
// backward pass (relation_kl_backward.wgsl) reuses.

@group(0) @binding(0) var<storage, read_write> student: array<f32>;
@group(0) @binding(1) var<storage, read_write> teacher: array<f32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> rows: array<f32>;
// [batch, len, width, heads, causal (0 | 1), c (f32 bits)]
@group(0) @binding(4) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
const HEAD_WIDTH: u32 = {{ head_width }}u;
// Below every finite score, so the first key always resets the running max.
const LOWEST: f32 = -3.0e38;

// (student, teacher) relation scores between the head slices that start at `a` and `b`.
fn scores(a: u32, b: u32, scale: f32) -> vec2<f32> {
    var s = 0.0;
    var t = 0.0;
    for (var k = 0u; k < HEAD_WIDTH; k++) {
        s += student[a + k] * student[b + k];
        t += teacher[a + k] * teacher[b + k];
    }
    return vec2<f32>(s, t) * scale;
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
    let weight = mask[b * len + i];
    if weight == 0.0 {
        rows[row] = 0.0;
        rows[total + row] = 0.0;
        rows[2u * total + row] = 0.0;
        return;
    }

    let query = (b * len + i) * width + head * HEAD_WIDTH;
    var max_s = LOWEST;
    var sum_s = 0.0;
    var max_t = LOWEST;
    var sum_t = 0.0;
    var cross = 0.0;
    let keys = select(len, i + 1u, causal);
    for (var x = 0u; x < keys; x++) {
        if mask[b * len + x] == 0.0 {
            continue;
        }
        let st = scores(query, (b * len + x) * width + head * HEAD_WIDTH, scale);
        if st.x > max_s {
            sum_s = sum_s * exp(max_s - st.x) + 1.0;
            max_s = st.x;
        } else {
            sum_s += exp(st.x - max_s);
        }
        if st.y > max_t {
            let rescale = exp(max_t - st.y);
            sum_t = sum_t * rescale + 1.0;
            cross = cross * rescale + (st.y - st.x);
            max_t = st.y;
        } else {
            let e = exp(st.y - max_t);
            sum_t += e;
            cross += e * (st.y - st.x);
        }
    }
    let lse_s = max_s + log(sum_s);
    let lse_t = max_t + log(sum_t);
    rows[row] = weight * (cross / sum_t - lse_t + lse_s);
    rows[total + row] = lse_s;
    rows[2u * total + row] = lse_t;
}
