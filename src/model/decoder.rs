//! One pre-norm decoder layer.

use burn::module::Module;
use burn::nn::RmsNorm;
use burn::tensor::Tensor;

use super::attention::{Attention, AttentionContext, AttentionProbe, AttentionTrace};
use super::cache::KvCache;
use super::mlp::Mlp;

/// `h = x + attn(norm₁(x))`, `y = h + mlp(norm₂(h))`.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub input_layernorm: RmsNorm,
    pub self_attn: Attention,
    pub post_attention_layernorm: RmsNorm,
    pub mlp: Mlp,
}

impl DecoderLayer {
    /// `[B, T, hidden] -> [B, T, hidden]`.
    pub fn forward(
        &self,
        x: Tensor<3>,
        context: &AttentionContext,
        cache: Option<(&mut KvCache, usize)>,
        probe: AttentionProbe,
    ) -> (Tensor<3>, AttentionTrace) {
        let (attn, trace) = self
            .self_attn
            .forward(self.input_layernorm.forward(x.clone()), context, cache, probe);
        let h = x + attn;
        let y = h.clone() + self.mlp.forward(self.post_attention_layernorm.forward(h));
        (y, trace)
    }
}
