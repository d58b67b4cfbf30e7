//! The inner product of the ternary × int8 kernel over one packed row: `Σ_c (code_c + 1) · x_c`.
//!
//! Each block of 128 columns of the 2-bit kernel layout ([`super::pack::pack_kernel`]) is one 32-byte load, split
//! by four shifts into unsigned `code + 1` bytes that multiply the int8 activations. `Σ (code + 1)·x − Σ x =
//! Σ code·x`, so the sign never has to be unpacked. This file depends on nothing but `pack::BLOCK`, so that
//! ci/neon can cross-build it alone for aarch64 and run it under qemu.

use super::pack::BLOCK;

/// `Σ_c (code_c + 1) · x_c` over one packed row: AVX-512 VNNI or AVX2 when the CPU has them, NEON on every
/// aarch64 CPU, simd128 in the browser.
pub fn dot_shifted(row: &[u8], x: &[i8]) -> i32 {
    // SAFETY: NEON is part of the aarch64 baseline.
    #[cfg(target_arch = "aarch64")]
    return unsafe { dot_shifted_neon(row, x) };
    // SAFETY: wasm has no runtime feature detection: an engine without SIMD refuses the whole module at load
    // time (every current browser has it), so reaching this call means the engine runs simd128.
    #[cfg(target_arch = "wasm32")]
    return unsafe { dot_shifted_simd128(row, x) };
    #[cfg(not(any(target_arch = "aarch64", target_arch = "wasm32")))]
    {
        #[cfg(target_arch = "x86_64")]
        {
            if has_vnni() {
                // SAFETY: the CPU supports AVX2, AVX-512 VNNI and VL (checked).
                return unsafe { dot_shifted_vnni(row, x) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked above).
                return unsafe { dot_shifted_avx2(row, x) };
            }
        }
        dot_shifted_portable(row, x)
    }
}

/// One implementation of [`dot_shifted`] that this CPU runs.
#[derive(Clone, Copy)]
pub struct DotPath {
    pub name: &'static str,
    pub dot: fn(&[u8], &[i8]) -> i32,
}

/// Every path this CPU runs, the one [`dot_shifted`] takes first and the portable loop last: for the
/// exactness tests of each and `bench dot`.
pub fn dot_paths() -> Vec<DotPath> {
    let mut paths = Vec::new();
    #[cfg(target_arch = "aarch64")]
    paths.push(DotPath {
        name: "NEON",
        // SAFETY: NEON is part of the aarch64 baseline.
        dot: |row, x| unsafe { dot_shifted_neon(row, x) },
    });
    #[cfg(target_arch = "wasm32")]
    paths.push(DotPath {
        name: "simd128",
        // SAFETY: as in `dot_shifted`.
        dot: |row, x| unsafe { dot_shifted_simd128(row, x) },
    });
    #[cfg(target_arch = "x86_64")]
    {
        if has_vnni() {
            paths.push(DotPath {
                name: "AVX-512 VNNI",
                // SAFETY: listed only where the CPU has the features (checked above).
                dot: |row, x| unsafe { dot_shifted_vnni(row, x) },
            });
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            paths.push(DotPath {
                name: "AVX2",
                // SAFETY: as above.
                dot: |row, x| unsafe { dot_shifted_avx2(row, x) },
            });
        }
    }
    paths.push(DotPath {
        name: "portable",
        dot: dot_shifted_portable,
    });
    paths
}

/// The path [`dot_shifted`] takes on this CPU: "AVX-512 VNNI", "AVX2", "NEON", "simd128" or "portable".
pub fn kernel_path() -> &'static str {
    dot_paths()[0].name
}

#[cfg(target_arch = "x86_64")]
pub(super) fn has_vnni() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("avx512vnni")
        && std::arch::is_x86_feature_detected!("avx512vl")
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

/// One block of 128 columns of one row: its 32-byte load split by four shift-and-mask steps into the `code + 1`
/// bytes of columns `32·lane ..` for lane 0..4. A macro, not a function, so that it expands inside each path's
/// own `#[target_feature]` function (a call across differing features is not inlined); `tile.rs` uses it too.
#[cfg(target_arch = "x86_64")]
macro_rules! code_lanes {
    ($bytes:expr) => {{
        let bytes: &[u8] = $bytes;
        assert!(bytes.len() == 32);
        let mask = _mm256_set1_epi8(3);
        // SAFETY: `bytes` holds 32 bytes (asserted); an unaligned load.
        let packed = unsafe { _mm256_loadu_si256(bytes.as_ptr() as *const __m256i) };
        [
            _mm256_and_si256(packed, mask),
            _mm256_and_si256(_mm256_srli_epi16::<2>(packed), mask),
            _mm256_and_si256(_mm256_srli_epi16::<4>(packed), mask),
            _mm256_and_si256(_mm256_srli_epi16::<6>(packed), mask),
        ]
    }};
}
#[cfg(target_arch = "x86_64")]
pub(super) use code_lanes;

/// The 128 int8 activations of one block, as the four 32-byte vectors that [`code_lanes`]' lanes multiply.
#[cfg(target_arch = "x86_64")]
macro_rules! activation_lanes {
    ($xs:expr) => {{
        let xs: &[i8] = $xs;
        assert!(xs.len() == BLOCK);
        // SAFETY: `xs` holds 128 bytes (asserted); unaligned loads.
        unsafe {
            let p = xs.as_ptr() as *const __m256i;
            [
                _mm256_loadu_si256(p),
                _mm256_loadu_si256(p.add(1)),
                _mm256_loadu_si256(p.add(2)),
                _mm256_loadu_si256(p.add(3)),
            ]
        }
    }};
}
#[cfg(target_arch = "x86_64")]
pub(super) use activation_lanes;

/// The sum of the eight i32 lanes (also the int8 lm_head's, `infer::int8_dot`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) fn sum_lanes(acc: std::arch::x86_64::__m256i) -> i32 {
    use std::arch::x86_64::*;
    let halves = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256::<1>(acc));
    let pairs = _mm_add_epi32(halves, _mm_shuffle_epi32::<0b01_00_11_10>(halves));
    _mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32::<0b10_11_00_01>(pairs)))
}

/// Per block: four `vpmaddubsw` of the `code + 1` bytes against the activations (|sum| ≤ 4·2·2·128 = 2048 fits
/// i16), one `vpmaddwd` to i32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_shifted_avx2(row: &[u8], x: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let ones = _mm256_set1_epi16(1);
    let mut acc = _mm256_setzero_si256();
    for (bytes, xs) in row.chunks_exact(32).zip(x.chunks_exact(BLOCK)) {
        let ([c0, c1, c2, c3], [x0, x1, x2, x3]) = (code_lanes!(bytes), activation_lanes!(xs));
        let sum = _mm256_add_epi16(
            _mm256_add_epi16(_mm256_maddubs_epi16(c0, x0), _mm256_maddubs_epi16(c1, x1)),
            _mm256_add_epi16(_mm256_maddubs_epi16(c2, x2), _mm256_maddubs_epi16(c3, x3)),
        );
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(sum, ones));
    }
    sum_lanes(acc)
}

/// Per block: four `vpdpbusd`, each multiplying 32 unsigned `code + 1` bytes by 32 int8 activations and adding
/// groups of four products straight into i32 lanes (no i16 step).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
unsafe fn dot_shifted_vnni(row: &[u8], x: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    // One accumulator per lane: four independent chains, as `vpdpbusd`'s latency is several cycles.
    let (mut a0, mut a1, mut a2, mut a3) = (
        _mm256_setzero_si256(),
        _mm256_setzero_si256(),
        _mm256_setzero_si256(),
        _mm256_setzero_si256(),
    );
    for (bytes, xs) in row.chunks_exact(32).zip(x.chunks_exact(BLOCK)) {
        let ([c0, c1, c2, c3], [x0, x1, x2, x3]) = (code_lanes!(bytes), activation_lanes!(xs));
        a0 = _mm256_dpbusd_epi32(a0, c0, x0);
        a1 = _mm256_dpbusd_epi32(a1, c1, x1);
        a2 = _mm256_dpbusd_epi32(a2, c2, x2);
        a3 = _mm256_dpbusd_epi32(a3, c3, x3);
    }
    sum_lanes(_mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)))
}

/// Per block: two 16-byte loads, four shift-and-mask steps to `code + 1` bytes (0..=2, read as i8), widening
/// multiplies against the activations to i16 (|product| ≤ 2·128), pairwise-accumulated into i32 lanes.
#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "neon")]
unsafe fn dot_shifted_neon(row: &[u8], x: &[i8]) -> i32 {
    use std::arch::aarch64::*;
    let mask = vdupq_n_u8(3);
    let mut acc = vdupq_n_s32(0);
    for (bytes, xs) in row.chunks_exact(32).zip(x.chunks_exact(BLOCK)) {
        // SAFETY: `bytes` holds 32 bytes and `xs` 128.
        let (low, high) = unsafe { (vld1q_u8(bytes.as_ptr()), vld1q_u8(bytes.as_ptr().add(16))) };
        let lanes = [
            (vandq_u8(low, mask), vandq_u8(high, mask)),
            (
                vandq_u8(vshrq_n_u8::<2>(low), mask),
                vandq_u8(vshrq_n_u8::<2>(high), mask),
            ),
            (
                vandq_u8(vshrq_n_u8::<4>(low), mask),
                vandq_u8(vshrq_n_u8::<4>(high), mask),
            ),
            (vshrq_n_u8::<6>(low), vshrq_n_u8::<6>(high)),
        ];
        for (lane, (codes_low, codes_high)) in lanes.into_iter().enumerate() {
            // SAFETY: columns 32·lane .. 32·lane + 32 lie inside the block.
            let (x_low, x_high) = unsafe {
                let p = xs.as_ptr().add(32 * lane);
                (vld1q_s8(p), vld1q_s8(p.add(16)))
            };
            for (codes, x) in [(codes_low, x_low), (codes_high, x_high)] {
                let codes = vreinterpretq_s8_u8(codes);
                acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(codes), vget_low_s8(x)));
                acc = vpadalq_s16(acc, vmull_high_s8(codes, x));
            }
        }
    }
    vaddvq_s32(acc)
}

/// Per block: two 16-byte loads, four shift-and-mask steps to `code + 1` bytes (0..=2, read as i8), widening
/// multiplies against the activations to i16 summed within the block (each i16 lane takes 16 products of at most
/// 2·128: |sum| ≤ 4096 fits), then pairwise-widened into i32 lanes.
#[cfg(target_arch = "wasm32")]
#[target_feature(enable = "simd128")]
unsafe fn dot_shifted_simd128(row: &[u8], x: &[i8]) -> i32 {
    use std::arch::wasm32::*;
    let mask = u8x16_splat(3);
    let mut acc = i32x4_splat(0);
    for (bytes, xs) in row.chunks_exact(32).zip(x.chunks_exact(BLOCK)) {
        // SAFETY: `bytes` holds 32 bytes and `xs` 128; wasm loads need no alignment.
        let (low, high) = unsafe {
            let p = bytes.as_ptr() as *const v128;
            (v128_load(p), v128_load(p.add(1)))
        };
        let mut block = i16x8_splat(0);
        for lane in 0..4u32 {
            let codes = [
                v128_and(u8x16_shr(low, 2 * lane), mask),
                v128_and(u8x16_shr(high, 2 * lane), mask),
            ];
            for (half, codes) in codes.into_iter().enumerate() {
                // SAFETY: columns 32·lane + 16·half .. + 16 lie inside the block.
                let x = unsafe { v128_load(xs.as_ptr().add(32 * lane as usize + 16 * half) as *const v128) };
                block = i16x8_add(block, i16x8_extmul_low_i8x16(codes, x));
                block = i16x8_add(block, i16x8_extmul_high_i8x16(codes, x));
            }
        }
        acc = i32x4_add(acc, i32x4_extadd_pairwise_i16x8(block));
    }
    i32x4_extract_lane::<0>(acc)
        + i32x4_extract_lane::<1>(acc)
        + i32x4_extract_lane::<2>(acc)
        + i32x4_extract_lane::<3>(acc)
}
