//! Data parallelism inside one micro-batch: its rows are split into shards whose forward and backward passes
//! run at the same time on rayon's pool. burn's CPU backends spread only their matmuls over the cores and run
//! every element-wise op and most reductions on one thread (README, "Training throughput"), so one batch at a
//! time keeps about 1.2 of 2 cores busy; shards run those ops side by side.
//!
//! The same split spreads a batch over several devices (the run file's `devices`): each device holds a replica
//! of the student, forked from the main device's before every pass, and of the frozen teacher; its shards'
//! gradients are moved to the main device, where they are summed and the one optimizer step runs, so the replicas
//! never drift apart. burn's collectives (all-reduce) run on CUDA only; moving gradients works on every backend.
//!
//! Each shard weighs its terms by its share of the batch's positions ([`TermShares`]), so the shards' losses
//! and gradients add up to the whole batch's. The gradients are collected in shard order, which makes the sum
//! independent of thread timing: a run is reproducible for a given device list and shard count.

use std::ops::Range;

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use rayon::prelude::*;

use crate::backend::read_scalar;
use crate::data::TokenBatch;
use crate::distill::{Stage3Objective, Stage3Terms, TermShares};
use crate::error::Result;
use crate::model::HunYuan;

/// `count` contiguous row ranges of a batch of `rows`, sizes differing by at most one (fewer ranges when there
/// are fewer rows than shards).
pub fn shard_rows(rows: usize, count: usize) -> Vec<Range<usize>> {
    let count = count.clamp(1, rows.max(1));
    let (base, extra) = (rows / count, rows % count);
    let mut start = 0;
    (0..count)
        .map(|i| {
            let end = start + base + usize::from(i < extra);
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

/// The loss values of a micro-batch (already weighted by its share of the step); 0 for terms not computed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossValues {
    pub total: f64,
    pub ce: f64,
    pub logits_kd: f64,
    pub attention_kd: f64,
}

impl std::ops::AddAssign for LossValues {
    fn add_assign(&mut self, other: Self) {
        self.total += other.total;
        self.ce += other.ce;
        self.logits_kd += other.logits_kd;
        self.attention_kd += other.attention_kd;
    }
}

/// One device of a pass: where its shards run, the teacher there, and how many shards it takes.
pub struct Replica {
    pub device: Device,
    /// The frozen teacher on this device.
    pub teacher: HunYuan,
    pub shards: usize,
}

/// What every shard of a step computes with.
pub struct ShardedPass<'a> {
    pub objective: &'a Stage3Objective,
    /// The devices, the main one (the student's and the gradients') first.
    pub replicas: &'a [Replica],
    /// Whether the stage distils (uses the teacher).
    pub distilling: bool,
    /// Whether the relation term is computed.
    pub relations: bool,
    /// Positions per chunk of the vocabulary terms (`optim.vocab_chunk`; distill/chunked.rs); 0 = all at once.
    pub vocab_chunk: usize,
}

impl ShardedPass<'_> {
    /// Forward and backward of `batch` with its loss scaled by `weight`: the gradients of each shard, in shard
    /// order, and the loss values summed over the shards.
    pub fn run(
        &self,
        student: &HunYuan,
        batch: &TokenBatch,
        weight: f64,
    ) -> Result<(Vec<GradientsParams>, LossValues)> {
        // The replica of each shard: the first `shards` to the first device, and so on.
        let owners: Vec<&Replica> = self
            .replicas
            .iter()
            .flat_map(|replica| std::iter::repeat_n(replica, replica.shards.max(1)))
            .collect();
        let main = &self.replicas[0].device;
        let results: Vec<Result<(GradientsParams, LossValues)>> = shard_rows(batch.batch, owners.len())
            .into_iter()
            .zip(owners)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(rows, replica)| {
                let part = batch.rows(rows);
                let shares = self.objective.shares(&part, batch).times(weight);
                self.shard(student, replica, main, &part, shares)
            })
            .collect();
        let mut grads = Vec::with_capacity(results.len());
        let mut values = LossValues::default();
        for result in results {
            let (shard_grads, shard_values) = result?;
            grads.push(shard_grads);
            values += shard_values;
        }
        Ok((grads, values))
    }

    fn shard(
        &self,
        student: &HunYuan,
        replica: &Replica,
        main: &Device,
        part: &TokenBatch,
        shares: TermShares,
    ) -> Result<(GradientsParams, LossValues)> {
        // Leaves of its own: shards sharing parameter nodes would share one autodiff graph, whose backward
        // passes burn runs under one lock, one at a time. (Cloning a module copies handles, not weights; forking
        // to another device copies the weights there, same parameter ids.)
        let student = match &replica.device == main {
            true => student.clone().map(&mut FreshLeaves),
            false => student.clone().fork(&replica.device),
        };
        let teacher = self.distilling.then_some(&replica.teacher);
        let tensors = part.tensors(&replica.device);
        if self.vocab_chunk > 0 {
            let (grads, values) = self.objective.chunked_backward(
                &student,
                teacher,
                &tensors,
                self.relations,
                shares,
                self.vocab_chunk,
            )?;
            let values = LossValues {
                total: values.ce
                    + self.objective.lambda * values.logits_kd
                    + self.objective.gamma * values.attention_kd,
                ce: values.ce,
                logits_kd: values.logits_kd,
                attention_kd: values.attention_kd,
            };
            return Ok((self.on_main(grads, replica, main, &student), values));
        }
        let terms = self
            .objective
            .terms(&student, teacher, &tensors, self.relations)
            .scaled(shares);
        let total = terms.total(self.objective);
        let optional = |t: &Option<Tensor<1>>| t.clone().map(read_scalar).transpose().map(Option::unwrap_or_default);
        let Stage3Terms {
            ce,
            logits_kd,
            attention_kd,
        } = &terms;
        let values = LossValues {
            total: read_scalar(total.clone())?,
            ce: read_scalar(ce.clone())?,
            logits_kd: optional(logits_kd)?,
            attention_kd: optional(attention_kd)?,
        };
        let grads = GradientsParams::from_grads(total.backward(), &student);
        Ok((self.on_main(grads, replica, main, &student), values))
    }

    /// A replica's gradients moved to the main device.
    fn on_main(&self, grads: GradientsParams, replica: &Replica, main: &Device, student: &HunYuan) -> GradientsParams {
        match &replica.device == main {
            true => grads,
            false => grads.to_device(main, student),
        }
    }
}

/// Re-registers every trained parameter as a new autodiff leaf, same values and parameter ids.
struct FreshLeaves;

impl ModuleMapper for FreshLeaves {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| {
            if t.is_require_grad() {
                t.detach().require_grad()
            } else {
                t
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_row_once_in_order_and_balanced() {
        assert_eq!(shard_rows(8, 2), vec![0..4, 4..8]);
        assert_eq!(shard_rows(5, 2), vec![0..3, 3..5]);
        assert_eq!(shard_rows(7, 3), vec![0..3, 3..5, 5..7]);
        assert_eq!(shard_rows(2, 4), vec![0..1, 1..2]);
        assert_eq!(shard_rows(3, 0), vec![0..3]);
    }
}
