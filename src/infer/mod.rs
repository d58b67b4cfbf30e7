//! The CPU inference engine for exported students (packed ternary × int8 kernel) and, with f32 projections,
//! for teachers as the baseline they are measured against.

mod convert;
mod dense;
mod linear;
mod load;
mod model;
mod norm;

pub use convert::EmbeddingStorage;
pub use dense::{DenseMatrix, dot_bf16, dot_f32, dot_i8};
pub use linear::NativeLinear;
pub use load::{load_native, load_native_files};
pub use model::{NativeCache, NativeLayer, NativeModel, TracedLayer, WeightBytes};
