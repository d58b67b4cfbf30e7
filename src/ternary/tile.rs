//! Tiles of the ternary × int8 kernel: [`TILE_ROWS`] weight rows against one token (decode) or against
//! [`TILE_TOKENS`] tokens at once (prefill), `Σ_c (code[r, c] + 1) · x[t, c]` for every pair. A tile loads each
//! 32-byte weight block once for all its tokens and each activation vector once for all its rows, where one
//! (row, token) dot at a time ([`super::dot_shifted`]) reloads both: prefill becomes a matrix-matrix product
//! instead of a matrix-vector product per token (as GEMM kernels block for register reuse).

use super::dot::dot_shifted;

/// Weight rows of a tile.
pub const TILE_ROWS: usize = 4;
/// Tokens of a prefill tile.
pub const TILE_TOKENS: usize = 4;

/// Four rows against one token: `sums[r]`.
pub type RowsTile = fn(&[&[u8]; TILE_ROWS], &[i8]) -> [i32; TILE_ROWS];
/// Four rows against four tokens: `sums[r][t]`.
pub type BlockTile = fn(&[&[u8]; TILE_ROWS], &[&[i8]; TILE_TOKENS]) -> [[i32; TILE_TOKENS]; TILE_ROWS];

/// One implementation of both tile shapes.
#[derive(Clone, Copy)]
pub struct TilePath {
    pub name: &'static str,
    pub rows: RowsTile,
    pub block: BlockTile,
}

/// Every tile path this CPU runs, the one the kernel takes first and the row-at-a-time one last (each row and
/// token through [`dot_shifted`], which is NEON in aarch64 and simd128 in the browser): for the exactness tests
/// of each and `bench dot`.
pub fn tile_paths() -> &'static [TilePath] {
    static PATHS: std::sync::OnceLock<Vec<TilePath>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        let mut paths = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if super::dot::has_vnni() {
                paths.push(TilePath {
                    name: "AVX-512 VNNI",
                    // SAFETY: listed only where the CPU has the features (checked above).
                    rows: |rows, x| unsafe { x86::tile_vnni::<1, 4>(rows, &[x]) }.map(|[s]| s),
                    // SAFETY: as above.
                    block: |rows, xs| unsafe { x86::tile_vnni::<TILE_TOKENS, 1>(rows, xs) },
                });
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                paths.push(TilePath {
                    name: "AVX2",
                    // SAFETY: as above.
                    rows: |rows, x| unsafe { x86::tile_avx2::<1>(rows, &[x]) }.map(|[s]| s),
                    // SAFETY: as above.
                    block: |rows, xs| unsafe { x86::tile_avx2::<TILE_TOKENS>(rows, xs) },
                });
            }
        }
        paths.push(TilePath {
            name: "row at a time",
            rows: |rows, x| rows.map(|row| dot_shifted(row, x)),
            block: |rows, xs| rows.map(|row| xs.map(|x| dot_shifted(row, x))),
        });
        paths
    })
}

/// The tile path the kernel takes on this CPU.
pub fn tile_path() -> TilePath {
    tile_paths()[0]
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::super::dot::{activation_lanes, code_lanes, sum_lanes};
    use super::super::pack::BLOCK;
    use super::TILE_ROWS;

    /// The blocks every row and token of a tile share (rows of `blocks·32` bytes, tokens of at least `blocks·128`).
    fn blocks<const T: usize>(rows: &[&[u8]; TILE_ROWS], xs: &[&[i8]; T]) -> usize {
        let blocks = rows[0].len() / 32;
        assert!(rows.iter().all(|r| r.len() == blocks * 32), "tile rows of one width");
        assert!(
            xs.iter().all(|x| x.len() >= blocks * BLOCK),
            "tile tokens as wide as the rows"
        );
        blocks
    }

    /// Asks for the next tile's weights while this one computes: a kernel task's tiles lie one after another in
    /// the matrix, and a tile reads its four rows side by side, which the hardware prefetcher follows worse than
    /// one stream (`bench decode --shape full`, 2 threads: decode 38.4-39.0 tokens/s with this, 33.9-35.4 without). Over a tile's `blocks` iterations, the next
    /// `TILE_ROWS · 32 · blocks` bytes two cache lines at a time. A prefetch never faults, so the address past the
    /// matrix's end is harmless (`wrapping_add`: never dereferenced).
    #[inline(always)]
    fn prefetch_next_tile(rows: &[&[u8]; TILE_ROWS], block: usize) {
        let next = rows[0]
            .as_ptr()
            .wrapping_add(TILE_ROWS * rows[0].len() + 2 * 64 * block);
        // SAFETY: prefetching reads nothing and cannot fault.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(next as *const i8);
            _mm_prefetch::<_MM_HINT_T0>(next.wrapping_add(64) as *const i8);
        }
    }

    /// `vpdpbusd` into `TILE_ROWS × T × CHAINS` i32 accumulators; CHAINS independent ones per (row, token) hide
    /// the instruction's latency when T is small (decode: 4 rows × 4 chains, prefill: 4 rows × 4 tokens, 16
    /// registers either way of AVX-512VL's 32).
    #[target_feature(enable = "avx2,avx512vnni,avx512vl")]
    pub unsafe fn tile_vnni<const T: usize, const CHAINS: usize>(
        rows: &[&[u8]; TILE_ROWS],
        xs: &[&[i8]; T],
    ) -> [[i32; T]; TILE_ROWS] {
        let blocks = blocks(rows, xs);
        let mut acc = [[[_mm256_setzero_si256(); CHAINS]; T]; TILE_ROWS];
        for b in 0..blocks {
            prefetch_next_tile(rows, b);
            let mut codes = [[_mm256_setzero_si256(); 4]; TILE_ROWS];
            for (lanes, row) in codes.iter_mut().zip(rows) {
                *lanes = code_lanes!(&row[32 * b..32 * b + 32]);
            }
            for (t, x) in xs.iter().enumerate() {
                let x = activation_lanes!(&x[BLOCK * b..BLOCK * (b + 1)]);
                for lane in 0..4 {
                    for (row_acc, row_codes) in acc.iter_mut().zip(&codes) {
                        let chain = &mut row_acc[t][lane % CHAINS];
                        *chain = _mm256_dpbusd_epi32(*chain, row_codes[lane], x[lane]);
                    }
                }
            }
        }
        let mut sums = [[0i32; T]; TILE_ROWS];
        for (row_sums, row_acc) in sums.iter_mut().zip(&acc) {
            for (sum, chains) in row_sums.iter_mut().zip(row_acc) {
                let mut total = chains[0];
                for chain in &chains[1..] {
                    total = _mm256_add_epi32(total, *chain);
                }
                *sum = sum_lanes(total);
            }
        }
        sums
    }

    /// Per block and (row, token): four `vpmaddubsw` summed in i16 (|sum| ≤ 4·2·2·128 = 2048), one `vpmaddwd`
    /// into that pair's i32 accumulator, as [`super::super::dot`]'s AVX2 path does for one pair.
    #[target_feature(enable = "avx2")]
    pub unsafe fn tile_avx2<const T: usize>(rows: &[&[u8]; TILE_ROWS], xs: &[&[i8]; T]) -> [[i32; T]; TILE_ROWS] {
        let blocks = blocks(rows, xs);
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_si256(); T]; TILE_ROWS];
        for b in 0..blocks {
            prefetch_next_tile(rows, b);
            let mut codes = [[_mm256_setzero_si256(); 4]; TILE_ROWS];
            for (lanes, row) in codes.iter_mut().zip(rows) {
                *lanes = code_lanes!(&row[32 * b..32 * b + 32]);
            }
            for (t, x) in xs.iter().enumerate() {
                let [x0, x1, x2, x3] = activation_lanes!(&x[BLOCK * b..BLOCK * (b + 1)]);
                for (row_acc, [c0, c1, c2, c3]) in acc.iter_mut().zip(&codes) {
                    let sum = _mm256_add_epi16(
                        _mm256_add_epi16(_mm256_maddubs_epi16(*c0, x0), _mm256_maddubs_epi16(*c1, x1)),
                        _mm256_add_epi16(_mm256_maddubs_epi16(*c2, x2), _mm256_maddubs_epi16(*c3, x3)),
                    );
                    row_acc[t] = _mm256_add_epi32(row_acc[t], _mm256_madd_epi16(sum, ones));
                }
            }
        }
        let mut sums = [[0i32; T]; TILE_ROWS];
        for (row_sums, row_acc) in sums.iter_mut().zip(&acc) {
            for (sum, acc) in row_sums.iter_mut().zip(row_acc) {
                *sum = sum_lanes(*acc);
            }
        }
        sums
    }
}
