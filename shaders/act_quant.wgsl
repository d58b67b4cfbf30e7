// Per-token absmax int8 quantization of activations x [tokens, features] (BitNet, arXiv 2310.11453, eq. 4):
//
//     s = 127 / max(max|x|, ε),   code = RoundClip(x · s, −128, 127),   x_q = code / s,
//
// one scale per token. One workgroup per token: its lanes find max|x| (a halving tree in workgroup memory),
// then quantize the row. By `mode`, the output is
//   0  the straight-through training activation x + λ·(x_q − x) (gradient: the identity);
//   1  the int8 codes, as i32.
// Both modes write the scales s.

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;
// [tokens, features, mode, λ (f32 bits)]
@group(0) @binding(3) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
// Lower bound on max|x|, so that an all-zero token keeps a finite scale.
const EPS: f32 = 1e-5;

var<workgroup> peaks: array<f32, WORKGROUP>;

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let tokens = params[0];
    let features = params[1];
    let mode = params[2];
    let token = group.y * groups.x + group.x;
    // No early return: every lane of the workgroup must reach the barriers below.
    let token_exists = token < tokens;
    let row_len = select(0u, features, token_exists);
    let start = token * features;

    var peak = 0.0;
    for (var i = lane; i < row_len; i += WORKGROUP) {
        peak = max(peak, abs(x[start + i]));
    }
    peaks[lane] = peak;
    workgroupBarrier();
    for (var stride = WORKGROUP / 2u; stride > 0u; stride /= 2u) {
        if lane < stride {
            peaks[lane] = max(peaks[lane], peaks[lane + stride]);
        }
        workgroupBarrier();
    }
    let scale = (1.0 / max(peaks[0], EPS)) * 127.0;
    if lane == 0u && token_exists {
        scales[token] = scale;
    }

    let blend = bitcast<f32>(params[3]);
    for (var i = lane; i < row_len; i += WORKGROUP) {
        let value = x[start + i];
        let code = clamp(round(value * scale), -128.0, 127.0);
        if mode == 1u {
            output[start + i] = bitcast<u32>(i32(code));
        } else {
            let step = code / scale - value;
            output[start + i] = bitcast<u32>(select(value + step * blend, value + step, blend == 1.0));
        }
    }
}
