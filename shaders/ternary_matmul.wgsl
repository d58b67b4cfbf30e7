// y = x · W_qᵀ for an exported ternary linear: int8 activation codes x [m, k] with per-token scales s, times
// ternary weight codes W [n, k] in the `packed2` layout (16 codes a u32, see ternary_quant.wgsl) with one Δ:
//
//     y[m, n] = (Σ_k code_x[m, k] · code_W[n, k]) · Δ / s[m],
//
// the sum in i32, exactly as the CPU kernel of src/ternary/kernel.rs accumulates. One invocation per output.

@group(0) @binding(0) var<storage, read_write> x_codes: array<i32>;
@group(0) @binding(1) var<storage, read_write> x_scales: array<f32>;
@group(0) @binding(2) var<storage, read_write> weights: array<u32>;
// [Δ]
@group(0) @binding(3) var<storage, read_write> delta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
// [m, n, k, words per packed row]
@group(0) @binding(5) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;
// A word of sixteen 0 codes (stored as 1 = 0b01): nothing to add.
const ZERO_WORD: u32 = 0x55555555u;

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let m = params[0];
    let n = params[1];
    let k = params[2];
    let words_per_row = params[3];
    let col = id.x;
    let token = id.y;
    if col >= n || token >= m {
        return;
    }
    let activations = token * k;
    var acc = 0i;
    for (var w = 0u; w < words_per_row; w++) {
        let word = weights[col * words_per_row + w];
        if word == ZERO_WORD {
            continue;
        }
        let first = (w / 8u) * 128u + (w % 8u) * 4u;
        for (var byte = 0u; byte < 4u; byte++) {
            for (var i = 0u; i < 4u; i++) {
                let feature = first + byte + 32u * i;
                let code = i32((word >> (8u * byte + 2u * i)) & 3u) - 1i;
                if code != 0i && feature < k {
                    acc += code * x_codes[activations + feature];
                }
            }
        }
    }
    y[token * n + col] = (f32(acc) * delta[0]) / x_scales[token];
}
