//! Attention-relation distillation, BitDistill §3.3 (after MiniLMv2), by default exactly as the official code
//! computes it (microsoft/BitNet pull request #382: `compute_distill_loss` in
//! bitdistill/src/llamafactory/train/sft/trainer.py; the states come from its modeling_qwen3.py attention). For
//! each state A ∈ {Q, K, V} of the distilled layer, `[B, T, W]`, split into r relation heads a_h of width W/r:
//!
//!   R_h = softmax_keys(â_h â_hᵀ),  â = a / ‖a‖               (`cosine`; `scaled-dot`: a_h a_hᵀ / √(W/r))
//!   KL_i = Σ_x R_T(i, x) · (log R_T(i, x) − log R_S(i, x))   (official: both R clamped at 1e-8 first)
//!   L_A = Σ_{b, h, i} KL_i / (N · r) / r                       (official: batchmean over the B·r·T rows, then ÷ r)
//!   L_A = Σ_{b, h, i} KL_i / (N · r)                           (`mean`)
//!   L_AD = L_Q + L_K + L_V
//!
//! N counts the query positions the mask keeps; keys are the positions the mask keeps (and, when causal, not
//! after the query). Unlike the official code, padding is never a query or a key: its batches are padded too,
//! and padded rows there add relations of pad tokens that depend on how much padding a batch happened to get.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::kernels::Kernels;
use crate::model::{HunYuanConfig, QkvStates, QkvTrace};

/// Fill value of masked relation scores: finite, so that 0·log 0 terms stay 0 instead of NaN.
const MASKED_SCORE: f64 = -1e9;

/// The official code's floor on relation probabilities (`clamp(min=1e-8)` before the log).
pub const RELATION_PROBABILITY_FLOOR: f64 = 1e-8;

/// Which form of Q, K and V is compared (`stage3.relation_states`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RelationStates {
    /// What attention computes with: Q and K after RoPE and the per-head RMSNorm, V as projected (official).
    #[default]
    Attention,
    /// The raw q/k/v projection outputs, before RoPE and qk-norm.
    Projections,
}

impl RelationStates {
    pub fn pick(self, trace: QkvTrace) -> QkvStates {
        match self {
            Self::Attention => trace.attended,
            Self::Projections => trace.projections,
        }
    }
}

/// How relation scores between positions are formed (`stage3.relation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    /// Dot products of L2-normalised head vectors, no 1/√d (official).
    #[default]
    Cosine,
    /// `a_h a_hᵀ / √d_r` (MiniLMv2's form, the paper's equation as written).
    ScaledDot,
}

/// How the per-row KLs of one state become its term (`stage3.relation_reduction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RelationReduction {
    /// Probabilities clamped at 1e-8, mean over rows and heads, then ÷ r once more (official).
    #[default]
    Official,
    /// Exact probabilities, mean over rows and heads: r times larger than `official`.
    Mean,
}

/// Settings of the attention-relation term.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RelationOptions {
    /// Relation heads r; must divide the width of every state compared ([`check_relation_heads`]).
    pub heads: usize,
    pub kind: RelationKind,
    /// Only relate a position to itself and earlier ones (the official code relates every pair).
    pub causal: bool,
    pub reduction: RelationReduction,
    /// The streaming WGSL kernel (on wgpu) or the composed reference.
    pub kernels: Kernels,
}

impl RelationOptions {
    /// Why the fused kernel cannot compute this term for states of `width`, or `None` when it can.
    pub fn unfused_reason(&self, width: usize) -> Option<&'static str> {
        if !(width / self.heads).is_multiple_of(4) {
            return Some("its relation-head width is not a multiple of 4");
        }
        // The kernel does not clamp. Cosine scores lie in [−1, 1], so no probability over n keys falls below
        // 1/(1 + (n − 1)·e²) > 1e-8 for n < 1.3e7 and the clamp never binds; scaled-dot scores are unbounded.
        if self.reduction == RelationReduction::Official && self.kind == RelationKind::ScaledDot {
            return Some("the official reduction clamps scaled-dot probabilities at 1e-8, which the kernel does not");
        }
        None
    }
}

/// Checks that r divides the query width and the key/value width of `config`, as the official code requires;
/// the message names the widths and the values of r that would work.
pub fn check_relation_heads(config: &HunYuanConfig, heads: usize) -> Result<(), String> {
    let (q, kv) = (config.q_dim(), config.kv_dim());
    if heads > 0 && q.is_multiple_of(heads) && kv.is_multiple_of(heads) {
        return Ok(());
    }
    let fits: Vec<String> = (1..=kv.min(q))
        .filter(|r| q.is_multiple_of(*r) && kv.is_multiple_of(*r))
        .map(|r| r.to_string())
        .collect();
    Err(format!(
        "relation_heads = {heads} must divide every distilled state's width: Q is {q} wide ({} heads × {}), \
         K and V are {kv} ({} key/value heads × {}); values that divide both: {}",
        config.num_attention_heads,
        config.head_dim,
        config.num_key_value_heads,
        config.head_dim,
        fits.join(", ")
    ))
}

/// The relation-head vectors `[B, T, r, d_r]` of `states: [B, T, W]` (unit length for the cosine variant) and
/// the scale of their dot products.
fn relation_vectors(states: Tensor<3>, heads: usize, kind: RelationKind) -> (Tensor<4>, f64) {
    let [batch, len, width] = states.dims();
    assert!(
        width.is_multiple_of(heads),
        "{heads} relation heads do not divide a state of width {width}"
    );
    let head_width = width / heads;
    let a = states.reshape([batch, len, heads, head_width]);
    match kind {
        RelationKind::ScaledDot => (a, 1.0 / (head_width as f64).sqrt()),
        // F.normalize(p=2, eps=1e-12): a / max(‖a‖, 1e-12).
        RelationKind::Cosine => {
            let norm = a.clone().square().sum_dim(3).sqrt().clamp_min(1e-12); // [B, T, r, 1]
            (a / norm, 1.0)
        }
    }
}

/// Log relation matrices `log R` of `states: [B, T, W]`, shape `[B, r, T, T]`, with the official reduction's
/// floor applied (`log max(R, 1e-8)`; hidden keys then hold `log 1e-8` in both models and add nothing).
pub fn log_relations(states: Tensor<3>, options: &RelationOptions, mask: &Tensor<2>) -> Tensor<4> {
    let [batch, len, _] = states.dims();
    let heads = options.heads;
    let (a, scale) = relation_vectors(states, heads, options.kind);
    let a = a.swap_dims(1, 2); // [B, r, T, d_r]
    let scores = a.clone().matmul(a.swap_dims(2, 3)) * scale; // [B, r, T, T]
    let hidden = key_mask(mask, options.causal)
        .unsqueeze_dim::<4>(1)
        .expand([batch, heads, len, len]);
    let log_r = log_softmax(scores.mask_fill(hidden, MASKED_SCORE), 3);
    match options.reduction {
        RelationReduction::Official => log_r.clamp_min(RELATION_PROBABILITY_FLOOR.ln()),
        RelationReduction::Mean => log_r,
    }
}

/// `[B, T, T]`, true where key s must be hidden from query t: masked-out keys, and later keys when causal.
fn key_mask(mask: &Tensor<2>, causal: bool) -> Tensor<3, Bool> {
    let [batch, len] = mask.dims();
    let padding = mask
        .clone()
        .equal_elem(0.0)
        .unsqueeze_dim::<3>(1)
        .expand([batch, len, len]);
    if !causal {
        return padding;
    }
    let device = mask.device();
    let positions = Tensor::<1, Int>::arange(0..len as i64, &device);
    let later = positions
        .clone()
        .unsqueeze_dim::<2>(0)
        .greater(positions.unsqueeze_dim::<2>(1)); // [T, T]: s > t
    padding.bool_or(later.unsqueeze_dim::<3>(0).expand([batch, len, len]))
}

/// The term `L_A` of one state `[B, T, W]` (see the module header): by the streaming kernel
/// (relation_kl.wgsl) where `options.kernels` and [`RelationOptions::unfused_reason`] allow it.
///
/// # Panics
/// If `options.heads` does not divide W: callers check run files first with [`check_relation_heads`].
pub fn relation_kl(student: Tensor<3>, teacher: Tensor<3>, mask: Tensor<2>, options: &RelationOptions) -> Tensor<1> {
    // The browser build has no kernels (`Kernels::fuses` never holds there).
    #[cfg(not(target_arch = "wasm32"))]
    if options.kernels.fuses(&student) && options.unfused_reason(student.dims()[2]).is_none() {
        return fused_relation_kl(student, teacher, mask, options);
    }
    reference_relation_kl(student, teacher, mask, options)
}

/// [`relation_kl`] on the WGSL kernel.
#[cfg(not(target_arch = "wasm32"))]
fn fused_relation_kl(student: Tensor<3>, teacher: Tensor<3>, mask: Tensor<2>, options: &RelationOptions) -> Tensor<1> {
    let [batch, len, width] = student.dims();
    let heads = options.heads;
    let (student, scale) = relation_vectors(student, heads, options.kind);
    let (teacher, _) = relation_vectors(teacher, heads, options.kind);
    let flat = |a: Tensor<4>| a.reshape([batch, len, width]);
    let mean = crate::kernels::fused::relation_kl(flat(student), flat(teacher), mask, heads, scale, options.causal);
    reduce(mean, options)
}

/// The composed reference of [`relation_kl`]: materialises the `[B, r, T, T]` relation matrices.
pub fn reference_relation_kl(
    student: Tensor<3>,
    teacher: Tensor<3>,
    mask: Tensor<2>,
    options: &RelationOptions,
) -> Tensor<1> {
    let log_r_s = log_relations(student, options, &mask);
    let log_r_t = log_relations(teacher, options, &mask);
    let kl = (log_r_t.clone().exp() * (log_r_t - log_r_s)).sum_dim(3); // [B, r, T, 1]
    let per_query = kl.mean_dim(1).squeeze_dims::<2>(&[1, 3]); // [B, T]
    let mean = (per_query * mask.clone()).sum() / mask.sum().clamp_min(1.0);
    reduce(mean, options)
}

/// From the mean over kept rows and heads to the configured reduction.
fn reduce(mean: Tensor<1>, options: &RelationOptions) -> Tensor<1> {
    match options.reduction {
        RelationReduction::Official => mean / options.heads as f64,
        RelationReduction::Mean => mean,
    }
}

/// `L_AD = Σ_{A ∈ {Q, K, V}} L_A` at the distilled layer.
pub fn attention_distillation(
    student: QkvStates,
    teacher: QkvStates,
    mask: Tensor<2>,
    options: &RelationOptions,
) -> Tensor<1> {
    [(student.q, teacher.q), (student.k, teacher.k), (student.v, teacher.v)]
        .into_iter()
        .map(|(s, t)| relation_kl(s, t, mask.clone(), options))
        .reduce(|a, b| a + b)
        .expect("three states")
}
