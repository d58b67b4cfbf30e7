//! The ternary × int8 matrix product: `y[t, r] = Δ / s_t · Σ_c code[r, c] · x_code[t, c]`, accumulated in
//! integers and scaled once per output (BitNet b1.58 inference, as bitnet.cpp's I2_S kernels do it).
//!
//! The weights stay in the 2-bit kernel layout ([`super::pack::pack_kernel`]); each block of 128 columns is one
//! 32-byte load, split by four shifts into unsigned `code + 1` bytes that `vpmaddubsw` multiplies with the
//! int8 activations. `Σ (code + 1)·x − Σ x = Σ code·x`, so the sign never has to be unpacked.

use rayon::prelude::*;

use super::activations::Int8Activations;
use super::pack::{BLOCK, pack_kernel, padded_cols, unpack_kernel};

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

/// `Σ_c (code_c + 1) · x_c` over one packed row; AVX2 when the CPU has it.
fn dot_shifted(row: &[u8], x: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked above).
        return unsafe { dot_shifted_avx2(row, x) };
    }
    dot_shifted_portable(row, x)
}

/// The scalar reading of the layout: what the SIMD path must equal.
pub fn dot_shifted_portable(row: &[u8], x: &[i8]) -> i32 {
    let mut acc = 0i32;
    for (bytes, xs) in row.chunks_exact(BLOCK / 4).zip(x.chunks_exact(BLOCK)) {
        for (j, &byte) in bytes.iter().enumerate() {
            for lane in 0..4 {
                acc += ((byte >> (2 * lane)) & 3) as i32 * xs[j + 32 * lane] as i32;
            }
        }
    }
    acc
}

/// Per block: one 32-byte load, four shift-and-mask steps to `code + 1` bytes, four `vpmaddubsw` against the
/// activations (|sum| ≤ 4·2·2·128 = 2048 fits i16), one `vpmaddwd` to i32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_shifted_avx2(row: &[u8], x: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let mask = _mm256_set1_epi8(3);
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_si256();
    for (bytes, xs) in row.chunks_exact(32).zip(x.chunks_exact(BLOCK)) {
        // SAFETY: `bytes` holds 32 bytes and `xs` 128; unaligned loads.
        let (packed, x0, x1, x2, x3) = unsafe {
            let p = xs.as_ptr() as *const __m256i;
            (
                _mm256_loadu_si256(bytes.as_ptr() as *const __m256i),
                _mm256_loadu_si256(p),
                _mm256_loadu_si256(p.add(1)),
                _mm256_loadu_si256(p.add(2)),
                _mm256_loadu_si256(p.add(3)),
            )
        };
        let c0 = _mm256_and_si256(packed, mask);
        let c1 = _mm256_and_si256(_mm256_srli_epi16::<2>(packed), mask);
        let c2 = _mm256_and_si256(_mm256_srli_epi16::<4>(packed), mask);
        let c3 = _mm256_and_si256(_mm256_srli_epi16::<6>(packed), mask);
        let sum = _mm256_add_epi16(
            _mm256_add_epi16(_mm256_maddubs_epi16(c0, x0), _mm256_maddubs_epi16(c1, x1)),
            _mm256_add_epi16(_mm256_maddubs_epi16(c2, x2), _mm256_maddubs_epi16(c3, x3)),
        );
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(sum, ones));
    }
    let halves = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256::<1>(acc));
    let pairs = _mm_add_epi32(halves, _mm_shuffle_epi32::<0b01_00_11_10>(halves));
    _mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32::<0b10_11_00_01>(pairs)))
}
