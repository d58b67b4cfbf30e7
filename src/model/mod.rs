//! The HY-MT1.5 architecture (`HunYuanDenseV1ForCausalLM`) in burn.

mod attention;
mod batch;
mod bitlinear;
mod cache;
mod config;
mod decoder;
mod hunyuan;
mod init;
mod linear;
mod mlp;
mod names;
mod params;
mod projection;
mod rope;

pub use attention::{Attention, AttentionProbe, AttentionTrace, QkvStates, QkvTrace};
pub use batch::RowCache;
pub use bitlinear::{BitLinear, StudentConfig, SublnPlacement};
pub use cache::KvCache;
pub use config::{HunYuanConfig, MODEL_TYPE};
pub use decoder::DecoderLayer;
pub use hunyuan::{ForwardOutput, HunYuan, LayerTrace, Probes, WeightSource};
pub use init::RandomWeights;
pub use linear::Linear;
pub use mlp::Mlp;
pub use names::hf_name;
pub use params::ParamBreakdown;
pub use projection::Projection;
pub use rope::{RopeTables, apply_rope, rope_tables, rope_tables_at};
