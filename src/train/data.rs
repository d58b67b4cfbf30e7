//! The examples of each stage, built from the run file: Stage 2's packed blocks (from the on-disk token cache
//! when the run writes to disk, else packed in memory) or Stage 3's formatted translation pairs.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::config::RunConfig;
use super::events::{Stage, TrainEvent};
use super::files::RunFiles;
use crate::data::{DataFiles, EpochSampler, Example, PackedBlocks, pack_corpus, pair_example, parse_pairs};
use crate::error::Result;
use crate::model::HunYuanConfig;
use crate::tokenizer::Tokenizer;

/// A stage's examples, addressed by index.
pub enum StageExamples {
    /// Stage 2: blocks of one length, read on demand.
    Blocks(PackedBlocks),
    /// Stage 3: formatted pairs, all in memory.
    Listed(Vec<Example>),
}

impl StageExamples {
    pub fn get(&self, index: usize) -> Cow<'_, Example> {
        match self {
            Self::Blocks(blocks) => Cow::Owned(blocks.example(index)),
            Self::Listed(examples) => Cow::Borrowed(&examples[index]),
        }
    }

    /// The data order: Stage 2's blocks all have one length and may be millions, so a shuffle without a table;
    /// Stage 3's pairs in batches of similar lengths.
    pub fn sampler(&self, seed: u64, config: &RunConfig) -> EpochSampler {
        match self {
            Self::Blocks(blocks) => EpochSampler::without_table(seed, blocks.len()),
            Self::Listed(examples) => EpochSampler::grouped_by_length(
                seed,
                examples.iter().map(|e| e.tokens.len()).collect(),
                config.optim.batch_size,
                config.stage3.length_pool,
            ),
        }
    }
}

/// Stage 2's packed corpus blocks, or Stage 3's formatted translation pairs. `emit` hears how the token
/// cache is coming along.
pub fn stage_examples(
    stage: Stage,
    config: &RunConfig,
    files: &RunFiles,
    tokenizer: &Tokenizer,
    eos: u32,
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<StageExamples> {
    match stage {
        Stage::Pretrain => stage2_blocks(config, files, tokenizer, eos, emit).map(StageExamples::Blocks),
        Stage::Distill => {
            let stage3 = &config.stage3;
            let path = stage3.pairs.as_deref().expect("validated: Stage 3 has a pairs file");
            let langs = (stage3.source_lang.as_str(), stage3.target_lang.as_str());
            let pairs = match &files.data {
                DataFiles::Disk => crate::data::read_pairs(path, langs)?,
                data => parse_pairs(path, &data.read_text(path)?, langs)?,
            };
            pairs
                .iter()
                .map(|pair| pair_example(pair, tokenizer, stage3.max_len))
                .collect::<Result<_>>()
                .map(StageExamples::Listed)
        }
    }
}

/// The corpus files of Stage 2: globs expanded on disk; the paths as given in memory.
fn corpus_files(config: &RunConfig, data: &DataFiles) -> Result<Vec<PathBuf>> {
    match data {
        #[cfg(not(target_arch = "wasm32"))]
        DataFiles::Disk => crate::data::expand_corpus(&config.stage2.corpus),
        _ => Ok(config.stage2.corpus.clone()),
    }
}

#[cfg_attr(target_arch = "wasm32", allow(unused_variables))]
fn stage2_blocks(
    config: &RunConfig,
    files: &RunFiles,
    tokenizer: &Tokenizer,
    eos: u32,
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<PackedBlocks> {
    let stage2 = &config.stage2;
    #[cfg(not(target_arch = "wasm32"))]
    if matches!(files.data, DataFiles::Disk) && files.writes_out {
        return cached_blocks(config, emit);
    }
    let corpus = corpus_files(config, &files.data)?;
    let paths: Vec<&Path> = corpus.iter().map(PathBuf::as_path).collect();
    pack_corpus(
        &paths,
        &files.data,
        tokenizer,
        eos,
        stage2.block_len,
        &stage2.text_field,
    )
}

/// Stage 2's blocks read from the token cache, which is built first when the corpus or tokenizer changed; the
/// same cache `bitdistill corpus cache --config` builds for this run file.
#[cfg(not(target_arch = "wasm32"))]
fn cached_blocks(config: &RunConfig, emit: &mut dyn FnMut(TrainEvent)) -> Result<PackedBlocks> {
    use crate::data::{TokenStream, file_list};

    let stage2 = &config.stage2;
    let dir = stage2.cache_dir(&config.out);
    let (cache, built) = stage2_cache(
        &config.teacher,
        &stage2.corpus,
        &stage2.text_field,
        &dir,
        &mut |progress| emit(TrainEvent::Tokenizing(*progress)),
    )?;
    let index = cache.index();
    emit(TrainEvent::Notice {
        message: format!(
            "token cache {}: {} tokens of {} documents in {} shard(s) ({})",
            dir.display(),
            index.tokens,
            index.documents,
            index.shards.len(),
            if built {
                "built now"
            } else {
                "reused: corpus and tokenizer unchanged"
            }
        ),
    });
    let paths: Vec<&Path> = index.key.files.iter().map(|f| f.path.as_path()).collect();
    let sources = file_list(&paths);
    PackedBlocks::new(TokenStream::Cache(cache), stage2.block_len, &sources)
}

/// The token that ends each Stage-2 document: the model's first end-of-sequence id, else the chat template's
/// end of reply.
pub fn document_separator(config: &HunYuanConfig, tokenizer: &Tokenizer) -> u32 {
    config
        .eos_token_ids
        .first()
        .copied()
        .unwrap_or(tokenizer.chat.end_of_reply)
}

/// Builds (or finds up to date) the token cache of the Stage-2 corpus `entries` (files or globs) for the
/// teacher in `teacher`, as a run with this teacher would: `bitdistill corpus cache`.
#[cfg(not(target_arch = "wasm32"))]
pub fn stage2_cache(
    teacher: &Path,
    entries: &[PathBuf],
    text_field: &str,
    dir: &Path,
    progress: &mut dyn FnMut(&crate::data::CacheProgress),
) -> Result<(crate::data::TokenCache, bool)> {
    use crate::data::token_cache::{CacheSource, open_or_build};
    let tokenizer_path = teacher.join(crate::tokenizer::TOKENIZER_FILE);
    let tokenizer_bytes = std::fs::read(&tokenizer_path).map_err(|e| crate::error::Error::io(&tokenizer_path, e))?;
    let tokenizer = Tokenizer::from_bytes(&tokenizer_bytes, &tokenizer_path)?;
    let config = HunYuanConfig::from_file(&teacher.join("config.json"))?;
    let source = CacheSource {
        files: crate::data::expand_corpus(entries)?,
        text_field,
        tokenizer: &tokenizer,
        tokenizer_bytes: &tokenizer_bytes,
        eos: document_separator(&config, &tokenizer),
    };
    open_or_build(dir, &source, progress)
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
