//! `bitdistill export`: a student as a real 1.58-bit model directory, in one of three layouts
//! (see [`crate::ternary::pack`]), loadable by this crate's CPU engine and, for `hf-bitnet`, by transformers.

mod format;
mod write;

pub use format::{ExportFormat, Packing, projection_names};
pub use write::{ExportSummary, export_student, write_export};
