//! Full-precision row matrices of the CPU engine: embeddings and lm_head (bf16, int8 per row or f32) and the
//! f32 linears of a teacher. `y = W x` is one dot product per row, on rayon's threads, with AVX2/FMA when the
//! CPU has it: the same care the ternary kernel gets, so speed ratios compare kernels, not effort.

use super::bf16_rows::bf16_forward;
use super::int8_dot::dot_i8_codes;
use crate::ternary::{Int8Activations, rows_in_parallel};
use half::bf16;

/// Row-major `[rows, cols]` weights.
#[derive(Clone, Debug, PartialEq)]
pub enum DenseMatrix {
    F32 {
        rows: usize,
        cols: usize,
        values: Vec<f32>,
    },
    Bf16 {
        rows: usize,
        cols: usize,
        values: Vec<bf16>,
    },
    /// Symmetric int8 per row: `w[r, c] = values[r, c] · scales[r]`.
    Int8 {
        rows: usize,
        cols: usize,
        values: Vec<i8>,
        scales: Vec<f32>,
    },
}

const ROWS_PER_TASK: usize = 64;

impl DenseMatrix {
    /// Rounds f32 values to int8 per row: `scale = max|row| / 127`.
    pub fn int8_from_f32(values: &[f32], rows: usize, cols: usize) -> Self {
        let mut codes = Vec::with_capacity(values.len());
        let mut scales = Vec::with_capacity(rows);
        for row in values.chunks_exact(cols) {
            let scale = row.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            let inverse = if scale > 0.0 { scale.recip() } else { 0.0 };
            codes.extend(
                row.iter()
                    .map(|v| (v * inverse).round_ties_even().clamp(-127.0, 127.0) as i8),
            );
            scales.push(scale);
        }
        Self::Int8 {
            rows,
            cols,
            values: codes,
            scales,
        }
    }

    pub fn shape(&self) -> (usize, usize) {
        match self {
            Self::F32 { rows, cols, .. } | Self::Bf16 { rows, cols, .. } | Self::Int8 { rows, cols, .. } => {
                (*rows, *cols)
            }
        }
    }

    /// Bytes of the stored weights.
    pub fn bytes(&self) -> usize {
        match self {
            Self::F32 { values, .. } => 4 * values.len(),
            Self::Bf16 { values, .. } => 2 * values.len(),
            Self::Int8 { values, scales, .. } => values.len() + 4 * scales.len(),
        }
    }

    /// Row `row` widened to f32 (an embedding lookup).
    pub fn row_f32(&self, row: usize) -> Vec<f32> {
        let (_, cols) = self.shape();
        let range = row * cols..(row + 1) * cols;
        match self {
            Self::F32 { values, .. } => values[range].to_vec(),
            Self::Bf16 { values, .. } => values[range].iter().map(|v| v.to_f32()).collect(),
            Self::Int8 { values, scales, .. } => values[range].iter().map(|&v| v as f32 * scales[row]).collect(),
        }
    }

    /// `x: [tokens, cols]` → `[tokens, rows]`. An int8 matrix multiplies int8 activation codes (per-token absmax,
    /// as llama.cpp's Q8 dot products do) in integers: `y = scale_row / s_t · Σ w·x_code`.
    pub fn forward(&self, x: &[f32], tokens: usize) -> Vec<f32> {
        let (rows, cols) = self.shape();
        assert_eq!(x.len(), tokens * cols, "input width");
        let input = |token: usize| &x[token * cols..(token + 1) * cols];
        let weights = |row: usize| row * cols..(row + 1) * cols;
        match self {
            Self::F32 { values, .. } => rows_in_parallel(rows, tokens, ROWS_PER_TASK, |row, token| {
                dot_f32(&values[weights(row)], input(token))
            }),
            Self::Bf16 { values, .. } => bf16_forward(values, rows, cols, x, tokens),
            Self::Int8 { values, scales, .. } => {
                let codes = Int8Activations::quantize(x, tokens, cols);
                rows_in_parallel(rows, tokens, ROWS_PER_TASK, |row, token| {
                    let sum = dot_i8_codes(&values[weights(row)], codes.token(token));
                    sum as f32 * (scales[row] / codes.scales[token])
                })
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Eight partial sums, the same association whatever the path, so SIMD and scalar agree to rounding (wasm's
/// bit for bit); `lanes` holds the sums of the terms before `start` (a SIMD path's).
fn dot_lanes(mut lanes: [f32; 8], start: usize, len: usize, mut term: impl FnMut(usize) -> f32) -> f32 {
    for i in start..len {
        lanes[i % 8] += term(i);
    }
    lanes.iter().sum()
}

pub fn dot_f32(w: &[f32], x: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: AVX2 and FMA are present (checked above).
        return unsafe { simd::dot_f32(w, x) };
    }
    #[cfg(target_arch = "wasm32")]
    // SAFETY: a module with simd128 code runs only on engines that have it (`ternary::dot`).
    return unsafe { simd128::dot_f32(w, x) };
    #[cfg(not(target_arch = "wasm32"))]
    dot_lanes([0.0; 8], 0, w.len(), |i| w[i] * x[i])
}

/// One bf16 row at a time (the browser's path, and a CPU without AVX2/FMA's; [`super::bf16_rows`] is x86's).
pub fn dot_bf16(w: &[bf16], x: &[f32]) -> f32 {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: as above.
    return unsafe { simd128::dot_bf16(w, x) };
    #[cfg(not(target_arch = "wasm32"))]
    dot_lanes([0.0; 8], 0, w.len(), |i| w[i].to_f32() * x[i])
}

/// [`dot_lanes`] four lanes at a time in the browser: lanes 0-3 and 4-7 in two vectors, multiply then add as the
/// scalar loop does (wasm has no fused multiply-add), so the sum equals the scalar one bit for bit.
#[cfg(target_arch = "wasm32")]
mod simd128 {
    use std::arch::wasm32::*;

    use half::bf16;

    /// `load(i)` widens `w[i..i + 4]` to f32; `term(i)` is `w[i] · x[i]` for the tail.
    #[target_feature(enable = "simd128")]
    fn dot_with(len: usize, x: &[f32], load: impl Fn(usize) -> v128, term: impl Fn(usize) -> f32) -> f32 {
        let (mut low, mut high) = (f32x4_splat(0.0), f32x4_splat(0.0));
        let full = len / 8 * 8;
        for i in (0..full).step_by(8) {
            // SAFETY: i + 8 ≤ full ≤ len = x.len().
            let (x0, x1) = unsafe {
                let p = x.as_ptr().add(i);
                (v128_load(p as *const v128), v128_load(p.add(4) as *const v128))
            };
            low = f32x4_add(low, f32x4_mul(load(i), x0));
            high = f32x4_add(high, f32x4_mul(load(i + 4), x1));
        }
        let lanes = [
            f32x4_extract_lane::<0>(low),
            f32x4_extract_lane::<1>(low),
            f32x4_extract_lane::<2>(low),
            f32x4_extract_lane::<3>(low),
            f32x4_extract_lane::<0>(high),
            f32x4_extract_lane::<1>(high),
            f32x4_extract_lane::<2>(high),
            f32x4_extract_lane::<3>(high),
        ];
        super::dot_lanes(lanes, full, len, term)
    }

    #[target_feature(enable = "simd128")]
    pub unsafe fn dot_f32(w: &[f32], x: &[f32]) -> f32 {
        assert_eq!(w.len(), x.len());
        // SAFETY: `dot_with` asks for i + 4 ≤ len.
        let load = |i: usize| unsafe { v128_load(w.as_ptr().add(i) as *const v128) };
        dot_with(w.len(), x, load, |i| w[i] * x[i])
    }

    #[target_feature(enable = "simd128")]
    pub unsafe fn dot_bf16(w: &[bf16], x: &[f32]) -> f32 {
        assert_eq!(w.len(), x.len());
        // SAFETY: as above, 8 bytes; bf16 is the high half of an f32, so widening is a 16-bit shift.
        let load = |i: usize| i32x4_shl(unsafe { u32x4_load_extend_u16x4(w.as_ptr().add(i) as *const u16) }, 16);
        dot_with(w.len(), x, load, |i| w[i].to_f32() * x[i])
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) mod simd {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub(in crate::infer) fn hsum(v: __m256) -> f32 {
        let halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
        _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)))
    }

    /// `w` and `x` widened eight at a time by `load`, fused multiply-add, scalar tail.
    #[target_feature(enable = "avx2,fma")]
    fn dot_with(len: usize, x: &[f32], load: impl Fn(usize) -> __m256, tail: impl Fn(usize) -> f32) -> f32 {
        let mut acc = [_mm256_setzero_ps(); 4];
        let full = len / 32 * 32;
        for i in (0..full).step_by(32) {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: i + 8k + 8 ≤ full ≤ len = x.len().
                let xv = unsafe { _mm256_loadu_ps(x.as_ptr().add(i + 8 * k)) };
                *a = _mm256_fmadd_ps(load(i + 8 * k), xv, *a);
            }
        }
        let mut sum = hsum(_mm256_add_ps(
            _mm256_add_ps(acc[0], acc[1]),
            _mm256_add_ps(acc[2], acc[3]),
        ));
        for (i, xi) in x.iter().enumerate().take(len).skip(full) {
            sum += tail(i) * xi;
        }
        sum
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot_f32(w: &[f32], x: &[f32]) -> f32 {
        assert_eq!(w.len(), x.len());
        // SAFETY: `dot_with` asks for i + 8 ≤ len.
        dot_with(w.len(), x, |i| unsafe { _mm256_loadu_ps(w.as_ptr().add(i)) }, |i| w[i])
    }
}
