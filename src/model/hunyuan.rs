//! HunYuanDenseV1ForCausalLM, the architecture of Tencent's HY-MT1.5 translation models.
//!
//! `h₀ = E[ids]`; `h_l = layer_l(h_{l-1})` for l = 1..L; `logits = norm(h_L) W_headᵀ`, `W_head = E` when tied.

use burn::module::{Module, Param};
use burn::nn::RmsNorm;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::attention::{Attention, AttentionContext, AttentionProbe, QkvStates, QkvTrace};
use super::bitlinear::BitLinear;
use super::cache::KvCache;
use super::config::HunYuanConfig;
use super::decoder::DecoderLayer;
use super::linear::{Linear, contiguous_transpose, times, times_transposed};
use super::mlp::Mlp;
use super::projection::Projection;
use super::rope::{RopeTables, rope_tables};
use crate::error::Result;
use crate::kernels::Kernels;

#[derive(Module, Debug)]
pub struct HunYuan {
    /// `[vocab, hidden]`.
    pub embed_tokens: Param<Tensor<2>>,
    pub layers: Vec<DecoderLayer>,
    pub norm: RmsNorm,
    /// Present only when `tie_word_embeddings` is false.
    pub lm_head: Option<Linear>,
    /// For inference with tied embeddings: `Eᵀ` laid out contiguously ([`contiguous_transpose`]).
    #[module(skip)]
    pub tied_head: Option<Tensor<2>>,
    pub head_dim: usize,
    pub rope_base: f64,
}

/// Internals a caller wants from one forward pass; the default asks for nothing and costs nothing.
#[derive(Clone, Debug, Default)]
pub struct Probes {
    /// Keep `hidden_states` (embeddings, then every layer's output, the last one normed).
    pub hidden_states: bool,
    /// Hand out the q/k/v states of this layer (0-based), raw and as attention uses them.
    pub qkv_layer: Option<usize>,
    /// Hand out the attention probabilities of this layer (0-based).
    pub attention_layer: Option<usize>,
    /// Hand out every layer's attention output and attended q/k/v ([`LayerTrace`]).
    pub every_layer: bool,
}

/// What one layer handed out for [`Probes::every_layer`].
#[derive(Clone, Debug)]
pub struct LayerTrace {
    /// The attention block's output `[B, T, hidden]`, before the residual add.
    pub attention_output: Tensor<3>,
    /// Q and K after RoPE and qk-norm, V as projected.
    pub qkv: QkvStates,
}

/// Result of [`HunYuan::forward`].
#[derive(Debug)]
pub struct ForwardOutput {
    /// `[B, T, vocab]`.
    pub logits: Tensor<3>,
    /// `L + 1` tensors `[B, T, hidden]` when asked for, else empty.
    pub hidden_states: Vec<Tensor<3>>,
    pub qkv: Option<QkvTrace>,
    /// `[B, H, T, S]` when asked for.
    pub attention: Option<Tensor<4>>,
    /// One per layer with [`Probes::every_layer`], else empty.
    pub layers: Vec<LayerTrace>,
}

/// What [`HunYuan::trunk`] recorded besides the last hidden state (the fields of [`ForwardOutput`]).
pub(super) struct Traces {
    hidden_states: Vec<Tensor<3>>,
    qkv: Option<QkvTrace>,
    attention: Option<Tensor<4>>,
    layers: Vec<LayerTrace>,
}

/// Hands out the value of each weight by its burn module path (see [`super::names`]) and expected shape.
pub trait WeightSource {
    fn weight(&mut self, path: &str, shape: &[usize]) -> Result<TensorData>;
}

impl HunYuan {
    /// Builds the model, asking `source` for every weight in checkpoint order.
    pub fn from_source(config: &HunYuanConfig, source: &mut dyn WeightSource, device: &Device) -> Result<Self> {
        let (hidden, head_dim) = (config.hidden_size, config.head_dim);
        let eps = config.rms_norm_eps;
        let embed_tokens = Param::from_tensor(Tensor::from_data(
            source.weight("embed_tokens", &[config.vocab_size, hidden])?,
            device,
        ));
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("layers.{i}");
            let mut projection = |name: &str, module: &str, d_out: usize, d_in: usize| {
                load_projection(
                    source,
                    &format!("{p}.{module}.{name}"),
                    name,
                    [d_out, d_in],
                    config,
                    device,
                )
            };
            let q_proj = projection("q_proj", "self_attn", config.q_dim(), hidden)?;
            let k_proj = projection("k_proj", "self_attn", config.kv_dim(), hidden)?;
            let v_proj = projection("v_proj", "self_attn", config.kv_dim(), hidden)?;
            let o_proj = projection("o_proj", "self_attn", hidden, config.q_dim())?;
            let gate_proj = projection("gate_proj", "mlp", config.intermediate_size, hidden)?;
            let up_proj = projection("up_proj", "mlp", config.intermediate_size, hidden)?;
            let down_proj = projection("down_proj", "mlp", hidden, config.intermediate_size)?;
            let (query_layernorm, key_layernorm) = if config.use_qk_norm {
                (
                    Some(rms_norm(
                        source,
                        &format!("{p}.self_attn.query_layernorm.gamma"),
                        head_dim,
                        eps,
                        device,
                    )?),
                    Some(rms_norm(
                        source,
                        &format!("{p}.self_attn.key_layernorm.gamma"),
                        head_dim,
                        eps,
                        device,
                    )?),
                )
            } else {
                (None, None)
            };
            layers.push(DecoderLayer {
                input_layernorm: rms_norm(source, &format!("{p}.input_layernorm.gamma"), hidden, eps, device)?,
                self_attn: Attention {
                    q_proj,
                    k_proj,
                    v_proj,
                    o_proj,
                    query_layernorm,
                    key_layernorm,
                    num_heads: config.num_attention_heads,
                    num_kv_heads: config.num_key_value_heads,
                    head_dim,
                },
                post_attention_layernorm: rms_norm(
                    source,
                    &format!("{p}.post_attention_layernorm.gamma"),
                    hidden,
                    eps,
                    device,
                )?,
                mlp: Mlp {
                    gate_proj,
                    up_proj,
                    down_proj,
                },
            });
        }
        let norm = rms_norm(source, "norm.gamma", hidden, eps, device)?;
        let lm_head = if config.tie_word_embeddings {
            None
        } else {
            Some(load_linear(
                source,
                "lm_head.weight",
                config.vocab_size,
                hidden,
                device,
            )?)
        };
        Ok(Self {
            embed_tokens,
            layers,
            norm,
            lm_head,
            tied_head: None,
            head_dim,
            rope_base: config.rope_base(),
        })
    }

    /// Logits `[B, T, vocab]` of `ids: [B, T]`, without cache or probes.
    pub fn logits(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        self.forward(ids, None, &Probes::default()).logits
    }

    /// Runs `ids: [B, T]` at positions `cache.len()..cache.len() + T` (0.. without a cache).
    pub fn forward(&self, ids: Tensor<2, Int>, cache: Option<&mut KvCache>, probes: &Probes) -> ForwardOutput {
        let start = cache.as_ref().map_or(0, |c| c.len());
        let layout = self.consecutive_layout(start, ids.dims()[1], &ids.device());
        let (last_hidden, traces) = self.trunk(ids, cache, &layout, probes);
        let Traces {
            hidden_states,
            qkv,
            attention,
            layers,
        } = traces;
        ForwardOutput {
            logits: self.head(last_hidden),
            hidden_states,
            qkv,
            attention,
            layers,
        }
    }

    /// Logits `[B, vocab]` of the last position of `ids: [B, T]`, run after `cache`'s positions (decoding: the
    /// head, the largest matmul of a small model, runs on one position of the prompt instead of all).
    pub fn last_logits(&self, ids: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<2> {
        let layout = self.consecutive_layout(cache.len(), ids.dims()[1], &ids.device());
        let (last_hidden, _) = self.trunk(ids, Some(cache), &layout, &Probes::default());
        self.last_column_head(last_hidden)
    }

    /// The head on the last position of `hidden: [B, T, hidden]`: `[B, vocab]`.
    pub(super) fn last_column_head(&self, hidden: Tensor<3>) -> Tensor<2> {
        let [batch, len, width] = hidden.dims();
        self.head(hidden.narrow(1, len - 1, 1).reshape([batch, width]))
    }

    /// Logits `[N, vocab]` at `positions` (flat indices `b·T + t` into `ids: [B, T]`) only: training on the
    /// reply alone needs the head, `vocab` wide and the largest matmul of a small model, at a fraction of the
    /// positions (the translation prompt is most of each example).
    pub fn logits_at(&self, ids: Tensor<2, Int>, positions: Tensor<1, Int>) -> Tensor<2> {
        let layout = self.consecutive_layout(0, ids.dims()[1], &ids.device());
        let (last_hidden, _) = self.trunk(ids, None, &layout, &Probes::default());
        let [batch, len, hidden] = last_hidden.dims();
        self.head(last_hidden.reshape([batch * len, hidden]).select(0, positions))
    }

    /// The decoder stack alone: `norm(h_L)` `[B, T, hidden]` of `ids` and the q/k/v states `probes` asked for
    /// (the vocabulary terms run the head on it in chunks: distill/chunked.rs).
    pub fn hidden_and_qkv(&self, ids: Tensor<2, Int>, probes: &Probes) -> (Tensor<3>, Option<QkvTrace>) {
        let layout = self.consecutive_layout(0, ids.dims()[1], &ids.device());
        let (hidden, traces) = self.trunk(ids, None, &layout, probes);
        (hidden, traces.qkv)
    }

    /// `x W_headᵀ` (`W_head = E` when tied), for `x: [..., hidden]`.
    pub fn head<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match (&self.lm_head, &self.tied_head) {
            (Some(head), _) => head.forward(x),
            (None, Some(transposed)) => times(x, transposed.clone()),
            (None, None) => times_transposed(x, self.embed_tokens.val()),
        }
    }

    /// Every row at positions `start..start + len`, causal.
    fn consecutive_layout(&self, start: usize, len: usize, device: &Device) -> TokenLayout {
        TokenLayout {
            rope: rope_tables(self.head_dim, self.rope_base, start, len, device),
            mask: (len > 1).then(|| causal_mask(len, start, device)),
        }
    }

    /// The decoder stack: `norm(h_L)` `[B, T, hidden]` and what `probes` asked for.
    pub(super) fn trunk(
        &self,
        ids: Tensor<2, Int>,
        mut cache: Option<&mut KvCache>,
        layout: &TokenLayout,
        probes: &Probes,
    ) -> (Tensor<3>, Traces) {
        let context = AttentionContext {
            rope: &layout.rope,
            mask: layout.mask.as_ref(),
        };

        let mut x = burn::tensor::module::embedding(self.embed_tokens.val(), ids); // [B, T, hidden]
        let mut hidden_states = Vec::new();
        let (mut qkv, mut attention, mut layers) = (None, None, Vec::new());
        for (index, layer) in self.layers.iter().enumerate() {
            if probes.hidden_states {
                hidden_states.push(x.clone());
            }
            let probe = AttentionProbe {
                qkv: probes.qkv_layer == Some(index) || probes.every_layer,
                probs: probes.attention_layer == Some(index),
                output: probes.every_layer,
            };
            let layer_cache = cache.as_deref_mut().map(|c| (c, index));
            let (y, trace) = layer.forward(x, &context, layer_cache, probe);
            x = y;
            if let (true, Some(output), Some(states)) = (probes.every_layer, trace.output, &trace.qkv) {
                layers.push(LayerTrace {
                    attention_output: output,
                    qkv: states.attended.clone(),
                });
            }
            if probes.qkv_layer == Some(index) {
                qkv = trace.qkv;
            }
            attention = attention.or(trace.probs);
        }
        let x = self.norm.forward(x); // [B, T, hidden]
        if probes.hidden_states {
            hidden_states.push(x.clone());
        }
        let traces = Traces {
            hidden_states,
            qkv,
            attention,
            layers,
        };
        (x, traces)
    }

    /// Number of decoder layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }
}

fn load_linear(
    source: &mut dyn WeightSource,
    path: &str,
    d_out: usize,
    d_in: usize,
    device: &Device,
) -> Result<Linear> {
    Ok(Linear::new(Tensor::from_data(
        source.weight(path, &[d_out, d_in])?,
        device,
    )))
}

fn rms_norm(source: &mut dyn WeightSource, path: &str, width: usize, eps: f64, device: &Device) -> Result<RmsNorm> {
    let gamma = Tensor::from_data(source.weight(path, &[width])?, device);
    Ok(RmsNorm {
        gamma: Param::from_tensor(gamma),
        epsilon: eps,
    })
}

/// Where one pass's tokens sit: their RoPE tables and which keys each query may not see.
pub(super) struct TokenLayout {
    pub rope: RopeTables,
    /// `[B or 1, T, S]`; `None` when every query sees every key.
    pub mask: Option<Tensor<3, Bool>>,
}

/// `[1, T, S]` with S = start + T: true where key position s lies after query position start + t.
fn causal_mask(len: usize, start: usize, device: &Device) -> Tensor<3, Bool> {
    let keys = start + len;
    let mask: Vec<bool> = (0..len).flat_map(|t| (0..keys).map(move |s| s > start + t)).collect();
    Tensor::from_data(TensorData::new(mask, [1, len, keys]), device)
}

/// A teacher's dense projection, or a student's BitLinear with SubLN where the placement puts one.
fn load_projection(
    source: &mut dyn WeightSource,
    path: &str,
    name: &str,
    [d_out, d_in]: [usize; 2],
    config: &HunYuanConfig,
    device: &Device,
) -> Result<Projection> {
    let linear = load_linear(source, &format!("{path}.weight"), d_out, d_in, device)?;
    let Some(student) = &config.student else {
        return Ok(Projection::Dense(linear));
    };
    let rms_norm = match student.subln.covers(name) {
        true => Some(rms_norm(
            source,
            &format!("{path}.rms_norm.gamma"),
            d_in,
            config.rms_norm_eps,
            device,
        )?),
        false => None,
    };
    Ok(Projection::Ternary(BitLinear {
        weight: linear.weight,
        rms_norm,
        blend: 1.0,
        kernels: Kernels::default(),
        frozen: None,
    }))
}

impl HunYuan {
    /// Applies `f` to the seven projections of every layer.
    fn for_each_projection(mut self, f: impl Fn(&mut Projection)) -> Self {
        for layer in &mut self.layers {
            let (a, m) = (&mut layer.self_attn, &mut layer.mlp);
            for projection in [
                &mut a.q_proj,
                &mut a.k_proj,
                &mut a.v_proj,
                &mut a.o_proj,
                &mut m.gate_proj,
                &mut m.up_proj,
                &mut m.down_proj,
            ] {
                f(projection);
            }
        }
        self
    }

    /// Applies `f` to every BitLinear (a teacher has none).
    fn for_each_bitlinear(self, f: impl Fn(&mut BitLinear)) -> Self {
        self.for_each_projection(|projection| {
            if let Projection::Ternary(bit) = projection {
                f(bit);
            }
        })
    }

    /// Sets the quantization warm-up λ of every BitLinear.
    pub fn with_quant_blend(self, blend: f64) -> Self {
        self.for_each_bitlinear(|bit| bit.blend = blend)
    }

    /// Chooses the fused kernels or the reference for every BitLinear's quantizers.
    pub fn with_kernels(self, kernels: Kernels) -> Self {
        self.for_each_bitlinear(|bit| bit.kernels = kernels)
    }

    /// For inference: quantizes every BitLinear's weight once ([`BitLinear::freeze`]) and lays every projection
    /// and the head out as the matmul reads them fastest ([`contiguous_transpose`]).
    pub fn frozen_for_inference(self) -> Self {
        let mut model = self.for_each_projection(|projection| match projection {
            Projection::Dense(linear) => linear.freeze(),
            Projection::Ternary(bit) => bit.freeze(),
        });
        match &mut model.lm_head {
            Some(head) => head.freeze(),
            None => model.tied_head = Some(contiguous_transpose(model.embed_tokens.val())),
        }
        model
    }
}
