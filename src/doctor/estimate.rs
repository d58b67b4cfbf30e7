//! How much memory a run needs at its peak, from the run file and the model's config alone.
//!
//! Per optimizer step the trainer holds the frozen teacher and the latent student (f32), AdamW's two moments,
//! one set of gradients per shard plus their sum, and, while a micro-batch is in flight, its activations and its
//! `[B, T, V]` logit-sized buffers (logits, log-softmax, their gradients; with a teacher, its logits and the
//! logits-distillation terms too), the `[B, r, T, T]` relation matrices, and per token and layer the values of
//! [`per_token_layer_floats`]. How many of each are alive at once is decided by burn's graph and the allocator's
//! reuse, not by a formula: the buffer counts and the runtime term below were fitted by hand to the peak resident
//! memory of `bench train` at batches 1, 4 and 8 of the bundled teacher and the 1/8-width model (README,
//! "`doctor`", which lists the fit's errors).

use serde::Serialize;

use crate::model::HunYuanConfig;

/// Live `[B, T, V]` f32 buffers at the peak of a step: cross-entropy only, and with logits distillation (fitted).
const LOGIT_BUFFERS_CE: f64 = 2.5;
const LOGIT_BUFFERS_DISTILL: f64 = 4.7;
/// Live `[B, r, T, T]` relation matrices at the peak of a distilling step, all three states and both models.
const RELATION_BUFFERS: u64 = 4;
/// f32 copies of the ternary projections a forward pass materialises (the fake-quantized weight and its STE).
const QUANTIZED_WEIGHT_COPIES: f64 = 2.0;
/// What loading and the allocator add beyond the tensors: copies of the parameters read from the checkpoint and
/// freed memory kept for reuse (fitted: 1.7 f32 copies), and the runtime (tokenizer, thread pool, tables).
const RETAINED_PARAMETER_COPIES: f64 = 1.7;
const RUNTIME_BYTES: u64 = 49 << 20;
/// Each shard thread beyond the first allocates from its own malloc arena (glibc's per-thread heaps of up to
/// 64 MiB), which keeps freed activations of its own: fitted on 2-shard runs.
const ARENA_BYTES_PER_EXTRA_SHARD: u64 = 96 << 20;

/// The shape of one training step.
#[derive(Clone, Copy, Debug)]
pub struct StepShape {
    pub batch: usize,
    /// Tokens per row (Stage-2 block, or the longest Stage-3 pair).
    pub len: usize,
    pub shards: usize,
    /// Stage 3 with a teacher: its logits and the distillation terms are alive too.
    pub distill: bool,
    /// Relation heads r when the relation term is computed.
    pub relation_heads: Option<usize>,
}

/// Bytes by part; `total` includes `baseline`, the process before loading anything.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct MemoryEstimate {
    pub baseline: u64,
    pub runtime: u64,
    pub teacher: u64,
    pub student: u64,
    pub optimizer: u64,
    pub gradients: u64,
    pub activations: u64,
    pub logits: u64,
    pub relations: u64,
    pub total: u64,
    /// The largest single allocation and what it is.
    pub largest_buffer: u64,
    pub largest_buffer_is: String,
}

/// Values the autodiff graph keeps per token of one layer: the norms and residuals (hidden-wide), the int8
/// activations and outputs of each projection, RoPE and qk-norm copies of q/k, the attention scores and
/// probabilities (`T` per head), and the MLP's gate, up, SiLU and product.
pub fn per_token_layer_floats(config: &HunYuanConfig, len: usize) -> f64 {
    let (h, i) = (config.hidden_size as f64, config.intermediate_size as f64);
    let qkv = (config.q_dim() + 2 * config.kv_dim()) as f64;
    let scores = (config.num_attention_heads * len) as f64;
    14.0 * h + 4.0 * qkv + 3.0 * scores + 6.0 * i
}

/// The peak of one step of `shape` for teacher and student of `config`.
pub fn estimate_step(config: &HunYuanConfig, shape: StepShape, baseline: u64) -> MemoryEstimate {
    let params = config.param_breakdown();
    let f32_bytes = |n: f64| (4.0 * n) as u64;
    let total_params = params.total() as f64;
    let tokens = (shape.batch * shape.len) as f64;
    let vocab = config.vocab_size as f64;
    let logit_buffer = f32_bytes(tokens * vocab);
    let logit_buffers = if shape.distill {
        LOGIT_BUFFERS_DISTILL
    } else {
        LOGIT_BUFFERS_CE
    };
    let relation_matrix = shape
        .relation_heads
        .map_or(0, |r| f32_bytes((shape.batch * r * shape.len * shape.len) as f64));
    // Shards are whole rows: a batch has at most as many as it has rows.
    let shards = shape.shards.clamp(1, shape.batch.max(1));
    let mut e = MemoryEstimate {
        baseline,
        runtime: RUNTIME_BYTES
            + ARENA_BYTES_PER_EXTRA_SHARD * (shards as u64 - 1)
            + f32_bytes(RETAINED_PARAMETER_COPIES * total_params),
        teacher: f32_bytes(total_params),
        student: f32_bytes(total_params + QUANTIZED_WEIGHT_COPIES * params.linears as f64),
        optimizer: f32_bytes(2.0 * total_params),
        gradients: f32_bytes((shards + 1) as f64 * total_params),
        activations: f32_bytes(tokens * config.num_hidden_layers as f64 * per_token_layer_floats(config, shape.len)),
        logits: (logit_buffers * logit_buffer as f64) as u64,
        relations: RELATION_BUFFERS * relation_matrix,
        ..MemoryEstimate::default()
    };
    e.total = e.baseline
        + e.runtime
        + e.teacher
        + e.student
        + e.optimizer
        + e.gradients
        + e.activations
        + e.logits
        + e.relations;
    let candidates = [
        (logit_buffer, "a [batch, length, vocabulary] logits buffer"),
        (f32_bytes((params.embeddings) as f64), "the embedding matrix"),
        (relation_matrix, "a [batch, r, length, length] relation matrix"),
        (
            f32_bytes((shape.batch * config.num_attention_heads * shape.len * shape.len) as f64),
            "the attention scores of one layer",
        ),
    ];
    let (largest, what) = candidates
        .into_iter()
        .max_by_key(|(bytes, _)| *bytes)
        .unwrap_or_default();
    e.largest_buffer = largest;
    e.largest_buffer_is = what.to_string();
    e
}
