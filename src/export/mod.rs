//! `bitdistill export`: a student as a real 1.58-bit model directory, in one of three layouts
//! (see [`crate::ternary::pack`]), loadable by this crate's CPU engine and, for `hf-bitnet`, by transformers; or
//! as one GGUF file for llama.cpp.

mod format;
mod gguf;
mod llama_cpp;
mod write;

pub use format::{ExportFormat, Packing, projection_names};
pub use gguf::{GgmlType, GgufTensor, MetaValue, gguf_bytes};
pub use llama_cpp::{ARCHITECTURE, GGUF_FILE, TQ2_0_BLOCK, gguf_path, tq2_0_bytes, write_gguf};
pub use write::{ExportSummary, export_student, write_export};
