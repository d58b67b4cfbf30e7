// BitDistill's attention-relation distillation term (§3.3, after MiniLMv2) for one projection (Q, K or V) of
// teacher and student, states [batch, len, width] split into `heads` relation heads of width d:
//
//     R = softmax_rows(c · A_h A_hᵀ)   (c = 1/√d; the cosine variant passes unit rows and c = 1),
//     KL_i = Σ_x R_T(i, x) · (log R_T(i, x) − log R_S(i, x)),
//
// with key x hidden from query i where mask[x] = 0 or, when causal, x > i. One invocation per (key split,
// batch, head, query i) streams over its split's keys with an online softmax (as flash attention does), so no
// [len × len] matrix is ever written. It keeps, for student and teacher, the running max m and l = Σ exp(score − m),
// and the cross term c = Σ_x e^{t_x − m_T} (t_x − s_x); relation_kl_merge.wgsl combines the splits and forms
//
//     KL_i = c / l_T − (m_T + ln l_T) + (m_S + ln l_S).
//
// Output partials [5, splits, batch·heads·len]: m_S, l_S, m_T, l_T, c. Splitting the keys gives a GPU enough
// invocations when batch·heads·len alone is small (flash-decoding's split-K).

@group(0) @binding(0) var<storage, read_write> student: array<f32>;
@group(0) @binding(1) var<storage, read_write> teacher: array<f32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
// See `Relation` in relation_common.wgsl.
@group(0) @binding(4) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
// The relation-head width d: a multiple of 4 (the caller takes the reference path otherwise).
const HEAD_WIDTH: u32 = {{ head_width }}u;
// Below every finite score, so the first key always resets the running max.
const LOWEST: f32 = -3.0e38;

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
    var max_s = LOWEST;
    var sum_s = 0.0;
    var max_t = LOWEST;
    var sum_t = 0.0;
    var cross = 0.0;
    let keys = min(s.first + r.keys_per_split, select(r.len, s.i + 1u, r.causal));
    // A padded query contributes nothing: its partials stay empty.
    if mask[s.b * r.len + s.i] != 0.0 {
        for (var x = s.first; x < keys; x++) {
            if mask[s.b * r.len + x] == 0.0 {
                continue;
            }
            let st = scores(s.query, key_at(r, s, x), r.scale);
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
    }
    let stride = r.splits * r.total;
    partials[index] = max_s;
    partials[stride + index] = sum_s;
    partials[2u * stride + index] = max_t;
    partials[3u * stride + index] = sum_t;
    partials[4u * stride + index] = cross;
}
