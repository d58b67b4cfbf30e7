//! The ternary × int8 matrix product: `y[t, r] = Δ / s_t · Σ_c code[r, c] · x_code[t, c]`, accumulated in
//! integers and scaled once per output (BitNet b1.58 inference, as bitnet.cpp's I2_S kernels do it).
//! The weights stay in the 2-bit kernel layout ([`super::pack::pack_kernel`]); the inner product is
//! [`super::dot`]'s.

use super::activations::Int8Activations;
use super::dot::dot_shifted;
use super::pack::{pack_kernel, padded_cols, unpack_kernel};
use super::parallel::{RowBlock, row_blocks_in_parallel};
use super::tile::{TILE_ROWS, TILE_TOKENS, TilePath, tile_path};

/// A ternary weight matrix `[rows, cols]` with its absmean scale Δ, in the kernel layout.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedTernary {
    pub rows: usize,
    pub cols: usize,
    /// Δ: the dequantized weight is `Δ · code`.
    pub scale: f32,
    packed: Vec<u8>,
}

/// Output rows a worker takes at a time: enough work to amortise the hand-off, small enough to balance; a
/// multiple of the tile's rows.
const ROWS_PER_TASK: usize = 8 * TILE_ROWS;

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
        unpack_kernel(self.packed(), self.rows, self.cols)
    }

    fn row(&self, row: usize) -> &[u8] {
        let bytes = padded_cols(self.cols) / 4;
        &self.packed()[row * bytes..(row + 1) * bytes]
    }

    /// Integer accumulators `Σ_c code[row, c] · x_code[t, c]`.
    pub fn dot(&self, row: usize, x: &Int8Activations, token: usize) -> i32 {
        dot_shifted(self.row(row), x.token(token)) - x.sums[token]
    }

    /// `y: [tokens, rows]` from `x: [tokens, cols]` quantized, on rayon's threads.
    pub fn forward(&self, x: &Int8Activations) -> Vec<f32> {
        Self::forward_group(&[(self, x)]).pop().expect("one product")
    }

    /// Several products `W_m · x_m` in one parallel region (q, k, v; gate, up: one wake-up of the thread pool
    /// per group, not per projection); `y_m: [tokens, rows_m]`.
    pub fn forward_group(products: &[(&PackedTernary, &Int8Activations)]) -> Vec<Vec<f32>> {
        let tokens = products.first().map_or(0, |(_, x)| x.tokens);
        for (weight, x) in products {
            assert_eq!(x.cols, weight.cols, "activation width");
            assert_eq!(x.tokens, tokens, "one token count per group");
        }
        let rows: Vec<usize> = products.iter().map(|(w, _)| w.rows).collect();
        let tile = tile_path();
        row_blocks_in_parallel(&rows, tokens, ROWS_PER_TASK, |matrix, block| {
            let (weight, x) = products[matrix];
            weight.fill_block(x, tile, block);
        })
    }

    /// The outputs of `block`'s rows: tiles of four rows against four tokens, then four rows against each
    /// remaining token, then the remaining rows one (row, token) dot at a time.
    fn fill_block(&self, x: &Int8Activations, tile: TilePath, block: &mut RowBlock) {
        let tokens = x.tokens;
        let y = |shifted: i32, token: usize| (shifted - x.sums[token]) as f32 * (self.scale / x.scales[token]);
        let first = block.first;
        let tiled = block.count / TILE_ROWS * TILE_ROWS;
        let blocked = tokens / TILE_TOKENS * TILE_TOKENS;
        for r in (0..tiled).step_by(TILE_ROWS) {
            let rows: [&[u8]; TILE_ROWS] = std::array::from_fn(|i| self.row(first + r + i));
            for t in (0..blocked).step_by(TILE_TOKENS) {
                let xs: [&[i8]; TILE_TOKENS] = std::array::from_fn(|j| x.token(t + j));
                for (i, sums) in (tile.block)(&rows, &xs).iter().enumerate() {
                    for (j, &sum) in sums.iter().enumerate() {
                        block.set(r + i, t + j, y(sum, t + j));
                    }
                }
            }
            for t in blocked..tokens {
                for (i, &sum) in (tile.rows)(&rows, x.token(t)).iter().enumerate() {
                    block.set(r + i, t, y(sum, t));
                }
            }
        }
        for r in tiled..block.count {
            for t in 0..tokens {
                block.set(r, t, y(dot_shifted(self.row(first + r), x.token(t)), t));
            }
        }
    }
}
