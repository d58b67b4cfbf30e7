//! The vocabulary terms of the objective, L_CE and L_LD over all `vocab` classes, computed and differentiated
//! in chunks of positions, so that `[positions, vocab]` logits exist for one chunk at a time in the forward
//! and in the backward pass (at HY-MT1.5-1.8B's 120,818 classes a 4 × 512 batch's logits are 0.99 GB in f32, and
//! the softmaxes and their gradients hold several such buffers; lavapipe refuses one that large).
//!
//! The decoder stack runs once; its output `h` (after the final norm) is cut from the graph into a leaf, and
//! each chunk's head and terms run forward and backward on their own, adding to `∂L/∂h` and to the head
//! weight's gradient. One more backward pushes `∂L/∂h` through the stack, with the attention-relation term, via
//! the surrogate `Σ h ⊙ ∂L/∂h`, whose gradient with respect to every trunk parameter is the chain rule's. The
//! loss and the gradients equal one unchunked pass up to float rounding; the price is the head's weight read
//! once more per chunk.

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Int, Tensor};

use super::logits::{row_kl, target_log_probs};
use super::objective::{Stage3Objective, TermShares};
use super::relation::attention_distillation;
use crate::backend::read_scalar as read;
use crate::data::BatchTensors;
use crate::error::Result;
use crate::model::{HunYuan, Probes};

/// The weighted values of a batch's terms, as [`Stage3Objective::terms`] would give them scaled by their shares.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TermValues {
    pub ce: f64,
    pub logits_kd: f64,
    pub attention_kd: f64,
}

impl Stage3Objective {
    /// Gradients of `shares`-weighted `L_CE + λ·L_LD + γ·L_AD` of `batch` (the terms of [`Self::terms`]), with the
    /// vocabulary terms `chunk` positions at a time, and the weighted terms' values.
    pub fn chunked_backward(
        &self,
        student: &HunYuan,
        teacher: Option<&HunYuan>,
        batch: &BatchTensors,
        relations: bool,
        shares: TermShares,
        chunk: usize,
    ) -> Result<(GradientsParams, TermValues)> {
        let probes = Probes {
            qkv_layer: (teacher.is_some() && relations).then_some(self.layer),
            ..Probes::default()
        };
        let (hidden, qkv) = student.hidden_and_qkv(batch.inputs.clone(), &probes); // [B, T, H]
        let [rows_b, len, width] = hidden.dims();
        let positions = rows_b * len;
        let flat = |t: Tensor<2>| t.reshape([positions]);
        let leaf = hidden.clone().detach().require_grad();
        let targets: Tensor<1, Int> = batch.targets.clone().reshape([positions]);
        let ce_mask = flat(batch.target_mask.clone());
        let ce_count = read(ce_mask.clone().sum())?.max(1.0);
        let distilled = teacher.map(|teacher| {
            let (states, qkv) = teacher.hidden_and_qkv(batch.inputs.clone(), &probes);
            let mask = flat(self.logits_positions_mask(batch));
            (teacher, states.detach().reshape([positions, width]), qkv, mask)
        });
        let ld_count = match &distilled {
            Some((.., mask)) => read(mask.clone().sum())?.max(1.0),
            None => 1.0,
        };
        let tau_squared = self.tau * self.tau;
        let mut accumulator = GradientsAccumulator::new();
        let mut grad_hidden: Option<Tensor<3>> = None;
        let mut values = TermValues::default();
        for start in (0..positions).step_by(chunk.max(1)) {
            let rows = start..(start + chunk.max(1)).min(positions);
            let x = leaf.clone().reshape([positions, width]).slice([rows.clone(), 0..width]);
            let logits = student.head(x); // [n, V]
            let picked = target_log_probs(logits.clone(), targets.clone().slice([rows.clone()]));
            let ce = -(picked * ce_mask.clone().slice([rows.clone()])).sum() * (shares.ce / ce_count);
            values.ce += read(ce.clone())?;
            let mut loss = ce;
            if let Some((teacher, states, _, mask)) = &distilled {
                let reference = teacher.head(states.clone().slice([rows.clone(), 0..width])).detach();
                let kl = row_kl(logits, reference, self.tau) * mask.clone().slice([rows.clone()]);
                let ld = kl.sum() * (tau_squared * shares.logits_kd / ld_count);
                values.logits_kd += read(ld.clone())?;
                loss = loss + ld * self.lambda;
            }
            let mut grads = loss.backward();
            let part = leaf.grad_remove(&mut grads).expect("the chunk reads the hidden states");
            grad_hidden = Some(match grad_hidden {
                Some(sum) => sum + part,
                None => part,
            });
            accumulator.accumulate(student, GradientsParams::from_grads(grads, student));
        }
        let grad_hidden = grad_hidden.expect("a batch has positions");
        let mut surrogate = (hidden * grad_hidden).sum();
        if let (Some(states), Some((.., Some(reference), _))) = (qkv, &distilled) {
            let attention_kd = attention_distillation(
                self.relation_states.pick(states),
                self.relation_states.pick(reference.clone()).detach(),
                self.relation_positions_mask(batch),
                &self.relation,
            ) * shares.attention_kd;
            values.attention_kd = read(attention_kd.clone())?;
            surrogate = surrogate + attention_kd * self.gamma;
        }
        accumulator.accumulate(student, GradientsParams::from_grads(surrogate.backward(), student));
        Ok((accumulator.grads(), values))
    }
}
