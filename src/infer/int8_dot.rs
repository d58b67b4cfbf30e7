//! The int8 × int8 inner product of an int8 lm_head row with int8 activation codes, `Σ_c w_c · x_c`, exact in
//! i32 (as llama.cpp's Q8 dot products are): the lm_head reads half the bytes of bf16 and never widens a weight
//! to f32. The activation codes lie in −127..=127 (absmax/127 per token), so `sign(x, w)` is a signed byte, and
//! `|w|` an unsigned one (even for a weight of −128 read from a file), whose products fit `vpmaddubsw`'s i16 pairs
//! (2·128·127 < 2¹⁵) and `vpdpbusd`'s i32 lanes.

/// `Σ w_i · x_i` over `w.len()` terms (`x` may be longer: the activations are padded to the kernel's blocks).
pub fn dot_i8_codes(w: &[i8], x: &[i8]) -> i32 {
    (int8_dot_paths()[0].1)(w, x)
}

/// One exact inner-product path: `(w, x) ↦ Σ w_i · x_i`.
pub type Int8Dot = fn(&[i8], &[i8]) -> i32;

/// Every path this CPU runs, the one [`dot_i8_codes`] takes first and the portable loop last (tests check each).
pub fn int8_dot_paths() -> &'static [(&'static str, Int8Dot)] {
    static PATHS: std::sync::OnceLock<Vec<(&'static str, Int8Dot)>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        let mut paths: Vec<(&'static str, Int8Dot)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2");
            if avx2
                && std::arch::is_x86_feature_detected!("avx512vnni")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                // SAFETY: listed only where the CPU has the features (checked above).
                paths.push(("AVX-512 VNNI", |w, x| unsafe { simd::dot_vnni(w, x) }));
            }
            if avx2 {
                // SAFETY: as above.
                paths.push(("AVX2", |w, x| unsafe { simd::dot_avx2(w, x) }));
            }
        }
        paths.push(("portable", dot_portable));
        paths
    })
}

pub fn dot_portable(w: &[i8], x: &[i8]) -> i32 {
    w.iter().zip(x).map(|(&a, &b)| a as i32 * b as i32).sum()
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    use crate::ternary::sum_lanes;

    /// `(|w|, sign(x, w))` of the 32 columns at `i`: `|w| · sign(x, w) = w · x`.
    #[target_feature(enable = "avx2")]
    fn magnitudes_and_signed(w: &[i8], x: &[i8], i: usize) -> (__m256i, __m256i) {
        assert!(i + 32 <= w.len() && i + 32 <= x.len());
        // SAFETY: 32 bytes from `i` lie in both slices (asserted); unaligned loads.
        let (w, x) = unsafe {
            (
                _mm256_loadu_si256(w.as_ptr().add(i) as *const __m256i),
                _mm256_loadu_si256(x.as_ptr().add(i) as *const __m256i),
            )
        };
        (_mm256_abs_epi8(w), _mm256_sign_epi8(x, w))
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn dot_avx2(w: &[i8], x: &[i8]) -> i32 {
        let ones = _mm256_set1_epi16(1);
        let full = w.len() / 32 * 32;
        let mut acc = _mm256_setzero_si256();
        for i in (0..full).step_by(32) {
            let (magnitude, signed) = magnitudes_and_signed(w, x, i);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed), ones));
        }
        sum_lanes(acc) + super::dot_portable(&w[full..], &x[full..])
    }

    #[target_feature(enable = "avx2,avx512vnni,avx512vl")]
    pub unsafe fn dot_vnni(w: &[i8], x: &[i8]) -> i32 {
        let full = w.len() / 64 * 64;
        // Two chains, as `vpdpbusd`'s latency is several cycles.
        let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        for i in (0..full).step_by(64) {
            let (m0, s0) = magnitudes_and_signed(w, x, i);
            let (m1, s1) = magnitudes_and_signed(w, x, i + 32);
            a0 = _mm256_dpbusd_epi32(a0, m0, s0);
            a1 = _mm256_dpbusd_epi32(a1, m1, s1);
        }
        sum_lanes(_mm256_add_epi32(a0, a1)) + super::dot_portable(&w[full..], &x[full..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path equals an i64 sum on lengths around the vector widths, a −128 weight and ±127 extremes included.
    #[test]
    fn every_path_is_exact() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % 255) as i32 - 127
        };
        for len in [0, 1, 31, 32, 33, 63, 64, 65, 127, 2048, 2053] {
            let mut w: Vec<i8> = (0..len).map(|_| next() as i8).collect();
            let x: Vec<i8> = (0..len + 7).map(|_| next() as i8).collect();
            if len > 0 {
                w[0] = -128;
            }
            let expected: i64 = w.iter().zip(&x).map(|(&a, &b)| a as i64 * b as i64).sum();
            for (name, dot) in int8_dot_paths() {
                assert_eq!(dot(&w, &x) as i64, expected, "{name} at length {len}");
            }
        }
        // The largest sum: every product 127·127, no saturation on any path.
        let w = vec![127i8; 4096];
        let x = vec![-127i8; 4096];
        for (name, dot) in int8_dot_paths() {
            assert_eq!(dot(&w, &x), -127 * 127 * 4096, "{name}");
        }
    }
}
