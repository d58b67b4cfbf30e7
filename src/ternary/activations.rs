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
                *code = (value * scale).round_ties_even().clamp(-128.0, 127.0) as i8;
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
