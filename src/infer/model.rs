//! The CPU inference engine: HunYuanDenseV1 with plain loops over `Vec<f32>`, a KV cache, and each projection
//! either f32 or packed ternary. It is what exported students run on (and, with f32 projections, the fair
//! baseline for the teacher); the burn model stays the reference.

use rayon::prelude::*;

use super::dense::DenseMatrix;
use super::linear::NativeLinear;
use super::norm::rms_norm_rows;
use crate::model::HunYuanConfig;

#[derive(Clone, Debug)]
pub struct NativeLayer {
    pub input_norm: Vec<f32>,
    pub q_proj: NativeLinear,
    pub k_proj: NativeLinear,
    pub v_proj: NativeLinear,
    pub o_proj: NativeLinear,
    /// Per-head RMSNorm of queries and keys, applied after RoPE.
    pub qk_norm: Option<(Vec<f32>, Vec<f32>)>,
    pub post_attention_norm: Vec<f32>,
    pub gate_proj: NativeLinear,
    pub up_proj: NativeLinear,
    pub down_proj: NativeLinear,
}

impl NativeLayer {
    /// q, k, v, o, gate, up, down: the order of [`crate::export::projection_names`].
    pub fn projections(&self) -> [&NativeLinear; 7] {
        [
            &self.q_proj,
            &self.k_proj,
            &self.v_proj,
            &self.o_proj,
            &self.gate_proj,
            &self.up_proj,
            &self.down_proj,
        ]
    }
}

#[derive(Clone, Debug)]
pub struct NativeModel {
    pub config: HunYuanConfig,
    pub embed_tokens: DenseMatrix,
    pub layers: Vec<NativeLayer>,
    pub norm: Vec<f32>,
    /// `None` when tied to the embeddings.
    pub lm_head: Option<DenseMatrix>,
    /// RoPE inverse frequencies `base^(-2i/d)`, in f64 as the reference computes them.
    inverse_frequencies: Vec<f64>,
}

/// One layer's states over a traced sequence, each `[tokens, width]`: the layer's output (the last layer's after
/// the final norm, as transformers' `hidden_states`), its attention block's output before the residual add, and
/// q, k (after RoPE and qk-norm) and v, the states attention-relation distillation compares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TracedLayer {
    pub hidden: Vec<f32>,
    pub attention_output: Vec<f32>,
    pub q: Vec<f32>,
    pub k: Vec<f32>,
    pub v: Vec<f32>,
}

/// Keys and values of the positions seen so far, per layer `[positions, kv_heads · head_dim]`.
#[derive(Clone, Debug, Default)]
pub struct NativeCache {
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    positions: usize,
}

impl NativeCache {
    pub fn positions(&self) -> usize {
        self.positions
    }
}

/// Bytes of the weights by part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WeightBytes {
    pub linears: usize,
    pub embeddings: usize,
    pub lm_head: usize,
    pub norms: usize,
}

impl WeightBytes {
    pub fn total(&self) -> usize {
        self.linears + self.embeddings + self.lm_head + self.norms
    }
}

impl NativeModel {
    pub fn new(
        config: HunYuanConfig,
        embed_tokens: DenseMatrix,
        layers: Vec<NativeLayer>,
        norm: Vec<f32>,
        lm_head: Option<DenseMatrix>,
    ) -> Self {
        let base = config.rope_base();
        let d = config.head_dim;
        let inverse_frequencies = (0..d / 2).map(|i| base.powf(-2.0 * i as f64 / d as f64)).collect();
        Self {
            config,
            embed_tokens,
            layers,
            norm,
            lm_head,
            inverse_frequencies,
        }
    }

    pub fn new_cache(&self) -> NativeCache {
        NativeCache {
            keys: vec![Vec::new(); self.layers.len()],
            values: vec![Vec::new(); self.layers.len()],
            positions: 0,
        }
    }

    pub fn weight_bytes(&self) -> WeightBytes {
        let linears = self
            .layers
            .iter()
            .flat_map(NativeLayer::projections)
            .map(NativeLinear::bytes)
            .sum();
        let norms = 4
            * (self.norm.len()
                + self
                    .layers
                    .iter()
                    .map(|l| {
                        l.input_norm.len()
                            + l.post_attention_norm.len()
                            + l.qk_norm.as_ref().map_or(0, |(q, k)| q.len() + k.len())
                    })
                    .sum::<usize>())
            + self
                .layers
                .iter()
                .flat_map(NativeLayer::projections)
                .map(NativeLinear::subln_bytes)
                .sum::<usize>();
        WeightBytes {
            linears,
            embeddings: self.embed_tokens.bytes(),
            lm_head: self.lm_head.as_ref().map_or(0, DenseMatrix::bytes),
            norms,
        }
    }

    /// Feeds `ids` after the cached positions; returns the logits `[vocab]` of the last position, or
    /// `[ids.len(), vocab]` of every position with `all_positions`.
    pub fn forward(&self, ids: &[u32], cache: &mut NativeCache, all_positions: bool) -> Vec<f32> {
        self.forward_recorded(ids, cache, all_positions, None)
    }

    /// The logits `[T, vocab]` of `ids` from an empty cache, and every layer's states ([`TracedLayer`]).
    pub fn trace(&self, ids: &[u32]) -> (Vec<f32>, Vec<TracedLayer>) {
        let mut layers = Vec::with_capacity(self.layers.len());
        let logits = self.forward_recorded(ids, &mut self.new_cache(), true, Some(&mut layers));
        (logits, layers)
    }

    /// The whole pass runs on one of rayon's workers: its ~160 parallel regions per token (5 a layer) then hand
    /// work to the other workers through the pool's own deques, instead of each one injecting a job from outside
    /// and putting the calling thread to sleep until it is done (a futex wake-up either way, per region).
    fn forward_recorded(
        &self,
        ids: &[u32],
        cache: &mut NativeCache,
        all_positions: bool,
        record: Option<&mut Vec<TracedLayer>>,
    ) -> Vec<f32> {
        rayon::scope(|_| self.forward_on_worker(ids, cache, all_positions, record))
    }

    fn forward_on_worker(
        &self,
        ids: &[u32],
        cache: &mut NativeCache,
        all_positions: bool,
        mut record: Option<&mut Vec<TracedLayer>>,
    ) -> Vec<f32> {
        let tokens = ids.len();
        let hidden = self.config.hidden_size;
        let eps = self.config.rms_norm_eps as f32;
        let mut x: Vec<f32> = ids
            .iter()
            .flat_map(|&id| self.embed_tokens.row_f32(id as usize))
            .collect();
        for (index, layer) in self.layers.iter().enumerate() {
            let normed = rms_norm_rows(&x, &layer.input_norm, eps);
            let (attended, [q, k, v]) = self.attention(layer, &normed, tokens, cache, index);
            let attention_output = layer.o_proj.forward(&attended, tokens);
            add_assign(&mut x, &attention_output);
            let normed = rms_norm_rows(&x, &layer.post_attention_norm, eps);
            let [gate, up] = NativeLinear::forward_group([&layer.gate_proj, &layer.up_proj], &normed, tokens);
            let product: Vec<f32> = gate.iter().zip(&up).map(|(g, u)| g / (1.0 + (-g).exp()) * u).collect();
            add_assign(&mut x, &layer.down_proj.forward(&product, tokens));
            if let Some(record) = record.as_deref_mut() {
                record.push(TracedLayer {
                    hidden: x.clone(),
                    attention_output,
                    q,
                    k,
                    v,
                });
            }
        }
        cache.positions += tokens;
        // As transformers' `hidden_states`, the last layer's state is handed out after the final norm.
        if let Some(last) = record.and_then(|r| r.last_mut()) {
            last.hidden = rms_norm_rows(&last.hidden, &self.norm, eps);
        }
        let rows = if all_positions {
            &x[..]
        } else {
            &x[(tokens - 1) * hidden..]
        };
        let normed = rms_norm_rows(rows, &self.norm, eps);
        let head = self.lm_head.as_ref().unwrap_or(&self.embed_tokens);
        head.forward(&normed, normed.len() / hidden)
    }

    /// Causal GQA attention of `tokens` new positions; appends their keys and values to the cache. Returns the
    /// attended values `[tokens, heads · d]` and this call's q, k (after RoPE and qk-norm) and v.
    fn attention(
        &self,
        layer: &NativeLayer,
        x: &[f32],
        tokens: usize,
        cache: &mut NativeCache,
        index: usize,
    ) -> (Vec<f32>, [Vec<f32>; 3]) {
        let c = &self.config;
        let (heads, kv_heads, d) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
        let eps = c.rms_norm_eps as f32;
        let start = cache.positions;
        let [mut q, mut k, v] = NativeLinear::forward_group([&layer.q_proj, &layer.k_proj, &layer.v_proj], x, tokens);
        self.rope(&mut q, start, heads);
        self.rope(&mut k, start, kv_heads);
        if let Some((q_gamma, k_gamma)) = &layer.qk_norm {
            q = rms_norm_rows(&q, q_gamma, eps);
            k = rms_norm_rows(&k, k_gamma, eps);
        }
        cache.keys[index].extend_from_slice(&k);
        cache.values[index].extend_from_slice(&v);
        let (keys, values) = (&cache.keys[index], &cache.values[index]);
        let group = heads / kv_heads;
        let scale = (d as f32).sqrt().recip();
        let mut out = vec![0f32; tokens * heads * d];
        // One task per (token, head): each reads its query, the cached keys/values of its KV head, writes d outputs.
        out.par_chunks_mut(d).enumerate().for_each(|(task, out)| {
            let (token, head) = (task / heads, task % heads);
            let kv = head / group;
            let query = &q[(token * heads + head) * d..][..d];
            let visible = start + token + 1;
            let mut scores: Vec<f32> = (0..visible)
                .map(|p| super::dense::dot_f32(query, &keys[(p * kv_heads + kv) * d..][..d]) * scale)
                .collect();
            let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
            let mut total = 0f32;
            for s in scores.iter_mut() {
                *s = (*s - max).exp();
                total += *s;
            }
            for (p, weight) in scores.iter().enumerate() {
                let value = &values[(p * kv_heads + kv) * d..][..d];
                for (o, v) in out.iter_mut().zip(value) {
                    *o += weight / total * v;
                }
            }
        });
        (out, [q, k, v])
    }

    /// NeoX split-half RoPE of `[tokens, heads · d]` at positions `start..`.
    fn rope(&self, x: &mut [f32], start: usize, heads: usize) {
        let d = self.config.head_dim;
        let half = d / 2;
        for (token, row) in x.chunks_exact_mut(heads * d).enumerate() {
            let position = (start + token) as f64;
            let (cos, sin): (Vec<f32>, Vec<f32>) = self
                .inverse_frequencies
                .iter()
                .map(|f| ((position * f).cos() as f32, (position * f).sin() as f32))
                .unzip();
            for head in row.chunks_exact_mut(d) {
                for i in 0..half {
                    let (x1, x2) = (head[i], head[i + half]);
                    head[i] = x1 * cos[i] - x2 * sin[i];
                    head[i + half] = x2 * cos[i] + x1 * sin[i];
                }
            }
        }
    }
}

fn add_assign(x: &mut [f32], y: &[f32]) {
    x.iter_mut().zip(y).for_each(|(a, b)| *a += b);
}

struct NativeDecode<'a> {
    model: &'a NativeModel,
    cache: NativeCache,
}

impl crate::generate::LanguageModel for NativeModel {
    fn start(&self) -> Box<dyn crate::generate::DecodeState + '_> {
        Box::new(NativeDecode {
            model: self,
            cache: self.new_cache(),
        })
    }
}

impl crate::generate::DecodeState for NativeDecode<'_> {
    fn feed(&mut self, ids: &[u32]) -> Vec<f32> {
        self.model.forward(ids, &mut self.cache, false)
    }
}
