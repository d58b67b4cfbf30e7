//! The cross-entropy and logits-distillation terms of BitDistill's Stage-3 objective (§3.3):
//! `L = L_CE + λ·L_LD + γ·L_AD`. Each averages over the positions where its `mask` is 1.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Next-token cross-entropy, `logits: [B, T, V]`, `targets: [B, T]`, `mask: [B, T]` (1 = counted).
pub fn masked_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<1> {
    let log_probs = log_softmax(logits, 2); // [B, T, V]
    let picked = log_probs.gather(2, targets.unsqueeze_dim(2)).squeeze_dim::<2>(2); // [B, T]
    -(picked * mask.clone()).sum() / mask.sum().clamp_min(1.0)
}

/// The same cross-entropy over logits already picked at the trained positions: `logits: [N, V]`, `targets: [N]`.
pub fn cross_entropy_rows(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let picked = log_softmax(logits, 1).gather(1, targets.unsqueeze_dim(1)); // [N, 1]
    -picked.mean()
}

/// Logits distillation `L_LD = τ² · KL(softmax(z_T/τ) ‖ softmax(z_S/τ))`, averaged over masked positions: the
/// official code's `F.kl_div(log p_S, p_T, reduction="batchmean") · τ²` over its selected rows
/// (`compute_kd_loss_with_debug` in bitdistill/src/llamafactory/train/sft/trainer.py).
pub fn logits_distillation(student: Tensor<3>, teacher: Tensor<3>, mask: Tensor<2>, temperature: f64) -> Tensor<1> {
    let log_p_s = log_softmax(student / temperature, 2);
    let log_p_t = log_softmax(teacher / temperature, 2);
    let kl = (log_p_t.clone().exp() * (log_p_t - log_p_s))
        .sum_dim(2)
        .squeeze_dim::<2>(2); // [B, T]
    (kl * mask.clone()).sum() / mask.sum().clamp_min(1.0) * (temperature * temperature)
}
