//! From a burn model to the CPU engine: a teacher keeps f32 projections; a student's BitLinears become packed
//! ternary codes with Δ, computed by the same quantizer functions the student trains with, so the engine and
//! the fake-quant student see identical codes.

use burn::nn::RmsNorm;
use burn::tensor::Tensor;
use half::bf16;
use serde::{Deserialize, Serialize};

use super::dense::DenseMatrix;
use super::linear::NativeLinear;
use super::model::{NativeLayer, NativeModel};
use crate::model::{HunYuan, HunYuanConfig, Projection};
use crate::quant::{absmean_scale, ternary_codes};
use crate::ternary::PackedTernary;

/// How the embedding matrix (and an untied lm_head) is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EmbeddingStorage {
    /// bf16, the release's own dtype (default).
    #[default]
    Bf16,
    /// Symmetric int8 with one f32 scale per row.
    Int8,
    /// f32, exactly the trained values.
    F32,
}

impl EmbeddingStorage {
    pub fn store(self, values: Vec<f32>, rows: usize, cols: usize) -> DenseMatrix {
        match self {
            Self::F32 => DenseMatrix::F32 { rows, cols, values },
            Self::Bf16 => DenseMatrix::Bf16 {
                rows,
                cols,
                values: values.iter().map(|&v| bf16::from_f32(v)).collect(),
            },
            Self::Int8 => DenseMatrix::int8_from_f32(&values, rows, cols),
        }
    }
}

pub(crate) fn to_vec<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_into_vec_as::<f32>().expect("f32 tensor data")
}

fn gamma(norm: &RmsNorm) -> Vec<f32> {
    to_vec(norm.gamma.val())
}

fn linear(projection: &Projection, eps: f32) -> NativeLinear {
    let weight = projection.weight().val();
    let [rows, cols] = weight.dims();
    match projection {
        Projection::Dense(_) => NativeLinear::Dense(DenseMatrix::F32 {
            rows,
            cols,
            values: to_vec(weight),
        }),
        Projection::Ternary(bit) => {
            let scale = absmean_scale(weight.clone());
            let codes: Vec<i8> = to_vec(ternary_codes(weight, scale.clone()))
                .iter()
                .map(|&c| c as i8)
                .collect();
            NativeLinear::Ternary {
                weight: PackedTernary::from_codes(&codes, rows, cols, to_vec(scale)[0]),
                subln: bit.rms_norm.as_ref().map(gamma),
                eps,
            }
        }
    }
}

impl NativeModel {
    /// The engine's copy of `model` (a teacher or an unfrozen student), embeddings stored as `embeddings`.
    pub fn from_burn(model: &HunYuan, config: &HunYuanConfig, embeddings: EmbeddingStorage) -> Self {
        let eps = config.rms_norm_eps as f32;
        let layers = model
            .layers
            .iter()
            .map(|layer| {
                let attn = &layer.self_attn;
                NativeLayer {
                    input_norm: gamma(&layer.input_layernorm),
                    q_proj: linear(&attn.q_proj, eps),
                    k_proj: linear(&attn.k_proj, eps),
                    v_proj: linear(&attn.v_proj, eps),
                    o_proj: linear(&attn.o_proj, eps),
                    qk_norm: attn
                        .query_layernorm
                        .as_ref()
                        .zip(attn.key_layernorm.as_ref())
                        .map(|(q, k)| (gamma(q), gamma(k))),
                    post_attention_norm: gamma(&layer.post_attention_layernorm),
                    gate_proj: linear(&layer.mlp.gate_proj, eps),
                    up_proj: linear(&layer.mlp.up_proj, eps),
                    down_proj: linear(&layer.mlp.down_proj, eps),
                }
            })
            .collect();
        let (vocab, hidden) = (config.vocab_size, config.hidden_size);
        let embed_tokens = embeddings.store(to_vec(model.embed_tokens.val()), vocab, hidden);
        let lm_head = model
            .lm_head
            .as_ref()
            .map(|head| embeddings.store(to_vec(head.weight.val()), vocab, hidden));
        Self::new(config.clone(), embed_tokens, layers, gamma(&model.norm), lm_head)
    }
}
