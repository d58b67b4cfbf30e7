//! The three terms of BitDistill's Stage-3 objective (§3.3): `L = L_CE + λ·L_LD + γ·L_AD`.
//! Every term averages over the positions where `mask` is 1 (target tokens; padding excluded).

use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Int};
use serde::{Deserialize, Serialize};

use crate::kernels::{self, Kernels};

/// Fill value of masked relation scores: finite, so that 0·log 0 terms stay 0 instead of NaN.
const MASKED_SCORE: f64 = -1e9;

/// Next-token cross-entropy, `logits: [B, T, V]`, `targets: [B, T]`, `mask: [B, T]` (1 = counted).
pub fn masked_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<1> {
    let log_probs = log_softmax(logits, 2); // [B, T, V]
    let picked = log_probs.gather(2, targets.unsqueeze_dim(2)).squeeze_dim::<2>(2); // [B, T]
    -(picked * mask.clone()).sum() / mask.sum().clamp_min(1.0)
}

/// Logits distillation `L_LD = τ² · KL(softmax(z_T/τ) ‖ softmax(z_S/τ))`, averaged over masked positions.
pub fn logits_distillation(student: Tensor<3>, teacher: Tensor<3>, mask: Tensor<2>, temperature: f64) -> Tensor<1> {
    let log_p_s = log_softmax(student / temperature, 2);
    let log_p_t = log_softmax(teacher / temperature, 2);
    let kl = (log_p_t.clone().exp() * (log_p_t - log_p_s))
        .sum_dim(2)
        .squeeze_dim::<2>(2); // [B, T]
    (kl * mask.clone()).sum() / mask.sum().clamp_min(1.0) * (temperature * temperature)
}

/// How relation scores between positions are formed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    /// `A_h A_hᵀ / √d_r` (the paper, MiniLMv2).
    #[default]
    ScaledDot,
    /// Cosine similarity of L2-normalised vectors, no √d (the official code).
    Cosine,
}

/// Settings of the attention-relation term.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RelationOptions {
    /// Requested number of relation heads r; each projection uses the largest divisor of its width ≤ r.
    pub heads: usize,
    pub kind: RelationKind,
    /// Only relate a position to itself and earlier ones.
    pub causal: bool,
    /// The streaming WGSL kernel (on wgpu) or the composed reference.
    pub kernels: Kernels,
}

/// Relation heads actually used for a projection of width `width`.
pub fn relation_heads(width: usize, requested: usize) -> usize {
    (1..=requested.min(width))
        .rev()
        .find(|r| width.is_multiple_of(*r))
        .unwrap_or(1)
}

/// The relation-head vectors `[B, T, r, d_r]` of `states: [B, T, W]` (unit length for the cosine variant) and
/// the scale of their dot products.
fn relation_vectors(states: Tensor<3>, heads: usize, kind: RelationKind) -> (Tensor<4>, f64) {
    let [batch, len, width] = states.dims();
    let head_width = width / heads;
    let a = states.reshape([batch, len, heads, head_width]);
    match kind {
        RelationKind::ScaledDot => (a, 1.0 / (head_width as f64).sqrt()),
        RelationKind::Cosine => {
            let norm = a.clone().square().sum_dim(3).sqrt().clamp_min(1e-12); // [B, T, r, 1]
            (a / norm, 1.0)
        }
    }
}

/// Log relation matrices `log softmax(A_h A_hᵀ / √d_r)` of `states: [B, T, W]`, shape `[B, r, T, T]`.
pub fn log_relations(states: Tensor<3>, options: &RelationOptions, mask: &Tensor<2>) -> Tensor<4> {
    let [batch, len, width] = states.dims();
    let heads = relation_heads(width, options.heads);
    let (a, scale) = relation_vectors(states, heads, options.kind);
    let a = a.swap_dims(1, 2); // [B, r, T, d_r]
    let scores = a.clone().matmul(a.swap_dims(2, 3)) * scale; // [B, r, T, T]
    let hidden = key_mask(mask, options.causal)
        .unsqueeze_dim::<4>(1)
        .expand([batch, heads, len, len]);
    log_softmax(scores.mask_fill(hidden, MASKED_SCORE), 3)
}

/// `[B, T, T]`, true where key s must be hidden from query t: padding keys, and later keys when causal.
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

/// `KL(R_T ‖ R_S)` of one projection's states `[B, T, W]`, summed over keys, averaged over relation heads and
/// masked query positions: by the streaming kernel (relation_kl.wgsl) where `options.kernels` allows it.
pub fn relation_kl(student: Tensor<3>, teacher: Tensor<3>, mask: Tensor<2>, options: &RelationOptions) -> Tensor<1> {
    let [batch, len, width] = student.dims();
    let heads = relation_heads(width, options.heads);
    // The kernel reads head slices as vec4s.
    if !options.kernels.fuses(&student) || !(width / heads).is_multiple_of(4) {
        return reference_relation_kl(student, teacher, mask, options);
    }
    let (student, scale) = relation_vectors(student, heads, options.kind);
    let (teacher, _) = relation_vectors(teacher, heads, options.kind);
    let flat = |a: Tensor<4>| a.reshape([batch, len, width]);
    kernels::fused::relation_kl(flat(student), flat(teacher), mask, heads, scale, options.causal)
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
    (per_query * mask.clone()).sum() / mask.sum().clamp_min(1.0)
}

/// `L_AD = Σ_{A ∈ {Q, K, V}} relation_kl(A_S, A_T)` at the distilled layer.
pub fn attention_distillation(
    student: [Tensor<3>; 3],
    teacher: [Tensor<3>; 3],
    mask: Tensor<2>,
    options: &RelationOptions,
) -> Tensor<1> {
    student
        .into_iter()
        .zip(teacher)
        .map(|(s, t)| relation_kl(s, t, mask.clone(), options))
        .reduce(|a, b| a + b)
        .expect("three projections")
}
