//! The ternary × int8 matrix product: `y[t, r] = Δ / s_t · Σ_c code[r, c] · x_code[t, c]`, accumulated in
//! integers and scaled once per output (BitNet b1.58 inference, as bitnet.cpp's I2_S kernels do it).
//! The weights stay in the 2-bit kernel layout ([`super::pack::pack_kernel`]); the inner product is
//! [`super::dot`]'s.

use rayon::prelude::*;

use super::activations::Int8Activations;
use super::dot::dot_shifted;
use super::pack::{pack_kernel, padded_cols, unpack_kernel};

/// A ternary weight matrix `[rows, cols]` with its absmean scale Δ, in the kernel layout.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedTernary {
    pub rows: usize,
    pub cols: usize,
    /// Δ: the dequantized weight is `Δ · code`.
    pub scale: f32,
    packed: Vec<u8>,
}

/// Output rows a worker takes at a time: enough work to amortise the hand-off, small enough to balance.
const ROWS_PER_TASK: usize = 32;

impl PackedTernary {
    pub fn from_codes(codes: &[i8], rows: usize, cols: usize, scale: f32) -> Self {
        Self::from_kernel_layout(pack_kernel(codes, rows, cols), rows, cols, scale)
    }

    /// Takes bytes already in the kernel layout (`rows × padded_cols(cols)/4`).
    pub fn from_kernel_layout(packed: Vec<u8>, rows: usize, cols: usize, scale: f32) -> Self {
        assert_eq!(
            packed.len(),
            rows * padded_cols(cols) / 4,
            "kernel layout of {rows}x{cols}"
        );
        Self {
            rows,
            cols,
            scale,
            packed,
        }
    }

    pub fn packed(&self) -> &[u8] {
        &self.packed
    }

    pub fn codes(&self) -> Vec<i8> {
        unpack_kernel(&self.packed, self.rows, self.cols)
    }

    fn row(&self, row: usize) -> &[u8] {
        let bytes = padded_cols(self.cols) / 4;
        &self.packed[row * bytes..(row + 1) * bytes]
    }

    /// Integer accumulators `Σ_c code[row, c] · x_code[t, c]`.
    pub fn dot(&self, row: usize, x: &Int8Activations, token: usize) -> i32 {
        dot_shifted(self.row(row), x.token(token)) - x.sums[token]
    }

    /// `y: [tokens, rows]` from `x: [tokens, cols]` quantized, on rayon's threads.
    pub fn forward(&self, x: &Int8Activations) -> Vec<f32> {
        assert_eq!(x.cols, self.cols, "activation width");
        rows_in_parallel(self.rows, x.tokens, ROWS_PER_TASK, |row, token| {
            self.dot(row, x, token) as f32 * (self.scale / x.scales[token])
        })
    }
}

/// `y[token, row] = value(row, token)` for `rows × tokens` outputs, `rows_per_task` rows a rayon task: a task
/// reads its weight rows once for every token.
pub(crate) fn rows_in_parallel(
    rows: usize,
    tokens: usize,
    rows_per_task: usize,
    value: impl Fn(usize, usize) -> f32 + Sync,
) -> Vec<f32> {
    let mut by_row = vec![0f32; rows * tokens];
    by_row
        .par_chunks_mut(rows_per_task * tokens)
        .enumerate()
        .for_each(|(task, out)| {
            for (i, out_row) in out.chunks_exact_mut(tokens).enumerate() {
                for (token, y) in out_row.iter_mut().enumerate() {
                    *y = value(task * rows_per_task + i, token);
                }
            }
        });
    let mut out = vec![0f32; by_row.len()];
    for r in 0..rows {
        for t in 0..tokens {
            out[t * rows + r] = by_row[r * tokens + t];
        }
    }
    out
}
