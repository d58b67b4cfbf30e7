//! The CPU inference engine for exported students (packed ternary × int8 kernel) and, with f32 projections,
//! for teachers as the baseline they are measured against.

mod bf16_rows;
mod convert;
mod dense;
mod int8_dot;
mod linear;
mod load;
mod model;
mod norm;

pub use convert::EmbeddingStorage;
pub use dense::{DenseMatrix, dot_bf16, dot_f32};
pub use int8_dot::{dot_i8_codes, int8_dot_paths};
pub use linear::NativeLinear;
pub use load::{load_native, load_native_files};
pub use model::{NativeCache, NativeLayer, NativeModel, Segment, TracedLayer, WeightBytes};
