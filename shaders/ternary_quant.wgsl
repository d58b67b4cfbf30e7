// BitNet b1.58's absmean ternary quantization of a weight W [rows, cols] (arXiv 2402.17764, eq. 1-3), as the
// official BitDistill code computes it (bitnetsrc/core.py `weight_quant`; src/quant/ternary.rs):
//
//     Δ = max(mean|W|, 1e-5),   code = RoundClip(W · (1/Δ), −1, 1) ∈ {−1, 0, +1},   W_q = Δ · code.
//
// That is all "1.58 bits" means: log2(3) bits of code per weight and one f32 Δ per matrix. Σ|W| comes from
// reduce_sum.wgsl (fixed order, so Δ is the same on every run). One launch writes one output, by `mode`:
//   0  the training weight of the straight-through estimator, W + λ·(W_q − W) (its gradient is the identity);
//   1  the codes, as i32;
//   2  the codes packed 16 to a u32 in the `packed2` layout of src/ternary/pack.rs: each row padded to blocks
//      of 128 columns; word w (0..8) of a block holds, at bits 8k + 2i, code + 1 of column 4w + k + 32i
//      (code 0 in the padding).
// f32 and i32 results are stored through `bitcast`, so the one output buffer serves every mode.

@group(0) @binding(0) var<storage, read_write> weight: array<f32>;
// [Σ|W|]
@group(0) @binding(1) var<storage, read_write> abs_sum: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;
// [len, cols, mode, λ (f32 bits), words per packed row]
@group(0) @binding(3) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
// Lower bound on Δ, so that an all-zero matrix keeps a finite reciprocal.
const SCALE_FLOOR: f32 = 1e-5;

// `inverse` is 1/Δ: the official code multiplies by it, and the last bit decides weights at exactly ±Δ/2.
fn ternary_code(w: f32, inverse: f32) -> f32 {
    // WGSL's round() rounds half to even, as torch.round and burn's round do.
    return clamp(round(w * inverse), -1.0, 1.0);
}

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let len = params[0];
    let cols = params[1];
    let mode = params[2];
    let delta = max(abs_sum[0] / f32(len), SCALE_FLOOR);
    let inverse = 1.0 / delta;
    let index = (group.y * groups.x + group.x) * WORKGROUP + lane;

    if mode == 2u {
        let words_per_row = params[4];
        let rows = len / cols;
        if index >= rows * words_per_row {
            return;
        }
        let row = index / words_per_row;
        let word_in_row = index % words_per_row;
        let first_col = (word_in_row / 8u) * 128u + (word_in_row % 8u) * 4u;
        var word = 0u;
        for (var k = 0u; k < 4u; k++) {
            for (var i = 0u; i < 4u; i++) {
                let col = first_col + k + 32u * i;
                var code = 0.0;
                if col < cols {
                    code = ternary_code(weight[row * cols + col], inverse);
                }
                word |= u32(code + 1.0) << (8u * k + 2u * i);
            }
        }
        output[index] = word;
        return;
    }

    if index >= len {
        return;
    }
    let w = weight[index];
    let code = ternary_code(w, inverse);
    if mode == 1u {
        output[index] = bitcast<u32>(i32(code));
        return;
    }
    let blend = bitcast<f32>(params[3]);
    let step = code * delta - w;
    output[index] = bitcast<u32>(select(w + step * blend, w + step, blend == 1.0));
}
