//! 1.58-bit weights as stored and as computed with: the three packed layouts, per-token int8 activations, and
//! the ternary × int8 kernel that exported students run on.

mod activations;
mod dot;
mod kernel;
pub mod pack;
mod parallel;
mod tile;

pub use activations::Int8Activations;
#[cfg(target_arch = "x86_64")]
pub(crate) use dot::sum_lanes;
pub use dot::{DotPath, dot_paths, dot_shifted, dot_shifted_portable, kernel_path};
pub use kernel::PackedTernary;
pub(crate) use parallel::rows_in_parallel;
pub use tile::{TILE_ROWS, TILE_TOKENS, TilePath, tile_path, tile_paths};
