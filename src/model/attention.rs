//! Grouped-query self-attention of HunYuanDenseV1.
//!
//! `q, k, v = x W_qᵀ, x W_kᵀ, x W_vᵀ`; `q, k ← rope(q), rope(k)`; then, unlike most ports assume,
//! `q, k ← RMSNorm_head(q), RMSNorm_head(k)` AFTER RoPE; `o = softmax(q kᵀ / √d + causal) v`, with each group
//! of `H / H_kv` query heads sharing one key/value head; output `o W_oᵀ`.

use burn::module::Module;
use burn::nn::RmsNorm;
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Tensor};

use super::cache::KvCache;
use super::projection::Projection;
use super::rope::{RopeTables, apply_rope};

/// One form of a layer's query, key and value states, each `[B, T, width]` (query heads · d for q, key/value
/// heads · d for k and v: keys and values are never repeated over their query groups).
#[derive(Clone, Debug)]
pub struct QkvStates {
    pub q: Tensor<3>,
    pub k: Tensor<3>,
    pub v: Tensor<3>,
}

impl QkvStates {
    /// The same states cut from the autodiff graph (a frozen teacher's).
    pub fn detach(self) -> Self {
        Self {
            q: self.q.detach(),
            k: self.k.detach(),
            v: self.v.detach(),
        }
    }
}

/// The q/k/v states of one layer in both forms that attention-relation distillation may compare.
#[derive(Clone, Debug)]
pub struct QkvTrace {
    /// Raw projection outputs `x W_qᵀ, x W_kᵀ, x W_vᵀ` (before RoPE and qk-norm).
    pub projections: QkvStates,
    /// What attention computes with: q and k after RoPE and the per-head RMSNorm, v as projected (the states
    /// the official BitDistill code returns from its attention modules).
    pub attended: QkvStates,
}

/// What a caller asked one attention layer to hand out besides its output.
#[derive(Clone, Copy, Debug, Default)]
pub struct AttentionProbe {
    pub qkv: bool,
    pub probs: bool,
    /// The attention block's output `o W_oᵀ` (what the layer adds to its residual stream).
    pub output: bool,
}

/// What the layer handed out; `None` wherever it was not asked for.
#[derive(Clone, Debug, Default)]
pub struct AttentionTrace {
    pub qkv: Option<QkvTrace>,
    /// Attention probabilities `[B, H, T, S]`.
    pub probs: Option<Tensor<4>>,
    /// `[B, T, hidden]`.
    pub output: Option<Tensor<3>>,
}

#[derive(Module, Debug)]
pub struct Attention {
    pub q_proj: Projection,
    pub k_proj: Projection,
    pub v_proj: Projection,
    pub o_proj: Projection,
    /// Per-head RMSNorm on queries (`[head_dim]` weight), absent when `use_qk_norm` is false.
    pub query_layernorm: Option<RmsNorm>,
    pub key_layernorm: Option<RmsNorm>,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
}

/// Per-call inputs shared by every layer of one forward pass.
pub struct AttentionContext<'a> {
    pub rope: &'a RopeTables,
    /// `[B, T, S]` (B = 1 when every row shares it), true where a query may not see a key; `None` when every
    /// query sees every key (a single token, no padding).
    pub mask: Option<&'a Tensor<3, Bool>>,
}

impl Attention {
    /// `x: [B, T, hidden] -> [B, T, hidden]`. With a cache, the keys and values of earlier positions are read
    /// from it and this call's are appended.
    pub fn forward(
        &self,
        x: Tensor<3>,
        context: &AttentionContext,
        cache: Option<(&mut KvCache, usize)>,
        probe: AttentionProbe,
    ) -> (Tensor<3>, AttentionTrace) {
        let [batch, len, _] = x.dims();
        let (heads, kv_heads, head_dim) = (self.num_heads, self.num_kv_heads, self.head_dim);
        let group = heads / kv_heads;

        let q_raw = self.q_proj.forward(x.clone()); // [B, T, H*d]
        let k_raw = self.k_proj.forward(x.clone()); // [B, T, H_kv*d]
        let v_raw = self.v_proj.forward(x); // [B, T, H_kv*d]
        let split = |t: Tensor<3>, n: usize| t.reshape([batch, len, n, head_dim]).swap_dims(1, 2);
        let mut q = apply_rope(split(q_raw.clone(), heads), context.rope); // [B, H, T, d]
        let mut k = apply_rope(split(k_raw.clone(), kv_heads), context.rope); // [B, H_kv, T, d]
        if let (Some(q_norm), Some(k_norm)) = (&self.query_layernorm, &self.key_layernorm) {
            q = q_norm.forward(q);
            k = k_norm.forward(k);
        }
        let attended = probe.qkv.then(|| (q.clone(), k.clone())); // [B, H, T, d], [B, H_kv, T, d]
        let v = split(v_raw.clone(), kv_heads); // [B, H_kv, T, d]
        let (k, v) = match cache {
            Some((cache, layer)) => cache.append(layer, k, v), // [B, H_kv, S, d]
            None => (k, v),
        };
        let keys = k.dims()[2];

        // Query heads of one group are stacked along the time axis so that K and V are never repeated.
        let q = q.reshape([batch, kv_heads, group * len, head_dim]);
        let scores = q.matmul(k.swap_dims(2, 3)) / (head_dim as f64).sqrt(); // [B, H_kv, G*T, S]
        let mut scores = scores.reshape([batch, heads, len, keys]); // [B, H, T, S]
        if let Some(mask) = context.mask {
            let mask = mask.clone().unsqueeze_dim::<4>(1).expand([batch, heads, len, keys]);
            scores = scores.mask_fill(mask, f32::NEG_INFINITY);
        }
        let probs = softmax(scores, 3); // [B, H, T, S]
        let out = probs
            .clone()
            .reshape([batch, kv_heads, group * len, keys])
            .matmul(v) // [B, H_kv, G*T, d]
            .reshape([batch, heads, len, head_dim])
            .swap_dims(1, 2)
            .reshape([batch, len, heads * head_dim]);

        let trace = AttentionTrace {
            qkv: attended.map(|(q, k)| QkvTrace {
                attended: QkvStates {
                    q: merge_heads(q),
                    k: merge_heads(k),
                    v: v_raw.clone(),
                },
                projections: QkvStates {
                    q: q_raw,
                    k: k_raw,
                    v: v_raw,
                },
            }),
            probs: probe.probs.then_some(probs),
            output: None,
        };
        let out = self.o_proj.forward(out);
        let trace = AttentionTrace {
            output: probe.output.then(|| out.clone()),
            ..trace
        };
        (out, trace)
    }
}

/// `[B, heads, T, d] -> [B, T, heads · d]`.
fn merge_heads(states: Tensor<4>) -> Tensor<3> {
    let [batch, heads, len, head_dim] = states.dims();
    states.swap_dims(1, 2).reshape([batch, len, heads * head_dim])
}
