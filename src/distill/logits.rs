//! The cross-entropy and logits-distillation terms of BitDistill's Stage-3 objective (§3.3):
//! `L = L_CE + λ·L_LD + γ·L_AD`. Each averages over the positions where its `mask` is 1.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Next-token cross-entropy, `logits: [B, T, V]`, `targets: [B, T]`, `mask: [B, T]` (1 = counted).
pub fn masked_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<1> {
    let [batch, len, vocab] = logits.dims();
    let picked = target_log_probs(logits.reshape([batch * len, vocab]), targets.reshape([batch * len]));
    -(picked * mask.clone().reshape([batch * len])).sum() / mask.sum().clamp_min(1.0)
}

/// The same cross-entropy over logits already picked at the trained positions: `logits: [N, V]`, `targets: [N]`.
pub fn cross_entropy_rows(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    -target_log_probs(logits, targets).mean()
}

/// `log softmax(logits)[target]` of each row: `logits: [N, V]`, `targets: [N]` → `[N]`.
pub fn target_log_probs(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    log_softmax(logits, 1)
        .gather(1, targets.unsqueeze_dim(1))
        .squeeze_dim::<1>(1)
}

/// `KL(softmax(z_T/τ) ‖ softmax(z_S/τ))` of each row, `[N, V]` → `[N]` (without the τ² of the loss).
pub fn row_kl(student: Tensor<2>, teacher: Tensor<2>, temperature: f64) -> Tensor<1> {
    let log_p_s = log_softmax(student / temperature, 1);
    let log_p_t = log_softmax(teacher / temperature, 1);
    (log_p_t.clone().exp() * (log_p_t - log_p_s))
        .sum_dim(1)
        .squeeze_dim::<1>(1)
}

/// Logits distillation `L_LD = τ² · KL(softmax(z_T/τ) ‖ softmax(z_S/τ))`, averaged over masked positions: the
/// official code's `F.kl_div(log p_S, p_T, reduction="batchmean") · τ²` over its selected rows
/// (`compute_kd_loss_with_debug` in bitdistill/src/llamafactory/train/sft/trainer.py).
pub fn logits_distillation(student: Tensor<3>, teacher: Tensor<3>, mask: Tensor<2>, temperature: f64) -> Tensor<1> {
    let [batch, len, vocab] = student.dims();
    let rows = |t: Tensor<3>| t.reshape([batch * len, vocab]);
    let kl = row_kl(rows(student), rows(teacher), temperature); // [B·T]
    (kl * mask.clone().reshape([batch * len])).sum() / mask.sum().clamp_min(1.0) * (temperature * temperature)
}
