//! Loading a model directory for a subcommand: weights on the chosen backend, tokenizer when present.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use bitdistill::generate::{Translator, reply_stop_tokens};
use bitdistill::model::{HunYuan, HunYuanConfig};
use bitdistill::tokenizer::{TOKENIZER_FILE, Tokenizer};
use burn::tensor::Device;

/// Where a subcommand reads its model from.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Checkpoint directory (config.json + model.safetensors or a sharded index).
    #[arg(long)]
    pub model: PathBuf,
    /// Weights file inside the directory, instead of model.safetensors / the index.
    #[arg(long)]
    pub weights: Option<String>,
    #[arg(long, value_enum, default_value_t = BackendKind::Ndarray)]
    pub backend: BackendKind,
}

pub struct Loaded {
    pub config: HunYuanConfig,
    pub model: HunYuan,
    pub tokenizer: Option<Tokenizer>,
    pub device: Device,
}

impl ModelArgs {
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let device = self.backend.device();
        let mut checkpoint = Checkpoint::open_with_weights(&self.model, self.weights.as_deref())?;
        let model = checkpoint.load_model(&device)?.frozen_for_inference();
        Ok(Loaded {
            config: checkpoint.config.clone(),
            model,
            tokenizer: load_tokenizer(&self.model)?,
            device,
        })
    }
}

/// The directory's `tokenizer.json`, if it has one.
pub fn load_tokenizer(dir: &Path) -> anyhow::Result<Option<Tokenizer>> {
    let path = dir.join(TOKENIZER_FILE);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(
        Tokenizer::from_file(&path).with_context(|| "loading the tokenizer")?,
    ))
}

impl Loaded {
    pub fn stop_tokens(&self) -> Vec<u32> {
        reply_stop_tokens(&self.config, self.tokenizer.as_ref())
    }

    /// The model as a translator (needs the directory's tokenizer).
    pub fn translator(&self) -> anyhow::Result<Translator<'_>> {
        Ok(Translator {
            model: &self.model,
            config: &self.config,
            tokenizer: self.tokenizer()?,
            device: &self.device,
        })
    }

    pub fn tokenizer(&self) -> anyhow::Result<&Tokenizer> {
        self.tokenizer
            .as_ref()
            .context("this model directory has no tokenizer.json, so text cannot be encoded")
    }
}
