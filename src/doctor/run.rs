//! A run file's memory estimate: the shape of each stage's steps, and the larger of their peaks.

use serde::Serialize;

use super::estimate::{MemoryEstimate, StepShape, estimate_step};
use crate::data::{pair_example, read_pairs};
use crate::error::Result;
use crate::model::HunYuanConfig;
use crate::tokenizer::Tokenizer;
use crate::train::{Method, RunConfig};

#[derive(Clone, Debug, Serialize)]
pub struct RunEstimate {
    /// Stage 2's step (absent when the run has no Stage 2).
    pub stage2: Option<MemoryEstimate>,
    pub stage3: Option<MemoryEstimate>,
    /// Rows in flight at once: the micro-batch (`optim.batch_size`); its length per stage.
    pub batch: usize,
    pub stage2_len: usize,
    /// The longest Stage-3 pair after the template, capped at `stage3.max_len`: every batch pads to at most this.
    pub stage3_len: usize,
}

impl RunEstimate {
    /// The larger of the two stages' peaks.
    pub fn peak(&self) -> Option<&MemoryEstimate> {
        [&self.stage2, &self.stage3]
            .into_iter()
            .flatten()
            .max_by_key(|e| e.total)
    }
}

/// The longest Stage-3 pair of `config` after the template, capped at `stage3.max_len` (0 without Stage 3).
pub fn stage3_longest(config: &RunConfig, tokenizer: &Tokenizer) -> Result<usize> {
    let s3 = &config.stage3;
    let (true, Some(pairs)) = (s3.steps > 0, &s3.pairs) else {
        return Ok(0);
    };
    let mut longest = 0;
    for pair in read_pairs(pairs, (&s3.source_lang, &s3.target_lang))? {
        longest = longest.max(pair_example(&pair, tokenizer, s3.max_len)?.tokens.len() - 1);
    }
    Ok(longest)
}

/// Estimates `config` with its teacher's `model` config; `stage3_len` from [`stage3_longest`], `baseline` the
/// process's own resident memory before it loads anything.
pub fn estimate_run(config: &RunConfig, model: &HunYuanConfig, stage3_len: usize, baseline: u64) -> RunEstimate {
    let batch = config.optim.batch_size;
    let shards = config.optim.shards_on(config.backend);
    let has_stage2 = config.method != Method::BitnetSft && config.stage2.tokens > 0;
    let stage2 = has_stage2.then(|| {
        let shape = StepShape {
            batch,
            len: config.stage2.block_len,
            shards,
            distill: false,
            relation_heads: None,
        };
        estimate_step(model, shape, baseline)
    });
    let s3 = &config.stage3;
    let stage3 = (s3.steps > 0 && stage3_len > 0).then(|| {
        let distill = config.method == Method::Bitdistill;
        let shape = StepShape {
            batch,
            len: stage3_len,
            shards,
            distill,
            relation_heads: (distill && s3.gamma > 0.0).then_some(s3.relation_heads),
        };
        estimate_step(model, shape, baseline)
    });
    RunEstimate {
        stage2,
        stage3,
        batch,
        stage2_len: config.stage2.block_len,
        stage3_len,
    }
}
