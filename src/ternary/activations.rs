//! Per-token int8 activations for the kernel: the same numbers as [`crate::quant::int8_codes`]
//! (`s = (1/max(|x|, ε))·127`, codes `RoundClip(x·s, −128, 127)` rounding half to even), padded with zeros to the
//! kernel's block width.

use super::pack::padded_cols;
use crate::quant::ACTIVATION_EPS;

/// `tokens` rows of int8 codes, each padded to `padded_cols(cols)`, with their scales and code sums.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Activations {
    pub tokens: usize,
    pub cols: usize,
    pub codes: Vec<i8>,
    /// `s` of each token: `x ≈ codes / s`.
    pub scales: Vec<f32>,
    /// Σ codes of each token (the kernel stores `code + 1` and subtracts this).
    pub sums: Vec<i32>,
}

impl Int8Activations {
    /// Quantizes `x: [tokens, cols]`.
    pub fn quantize(x: &[f32], tokens: usize, cols: usize) -> Self {
        assert_eq!(x.len(), tokens * cols);
        let width = padded_cols(cols);
        let mut codes = vec![0i8; tokens * width];
        let mut scales = Vec::with_capacity(tokens);
        let mut sums = Vec::with_capacity(tokens);
        for (token, row) in x.chunks_exact(cols).enumerate() {
            let absmax = row.iter().fold(0f32, |m, v| m.max(v.abs())).max(ACTIVATION_EPS as f32);
            let scale = absmax.recip() * 127.0;
            let out = &mut codes[token * width..token * width + cols];
            let mut sum = 0i32;
            for (code, &value) in out.iter_mut().zip(row) {
                *code = round_ties_even_small((value * scale).clamp(-128.0, 127.0)) as i8;
                sum += *code as i32;
            }
            scales.push(scale);
            sums.push(sum);
        }
        Self {
            tokens,
            cols,
            codes,
            scales,
            sums,
        }
    }

    /// The padded codes of one token.
    pub fn token(&self, token: usize) -> &[i8] {
        let width = padded_cols(self.cols);
        &self.codes[token * width..(token + 1) * width]
    }
}

/// `v` rounded half to even for |v| ≤ 2²²: adding 1.5·2²³ leaves no fraction bits, so the addition itself rounds
/// (half to even, the default rounding mode) and the subtraction is exact. Unlike `f32::round_ties_even`, which
/// becomes a libm call (`rintf`) without SSE4.1 in the build target, this is two vector additions.
fn round_ties_even_small(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2²³
    (v + MAGIC) - MAGIC
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scale is 127 / 127 = 1, so the codes are the values rounded half to even, by hand.
    #[test]
    fn codes_round_half_to_even() {
        let row = [127.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -126.5];
        let codes = Int8Activations::quantize(&row, 1, row.len());
        assert_eq!(&codes.token(0)[..row.len()], &[127, 0, 2, 2, 0, -2, -2, 3, -126]);
        assert_eq!(codes.sums[0], 127 + 2 + 2 - 2 - 2 + 3 - 126);
    }
}
