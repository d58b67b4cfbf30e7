//! `y = W x` for a bf16 `W` (the tied lm_head of a packed student: 120,818 rows, half its bytes per token). A bf16
//! is the high half of an f32, so a 32-byte load of 16 weights widens to f32 without a shuffle: `u32 << 16` gives
//! the even columns and `u32 & 0xFFFF0000` the odd ones, multiplied against x laid out once per token as the 8
//! even then the 8 odd columns of each 16. One row at a time: with rows of 4 KiB (2048 columns), reading four rows
//! side by side decoded 25 tokens/s where one after the other decodes 34 (`bench decode --shape full`, 2 threads),
//! the hardware prefetcher following one stream per thread better than four.
//! Where AVX2/FMA is missing, [`super::dense::dot_bf16`].

use half::bf16;

use super::dense::dot_bf16;
use crate::ternary::rows_in_parallel;

/// Output rows a worker takes at a time.
const ROWS_PER_TASK: usize = 64;

/// `x: [tokens, cols]` → `[tokens, rows]` for row-major `values: [rows, cols]`.
pub fn bf16_forward(values: &[bf16], rows: usize, cols: usize, x: &[f32], tokens: usize) -> Vec<f32> {
    let row = |r: usize| &values[r * cols..(r + 1) * cols];
    let input = |t: usize| &x[t * cols..(t + 1) * cols];
    #[cfg(target_arch = "x86_64")]
    if super::dense::has_avx2_fma() {
        let split: Vec<Vec<f32>> = (0..tokens).map(|t| even_then_odd(input(t))).collect();
        // SAFETY: AVX2 and FMA are present (checked above).
        return rows_in_parallel(rows, tokens, ROWS_PER_TASK, |r, t| unsafe {
            simd::dot(row(r), &split[t], input(t))
        });
    }
    rows_in_parallel(rows, tokens, ROWS_PER_TASK, |r, t| dot_bf16(row(r), input(t)))
}

#[cfg(target_arch = "x86_64")]
/// Within each full 16 columns of `x`, the 8 even columns then the 8 odd ones (the tail is read from `x`).
fn even_then_odd(x: &[f32]) -> Vec<f32> {
    x.chunks_exact(16)
        .flat_map(|block| (0..16).map(move |i| block[if i < 8 { 2 * i } else { 2 * (i - 8) + 1 }]))
        .collect()
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    use half::bf16;

    use super::super::dense::simd::hsum;

    /// `Σ_c w[c] · x[c]`, 16 columns an iteration into two accumulators (even and odd columns): the loop waits
    /// on memory, not on the multiply-adds (four accumulators over 32 columns measured no faster).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(w: &[bf16], split: &[f32], x: &[f32]) -> f32 {
        let cols = x.len();
        let full = cols / 16 * 16;
        assert!(w.len() == cols && split.len() == full, "a row as wide as x");
        let high = _mm256_set1_epi32(0xFFFF_0000_u32 as i32);
        let weights = w.as_ptr() as *const __m256i;
        let xs = split.as_ptr() as *const __m256;
        let (mut even, mut odd) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        for block in 0..full / 16 {
            // SAFETY: block < full / 16, so its 16 bf16 (32 bytes) of `w` and 16 f32 of `split` lie inside them
            // (asserted above).
            let (wv, x_even, x_odd) = unsafe {
                let x = xs.add(2 * block) as *const f32;
                (
                    _mm256_loadu_si256(weights.add(block)),
                    _mm256_loadu_ps(x),
                    _mm256_loadu_ps(x.add(8)),
                )
            };
            even = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<16>(wv)), x_even, even);
            odd = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(wv, high)), x_odd, odd);
        }
        let tail: f32 = (full..cols).map(|c| w[c].to_f32() * x[c]).sum();
        hsum(_mm256_add_ps(even, odd)) + tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against f64 sums of the widened weights, on widths around the 16-column blocks (the tail, one block, one
    /// block and a tail) and two tokens: the even/odd layout pairs each weight with its own column. Weights are
    /// multiples of 1/16 and inputs of 1/8 below 2⁴ (exact in bf16 and f32), so every partial sum is a multiple of
    /// 1/128 below 2¹⁶ and exact in f32 whatever the association: the sums must be equal, not close.
    #[test]
    fn rows_equal_f64_sums_on_odd_widths() {
        for cols in [1, 15, 16, 17, 33, 300] {
            let (rows, tokens) = (7, 2);
            let values: Vec<bf16> = (0..rows * cols)
                .map(|i| bf16::from_f32(((i * 37 % 101) as f32 - 50.0) / 16.0))
                .collect();
            let x: Vec<f32> = (0..tokens * cols)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 8.0)
                .collect();
            let y = bf16_forward(&values, rows, cols, &x, tokens);
            for t in 0..tokens {
                for r in 0..rows {
                    let exact: f64 = (0..cols)
                        .map(|c| values[r * cols + c].to_f64() * x[t * cols + c] as f64)
                        .sum();
                    assert_eq!(y[t * rows + r] as f64, exact, "{cols} cols, row {r}, token {t}");
                }
            }
        }
    }
}
