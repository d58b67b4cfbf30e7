//! The examples of each stage, built from the run file.

use std::path::Path;

use super::config::RunConfig;
use super::events::Stage;
use crate::data::{DataFiles, Example, pack_corpus, pair_example, parse_pairs};
use crate::error::Result;
use crate::tokenizer::Tokenizer;

/// Stage 2's packed corpus blocks, or Stage 3's formatted translation pairs.
pub fn stage_examples(
    stage: Stage,
    config: &RunConfig,
    data: &DataFiles,
    tokenizer: &Tokenizer,
    eos: u32,
) -> Result<Vec<Example>> {
    match stage {
        Stage::Pretrain => {
            let files: Vec<&Path> = config.stage2.corpus.iter().map(|p| p.as_path()).collect();
            pack_corpus(&files, data, tokenizer, eos, config.stage2.block_len)
        }
        Stage::Distill => {
            let stage3 = &config.stage3;
            let path = stage3.pairs.as_deref().expect("validated: Stage 3 has a pairs file");
            parse_pairs(path, &data.read_text(path)?, (&stage3.source_lang, &stage3.target_lang))?
                .iter()
                .map(|pair| pair_example(pair, tokenizer, stage3.max_len))
                .collect()
        }
    }
}

/// Optimizer steps of a stage.
pub fn stage_steps(stage: Stage, config: &RunConfig) -> usize {
    match stage {
        Stage::Pretrain => {
            let per_step = config.optim.batch_size * config.optim.grad_accum * config.stage2.block_len;
            config.stage2.tokens.div_ceil(per_step)
        }
        Stage::Distill => config.stage3.steps,
    }
}
