//! What an exported directory holds: the layout of each projection and the names of its tensors.

use serde::{Deserialize, Serialize};

use crate::infer::EmbeddingStorage;

/// The layout of the ternary projections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum ExportFormat {
    /// Hugging Face transformers' BitNet (`quant_method: bitnet`, `linear_class: bitlinear`, offline): 4 codes a
    /// byte along the output axis, `weight_scale = 1/Δ` (its BitLinear divides by the scale). SubLN `all` only.
    #[serde(rename = "hf-bitnet")]
    #[value(name = "hf-bitnet")]
    HfBitnet,
    /// This project's 2-bit layout, the kernel's own (rows padded to 128 columns), `weight_scale = Δ`.
    #[serde(rename = "packed2")]
    #[value(name = "packed2")]
    Packed2,
    /// Five codes a byte in base 3 (1.6 bits a weight), `weight_scale = Δ`; repacked to 2 bits on load.
    #[serde(rename = "packed1.6")]
    #[value(name = "packed1.6")]
    Packed1_6,
    /// One GGUF file for llama.cpp (architecture `hunyuan-dense`, TQ2_0 linears, the tokenizer and chat
    /// template): `--out` is the `.gguf` file, or a directory to hold `model.gguf`. SubLN `none` only (llama.cpp's
    /// graph has no SubLN); every input width a multiple of 256.
    #[serde(rename = "gguf")]
    #[value(name = "gguf")]
    Gguf,
}

impl ExportFormat {
    pub fn name(self) -> &'static str {
        match self {
            Self::HfBitnet => "hf-bitnet",
            Self::Packed2 => "packed2",
            Self::Packed1_6 => "packed1.6",
            Self::Gguf => "gguf",
        }
    }
}

/// The `packing` entry of an exported student's `bitdistill` config section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packing {
    pub format: ExportFormat,
    pub embeddings: EmbeddingStorage,
}

/// `(HF prefix, projection name, rows, cols)` of every projection of layer `layer`.
pub fn projection_names(
    layer: usize,
    config: &crate::model::HunYuanConfig,
) -> [(String, &'static str, usize, usize); 7] {
    let (hidden, q, kv, mlp) = (
        config.hidden_size,
        config.q_dim(),
        config.kv_dim(),
        config.intermediate_size,
    );
    let attn = format!("model.layers.{layer}.self_attn");
    let ffn = format!("model.layers.{layer}.mlp");
    [
        (format!("{attn}.q_proj"), "q_proj", q, hidden),
        (format!("{attn}.k_proj"), "k_proj", kv, hidden),
        (format!("{attn}.v_proj"), "v_proj", kv, hidden),
        (format!("{attn}.o_proj"), "o_proj", hidden, q),
        (format!("{ffn}.gate_proj"), "gate_proj", mlp, hidden),
        (format!("{ffn}.up_proj"), "up_proj", mlp, hidden),
        (format!("{ffn}.down_proj"), "down_proj", hidden, mlp),
    ]
}
