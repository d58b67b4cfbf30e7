//! Loading a model directory for a subcommand: the burn model on the chosen backend, or the ternary CPU engine
//! (always for packed exports), and the tokenizer when present.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::{CONFIG_FILE, Checkpoint};
use bitdistill::generate::{LanguageModel, Translator, reply_stop_tokens};
use bitdistill::infer::{NativeModel, load_native};
use bitdistill::model::{HunYuan, HunYuanConfig};
use bitdistill::tokenizer::{TOKENIZER_FILE, Tokenizer};

/// Which implementation runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The CPU engine for packed exports, burn for everything else.
    Auto,
    /// burn on `--backend` (not for packed exports).
    Burn,
    /// The CPU engine: f32 projections for a teacher, the ternary × int8 kernel for a student.
    Native,
}

/// Where a subcommand reads its model from.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Checkpoint directory (config.json + model.safetensors or a sharded index), student or packed export.
    #[arg(long)]
    pub model: PathBuf,
    /// Weights file inside the directory, instead of model.safetensors / the index (burn engine).
    #[arg(long)]
    pub weights: Option<String>,
    #[arg(long, value_enum, default_value_t = BackendKind::Ndarray)]
    pub backend: BackendKind,
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,
}

pub enum LoadedModel {
    Burn(HunYuan),
    Native(NativeModel),
}

pub struct Loaded {
    pub config: HunYuanConfig,
    pub model: LoadedModel,
    pub tokenizer: Option<Tokenizer>,
}

impl ModelArgs {
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let config = HunYuanConfig::from_file(&self.model.join(CONFIG_FILE))?;
        let packed = config.student.as_ref().is_some_and(|s| s.packing.is_some());
        let native = match self.engine {
            Engine::Auto => packed,
            Engine::Native => true,
            Engine::Burn => false,
        };
        let model = if native {
            anyhow::ensure!(self.weights.is_none(), "--weights is for the burn engine");
            LoadedModel::Native(load_native(&self.model)?)
        } else {
            let mut checkpoint = Checkpoint::open_with_weights(&self.model, self.weights.as_deref())?;
            LoadedModel::Burn(checkpoint.load_model(&self.backend.device())?.frozen_for_inference())
        };
        Ok(Loaded {
            config,
            model,
            tokenizer: load_tokenizer(&self.model)?,
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

    pub fn language_model(&self) -> &dyn LanguageModel {
        match &self.model {
            LoadedModel::Burn(model) => model,
            LoadedModel::Native(model) => model,
        }
    }

    /// The model as a translator (needs the directory's tokenizer).
    pub fn translator(&self) -> anyhow::Result<Translator<'_>> {
        Ok(Translator {
            model: self.language_model(),
            config: &self.config,
            tokenizer: self.tokenizer()?,
        })
    }

    pub fn tokenizer(&self) -> anyhow::Result<&Tokenizer> {
        self.tokenizer
            .as_ref()
            .context("this model directory has no tokenizer.json, so text cannot be encoded")
    }
}
