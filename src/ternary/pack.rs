//! Storage layouts of ternary codes (−1, 0, +1, held as `i8`). All three store `code + 1` ∈ {0, 1, 2}.
//!
//! - [`pack_hf_bitnet`]: Hugging Face transformers' `pack_weights` (integrations/bitnet.py): along the OUTPUT
//!   axis, byte `(j, c)` of a `[⌈rows/4⌉, cols]` tensor holds rows `j + i·⌈rows/4⌉` at bits `2i` (i = 0..3).
//! - [`pack_kernel`]: this project's `packed2`, laid out for the ternary × int8 kernel: row-major, each row padded
//!   to a multiple of [`BLOCK`] columns; in each block of 128 columns, byte `j` (0..32) holds columns
//!   `j + 32·i` at bits `2i`, so four shifts of one 32-byte load line up with four contiguous activation loads.
//! - [`pack_base3`]: `packed1.6`, five codes a byte as base-3 digits (first code least significant), the
//!   digit packing of llama.cpp's TQ1_0: 1.6 bits a weight. Row-major, each row padded to a multiple of 5.

/// Columns per kernel block: 32 bytes of 2-bit codes.
pub const BLOCK: usize = 128;

/// Columns of a row once padded for the kernel.
pub fn padded_cols(cols: usize) -> usize {
    cols.div_ceil(BLOCK) * BLOCK
}

fn stored(code: i8) -> u8 {
    debug_assert!((-1..=1).contains(&code), "not a ternary code: {code}");
    (code + 1) as u8
}

fn code(bits: u8) -> i8 {
    (bits & 3) as i8 - 1
}

/// transformers' `pack_weights` of a `[rows, cols]` code matrix: `[⌈rows/4⌉, cols]` bytes.
pub fn pack_hf_bitnet(codes: &[i8], rows: usize, cols: usize) -> Vec<u8> {
    assert_eq!(codes.len(), rows * cols);
    let packed_rows = rows.div_ceil(4);
    let mut packed = vec![0u8; packed_rows * cols];
    for row in 0..rows {
        let (shift, j) = (2 * (row / packed_rows), row % packed_rows);
        for col in 0..cols {
            packed[j * cols + col] |= stored(codes[row * cols + col]) << shift;
        }
    }
    packed
}

/// transformers' `unpack_weights`, cut back to `rows` rows.
pub fn unpack_hf_bitnet(packed: &[u8], rows: usize, cols: usize) -> Vec<i8> {
    let packed_rows = rows.div_ceil(4);
    assert_eq!(packed.len(), packed_rows * cols);
    let mut codes = vec![0i8; rows * cols];
    for row in 0..rows {
        let (shift, j) = (2 * (row / packed_rows), row % packed_rows);
        for col in 0..cols {
            codes[row * cols + col] = code(packed[j * cols + col] >> shift);
        }
    }
    codes
}

/// The kernel layout: `rows × padded_cols(cols) / 4` bytes; padding columns hold code 0.
pub fn pack_kernel(codes: &[i8], rows: usize, cols: usize) -> Vec<u8> {
    assert_eq!(codes.len(), rows * cols);
    let row_bytes = padded_cols(cols) / 4;
    let mut packed = vec![0u8; rows * row_bytes];
    for row in 0..rows {
        let out = &mut packed[row * row_bytes..(row + 1) * row_bytes];
        for col in 0..padded_cols(cols) {
            let value = if col < cols { stored(codes[row * cols + col]) } else { 1 };
            let (block, within) = (col / BLOCK, col % BLOCK);
            out[block * 32 + within % 32] |= value << (2 * (within / 32));
        }
    }
    packed
}

pub fn unpack_kernel(packed: &[u8], rows: usize, cols: usize) -> Vec<i8> {
    let row_bytes = padded_cols(cols) / 4;
    assert_eq!(packed.len(), rows * row_bytes);
    let mut codes = vec![0i8; rows * cols];
    for row in 0..rows {
        for col in 0..cols {
            let (block, within) = (col / BLOCK, col % BLOCK);
            codes[row * cols + col] = code(packed[row * row_bytes + block * 32 + within % 32] >> (2 * (within / 32)));
        }
    }
    codes
}

/// Five codes a byte, base 3: `rows × ⌈cols/5⌉` bytes (values 0..=242).
pub fn pack_base3(codes: &[i8], rows: usize, cols: usize) -> Vec<u8> {
    assert_eq!(codes.len(), rows * cols);
    let row_bytes = cols.div_ceil(5);
    let mut packed = vec![0u8; rows * row_bytes];
    for row in 0..rows {
        for (byte, chunk) in codes[row * cols..(row + 1) * cols].chunks(5).enumerate() {
            packed[row * row_bytes + byte] = chunk.iter().rev().fold(0u8, |acc, &c| acc * 3 + stored(c));
        }
    }
    packed
}

pub fn unpack_base3(packed: &[u8], rows: usize, cols: usize) -> Vec<i8> {
    let row_bytes = cols.div_ceil(5);
    assert_eq!(packed.len(), rows * row_bytes);
    let mut codes = vec![0i8; rows * cols];
    for row in 0..rows {
        for col in 0..cols {
            let mut digits = packed[row * row_bytes + col / 5];
            for _ in 0..col % 5 {
                digits /= 3;
            }
            codes[row * cols + col] = (digits % 3) as i8 - 1;
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random code matrix.
    fn codes(rows: usize, cols: usize, seed: u64) -> Vec<i8> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..rows * cols)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 33) % 3) as i8 - 1
            })
            .collect()
    }

    #[test]
    fn every_layout_round_trips_odd_shapes() {
        for (rows, cols) in [
            (1, 1),
            (3, 7),
            (4, 128),
            (5, 129),
            (7, 5),
            (9, 300),
            (13, 256),
            (2, 127),
        ] {
            let c = codes(rows, cols, (rows * 1000 + cols) as u64);
            assert_eq!(
                unpack_hf_bitnet(&pack_hf_bitnet(&c, rows, cols), rows, cols),
                c,
                "hf {rows}x{cols}"
            );
            assert_eq!(
                unpack_kernel(&pack_kernel(&c, rows, cols), rows, cols),
                c,
                "kernel {rows}x{cols}"
            );
            assert_eq!(
                unpack_base3(&pack_base3(&c, rows, cols), rows, cols),
                c,
                "base3 {rows}x{cols}"
            );
            assert_eq!(pack_hf_bitnet(&c, rows, cols).len(), rows.div_ceil(4) * cols);
            assert_eq!(pack_base3(&c, rows, cols).len(), rows * cols.div_ceil(5));
        }
    }

    #[test]
    fn hf_bitnet_matches_the_docstring_example_of_unpack_weights() {
        // transformers' `unpack_weights` docstring: packed [[0b10100001, 0b00011000], [0b10010000, 0b00001010]]
        // unpacks to the 8×2 matrix below (row j of the packed tensor feeds rows j, j+2, j+4, j+6).
        let packed = [0b1010_0001u8, 0b0001_1000, 0b1001_0000, 0b0000_1010];
        let unpacked = [0i8, -1, -1, 1, -1, 1, -1, 1, 1, 0, 0, -1, 1, -1, 1, -1];
        assert_eq!(unpack_hf_bitnet(&packed, 8, 2), unpacked);
        assert_eq!(pack_hf_bitnet(&unpacked, 8, 2), packed);
    }

    #[test]
    fn hf_bitnet_packs_rows_not_a_multiple_of_four_as_pack_weights_does() {
        // pack_weights on 5 rows: row_dim = 2, so rows 0,1 go to bits 0-1, rows 2,3 to bits 2-3, row 4 to
        // bits 4-5 of byte row 0; byte row 1 has nothing at bits 4-7 (zero, not the code of 0).
        let c = [1i8, -1, 0, 1, 0];
        let packed = pack_hf_bitnet(&c, 5, 1);
        assert_eq!(packed, vec![2 | (1 << 2) | (1 << 4), (2 << 2)]);
    }

    #[test]
    fn kernel_layout_interleaves_four_columns_a_byte() {
        // Column 0 → byte 0 bits 0-1, column 32 → byte 0 bits 2-3, column 97 → byte 1 bits 6-7.
        let mut c = vec![0i8; 128];
        c[0] = 1;
        c[32] = -1;
        c[97] = 1;
        let packed = pack_kernel(&c, 1, 128);
        assert_eq!(packed[0], 2 | (1 << 4) | (1 << 6));
        assert_eq!(packed[1], 1 | (1 << 2) | (1 << 4) | (2 << 6));
        assert_eq!(packed[2], 0b0101_0101);
    }

    #[test]
    fn base3_digits_are_little_endian() {
        // [+1, −1, 0, 0, +1] → digits [2, 0, 1, 1, 2] → 2 + 0·3 + 1·9 + 1·27 + 2·81 = 200.
        assert_eq!(pack_base3(&[1, -1, 0, 0, 1], 1, 5), vec![200]);
        // Rows of 4 codes leave the fifth digit 0: [+1, +1, +1, +1] → 2·(1 + 3 + 9 + 27) = 80; [+1, −1, +1, +1] → 74.
        assert_eq!(pack_base3(&[1, 1, 1, 1, 1, -1, 1, 1], 2, 4), vec![80, 74]);
    }
}
