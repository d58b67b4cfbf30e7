//! The CPU inference engine: HunYuanDenseV1 with plain loops over `Vec<f32>`, a KV cache, and each projection
//! either f32 or packed ternary. It is what exported students run on (and, with f32 projections, the fair
//! baseline for the teacher); the burn model stays the reference.

mod attention;

use super::dense::DenseMatrix;
use super::linear::NativeLinear;
use super::norm::rms_norm_rows;
use crate::generate::RowSlots;
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

/// One sequence's share of a pass: its new tokens, fed after its cached positions.
pub struct Segment<'a> {
    pub ids: &'a [u32],
    pub cache: &'a mut NativeCache,
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
        let mut segments = [Segment { ids, cache }];
        rayon::scope(|_| self.forward_on_worker(&mut segments, all_positions, None))
    }

    /// Several sequences in one pass, each `ids` after its own cache: the projections (the weights' one read
    /// from memory) run over every sequence's tokens at once, attention per sequence. Returns the logits
    /// `[vocab]` of each sequence's last position. Every row is computed as [`NativeModel::forward`] computes it
    /// alone (per-token quantization, one dot product per output), so the results are the same bit for bit.
    pub fn forward_batch(&self, segments: &mut [Segment]) -> Vec<Vec<f32>> {
        let vocab = self.config.vocab_size;
        let logits = rayon::scope(|_| self.forward_on_worker(segments, false, None));
        logits.chunks_exact(vocab).map(<[f32]>::to_vec).collect()
    }

    /// The logits `[T, vocab]` of `ids` from an empty cache, and every layer's states ([`TracedLayer`]).
    pub fn trace(&self, ids: &[u32]) -> (Vec<f32>, Vec<TracedLayer>) {
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut cache = self.new_cache();
        let mut segments = [Segment { ids, cache: &mut cache }];
        let logits = rayon::scope(|_| self.forward_on_worker(&mut segments, true, Some(&mut layers)));
        (logits, layers)
    }

    /// The whole pass runs on one of rayon's workers (the callers' `rayon::scope`): its ~160 parallel regions
    /// per token (5 a layer) then hand work to the other workers through the pool's own deques, instead of each
    /// one injecting a job from outside and putting the calling thread to sleep until it is done (a futex
    /// wake-up either way, per region). Returns the logits of every position with `all_positions`, else of each
    /// segment's last one.
    fn forward_on_worker(
        &self,
        segments: &mut [Segment],
        all_positions: bool,
        mut record: Option<&mut Vec<TracedLayer>>,
    ) -> Vec<f32> {
        let tokens: usize = segments.iter().map(|s| s.ids.len()).sum();
        let hidden = self.config.hidden_size;
        let eps = self.config.rms_norm_eps as f32;
        let mut x: Vec<f32> = segments
            .iter()
            .flat_map(|s| s.ids)
            .flat_map(|&id| self.embed_tokens.row_f32(id as usize))
            .collect();
        for (index, layer) in self.layers.iter().enumerate() {
            let normed = rms_norm_rows(&x, &layer.input_norm, eps);
            let (attended, [q, k, v]) = self.attention(layer, &normed, segments, index);
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
        for segment in segments.iter_mut() {
            segment.cache.positions += segment.ids.len();
        }
        // As transformers' `hidden_states`, the last layer's state is handed out after the final norm.
        if let Some(last) = record.and_then(|r| r.last_mut()) {
            last.hidden = rms_norm_rows(&last.hidden, &self.norm, eps);
        }
        let rows: Vec<f32> = if all_positions {
            x
        } else {
            let mut end = 0;
            segments
                .iter()
                .flat_map(|segment| {
                    end += segment.ids.len();
                    x[(end - 1) * hidden..end * hidden].to_vec()
                })
                .collect()
        };
        let normed = rms_norm_rows(&rows, &self.norm, eps);
        let head = self.lm_head.as_ref().unwrap_or(&self.embed_tokens);
        head.forward(&normed, normed.len() / hidden)
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

    fn start_batch(&self, rows: usize) -> Box<dyn crate::generate::BatchDecodeState + '_> {
        Box::new(NativeBatch {
            model: self,
            caches: RowSlots::new(rows, || self.new_cache()),
        })
    }
}

/// A batch on the CPU engine: every fed row one segment of [`NativeModel::forward_batch`].
struct NativeBatch<'a> {
    model: &'a NativeModel,
    caches: RowSlots<NativeCache>,
}

impl crate::generate::BatchDecodeState for NativeBatch<'_> {
    fn feed(&mut self, feeds: &[(usize, &[u32])]) -> Vec<Vec<f32>> {
        self.caches.update(feeds);
        let mut segments: Vec<Segment> = self
            .caches
            .running_mut()
            .zip(feeds)
            .map(|(cache, &(_, ids))| Segment { ids, cache })
            .collect();
        self.model.forward_batch(&mut segments)
    }
}

impl crate::generate::DecodeState for NativeDecode<'_> {
    fn feed(&mut self, ids: &[u32]) -> Vec<f32> {
        self.model.forward(ids, &mut self.cache, false)
    }
}
