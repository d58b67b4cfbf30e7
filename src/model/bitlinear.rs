//! BitLinear: the student's ternary projection (BitNet b1.58), with BitDistill's SubLN on its input.
//!
//! `x̂ = SubLN(x)` (when placed here), `y = STE(int8(x̂)) · STE(Δ·RoundClip(W/(Δ+ε), −1, 1))ᵀ`, where the latent
//! weight `W` stays f32 and both straight-through estimators pass gradients unchanged (BitDistill §3.1).

use burn::module::{Module, Param};
use burn::nn::RmsNorm;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::linear::{contiguous_transpose, times, times_transposed};
use crate::kernels::{self, Kernels};
use crate::quant::ternary_fake_quant;

/// Where Stage 1 inserts SubLN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SublnPlacement {
    /// On the input of o_proj (the concatenated heads) and of down_proj (the gated product): BitNet b1.58's
    /// layout and the paper's.
    #[default]
    Paper,
    /// Before every BitLinear: the official code's layout, and the one Hugging Face's BitNet format expresses
    /// (`use_rms_norm`).
    All,
    /// No SubLN (the BitNet-SFT baseline).
    None,
}

impl SublnPlacement {
    /// Whether the projection `name` (`q_proj`, ..., `down_proj`) gets a SubLN.
    pub fn covers(self, name: &str) -> bool {
        match self {
            Self::Paper => matches!(name, "o_proj" | "down_proj"),
            Self::All => true,
            Self::None => false,
        }
    }
}

/// The `bitdistill` section of a student's `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentConfig {
    /// SubLN placement.
    pub subln: SublnPlacement,
    /// Where the student came from (teacher directory, method, stages run): free-form, for the record.
    #[serde(default)]
    pub provenance: serde_json::Value,
    /// Set in a packed export (`bitdistill export`): the layout its linears are stored in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packing: Option<crate::export::Packing>,
}

#[derive(Module, Debug)]
pub struct BitLinear {
    /// Latent full-precision weight `[d_out, d_in]`.
    pub weight: Param<Tensor<2>>,
    /// SubLN on the input (`[d_in]` scale), when the placement puts one here.
    pub rms_norm: Option<RmsNorm>,
    /// Quantization warm-up λ ∈ [0, 1]: 1 is full quantization (see [`crate::quant::straight_through`]).
    pub blend: f64,
    /// Fused WGSL quantizers (on wgpu) or the tensor-op reference.
    #[module(skip)]
    pub kernels: Kernels,
    /// For inference ([`BitLinear::freeze`]): `(Δ·codes)ᵀ` laid out contiguously ([`contiguous_transpose`]), so
    /// the weight quantizer, a reduction and two passes over W, is skipped on every token. `None` while training.
    #[module(skip)]
    pub frozen: Option<Tensor<2>>,
}

impl BitLinear {
    /// For inference: replaces the latent weight by its dequantized ternary value once. The forward result is
    /// unchanged (at full blend); training must use the unfrozen layer.
    pub fn freeze(&mut self) {
        if self.frozen.is_none() {
            self.weight = Param::from_tensor(ternary_fake_quant(self.weight.val()));
            self.blend = 1.0;
            self.frozen = Some(contiguous_transpose(self.weight.val()));
        }
    }

    /// `[..., d_in] -> [..., d_out]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let x = match &self.rms_norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        let x = kernels::int8_ste(x, self.blend, self.kernels);
        match &self.frozen {
            Some(transposed) => times(x, transposed.clone()),
            None => times_transposed(x, kernels::ternary_ste(self.weight.val(), self.blend, self.kernels)),
        }
    }
}
