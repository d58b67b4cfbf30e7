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
// [batch, len, width, heads, causal (0 | 1), c (f32 bits), splits, keys per split]
@group(0) @binding(4) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
// The relation-head width d: a multiple of 4 (the caller takes the reference path otherwise).
const HEAD_WIDTH: u32 = {{ head_width }}u;
// Below every finite score, so the first key always resets the running max.
const LOWEST: f32 = -3.0e38;

fn student4(at: u32) -> vec4<f32> {
    return vec4<f32>(student[at], student[at + 1u], student[at + 2u], student[at + 3u]);
}

fn teacher4(at: u32) -> vec4<f32> {
    return vec4<f32>(teacher[at], teacher[at + 1u], teacher[at + 2u], teacher[at + 3u]);
}

// (student, teacher) relation scores between the head slices that start at `a` and `b`. Sixteen columns a
// trip: lavapipe (llvmpipe) ends any loop after 65,535 trips per invocation, which len·d/4 would reach.
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
    var max_s = LOWEST;
    var sum_s = 0.0;
    var max_t = LOWEST;
    var sum_t = 0.0;
    var cross = 0.0;
    let first = split * keys_per_split;
    let keys = min(first + keys_per_split, select(len, i + 1u, causal));
    // A padded query contributes nothing: its partials stay empty.
    if mask[b * len + i] != 0.0 {
        for (var x = first; x < keys; x++) {
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
    }
    let stride = splits * total;
    partials[index] = max_s;
    partials[stride + index] = sum_s;
    partials[2u * stride + index] = max_t;
    partials[3u * stride + index] = sum_t;
    partials[4u * stride + index] = cross;
}
