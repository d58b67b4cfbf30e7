//! BitDistill's Stage-3 objective on one batch (§3.3): `L = L_CE + λ·L_LD + γ·L_AD`, with the positions each
//! term counts and the relation settings of the run file. The trainer and `bitdistill loss` both compute their
//! terms here, so what the command prints is what training optimizes.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::logits::{cross_entropy_rows, logits_distillation, masked_cross_entropy};
use super::relation::{RelationOptions, RelationStates, attention_distillation};
use crate::data::{BatchTensors, TokenBatch};
use crate::model::{HunYuan, Probes};

/// Which positions a distillation term averages over (`stage3.logits_positions`, `stage3.relation_positions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LossPositions {
    /// Every real token, prompt and reply (official); padding never counts.
    #[default]
    All,
    /// Only the positions whose next token is a cross-entropy target (the reply).
    Reply,
}

impl LossPositions {
    fn mask(self, batch: &BatchTensors) -> Tensor<2> {
        match self {
            Self::All => batch.attention_mask.clone(),
            Self::Reply => batch.target_mask.clone(),
        }
    }

    /// How many positions of `batch` the term averages over.
    fn count(self, batch: &TokenBatch) -> usize {
        match self {
            Self::All => batch.real_tokens(),
            Self::Reply => batch.trained_tokens(),
        }
    }
}

/// What one part of a batch's rows weighs in each term of the whole batch. Every term is a mean over its
/// positions, so the whole batch's term is `Σ_parts term_part · n_part / n_whole`, n counting the term's
/// positions; computing the parts separately and adding them so weighted gives the whole batch's loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TermShares {
    pub ce: f64,
    pub logits_kd: f64,
    pub attention_kd: f64,
}

impl TermShares {
    /// Every share times `factor` (e.g. 1 / micro-batches per step).
    pub fn times(self, factor: f64) -> Self {
        Self {
            ce: self.ce * factor,
            logits_kd: self.logits_kd * factor,
            attention_kd: self.attention_kd * factor,
        }
    }
}

/// Everything Stage 3's loss depends on besides the models and the batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage3Objective {
    /// λ, weight of logits distillation.
    pub lambda: f64,
    /// γ, weight of attention-relation distillation.
    pub gamma: f64,
    /// τ, the logits-distillation temperature.
    pub tau: f64,
    /// The layer (0-based) whose Q/K/V relations are distilled.
    pub layer: usize,
    pub relation: RelationOptions,
    pub relation_states: RelationStates,
    pub relation_positions: LossPositions,
    pub logits_positions: LossPositions,
}

/// The unweighted terms of one batch; the distillation terms are absent where they were not computed.
pub struct Stage3Terms {
    pub ce: Tensor<1>,
    pub logits_kd: Option<Tensor<1>>,
    pub attention_kd: Option<Tensor<1>>,
}

impl Stage3Objective {
    /// The shares of the rows in `part` in the terms of `whole` (see [`TermShares`]).
    pub fn shares(&self, part: &TokenBatch, whole: &TokenBatch) -> TermShares {
        let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
        let positions = |p: LossPositions| share(p.count(part), p.count(whole));
        TermShares {
            ce: share(part.trained_tokens(), whole.trained_tokens()),
            logits_kd: positions(self.logits_positions),
            attention_kd: positions(self.relation_positions),
        }
    }

    /// The terms of `batch`: cross-entropy alone without a teacher; with one, logits distillation and, when
    /// `relations` is set, attention-relation distillation at [`Self::layer`].
    pub fn terms(
        &self,
        student: &HunYuan,
        teacher: Option<&HunYuan>,
        batch: &BatchTensors,
        relations: bool,
    ) -> Stage3Terms {
        let probes = Probes {
            qkv_layer: (teacher.is_some() && relations).then_some(self.layer),
            ..Probes::default()
        };
        let Some(teacher) = teacher else {
            // Cross-entropy alone needs the logits of the reply positions only (a fraction of the tokens); a
            // batch without any keeps the masked mean over all positions, which is 0 there, not a mean of nothing.
            let ce = match batch.trained_positions.dims()[0] {
                0 => masked_cross_entropy(
                    student.logits(batch.inputs.clone()),
                    batch.targets.clone(),
                    batch.target_mask.clone(),
                ),
                _ => cross_entropy_rows(
                    student.logits_at(batch.inputs.clone(), batch.trained_positions.clone()),
                    batch.trained_targets.clone(),
                ),
            };
            return Stage3Terms {
                ce,
                logits_kd: None,
                attention_kd: None,
            };
        };
        let out = student.forward(batch.inputs.clone(), None, &probes);
        let ce = masked_cross_entropy(out.logits.clone(), batch.targets.clone(), batch.target_mask.clone());
        let reference = teacher.forward(batch.inputs.clone(), None, &probes);
        let logits_kd = logits_distillation(
            out.logits,
            reference.logits.detach(),
            self.logits_positions.mask(batch),
            self.tau,
        );
        let attention_kd = out.qkv.zip(reference.qkv).map(|(s, t)| {
            attention_distillation(
                self.relation_states.pick(s),
                self.relation_states.pick(t).detach(),
                self.relation_positions.mask(batch),
                &self.relation,
            )
        });
        Stage3Terms {
            ce,
            logits_kd: Some(logits_kd),
            attention_kd,
        }
    }
}

impl Stage3Objective {
    /// `[B, T]`: the positions logits distillation averages over.
    pub(super) fn logits_positions_mask(&self, batch: &BatchTensors) -> Tensor<2> {
        self.logits_positions.mask(batch)
    }

    /// `[B, T]`: the positions attention-relation distillation averages over.
    pub(super) fn relation_positions_mask(&self, batch: &BatchTensors) -> Tensor<2> {
        self.relation_positions.mask(batch)
    }
}

impl Stage3Terms {
    /// Each term times its share.
    pub fn scaled(self, shares: TermShares) -> Self {
        Self {
            ce: self.ce * shares.ce,
            logits_kd: self.logits_kd.map(|t| t * shares.logits_kd),
            attention_kd: self.attention_kd.map(|t| t * shares.attention_kd),
        }
    }

    /// `L_CE + λ·L_LD + γ·L_AD` over the terms present.
    pub fn total(&self, objective: &Stage3Objective) -> Tensor<1> {
        let mut total = self.ce.clone();
        if let Some(ld) = &self.logits_kd {
            total = total + ld.clone() * objective.lambda;
        }
        if let Some(ad) = &self.attention_kd {
            total = total + ad.clone() * objective.gamma;
        }
        total
    }
}
