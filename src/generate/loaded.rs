//! A model directory opened for generation: the burn model on a backend, or the ternary CPU engine (always for
//! packed exports), and the tokenizer when present. The CLI's model commands and the app's Translate panel share
//! this.

use std::path::Path;

use super::{LanguageModel, Translator, reply_stop_tokens};
use crate::backend::BackendKind;
use crate::checkpoint::{Checkpoint, ModelFiles, read_config};
use crate::error::{Error, Result};
use crate::infer::{NativeModel, load_native_files};
use crate::model::{HunYuan, HunYuanConfig};
use crate::tokenizer::{TOKENIZER_FILE, Tokenizer};

/// Which implementation runs the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
pub enum Engine {
    /// The CPU engine for packed exports, burn for everything else.
    #[default]
    Auto,
    /// burn on the chosen backend (not for packed exports).
    Burn,
    /// The CPU engine: f32 projections for a teacher, the ternary × int8 kernel for a student.
    Native,
}

// One per opened model, so the size difference of the variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum LoadedModel {
    Burn(HunYuan),
    Native(NativeModel),
}

pub struct Loaded {
    pub config: HunYuanConfig,
    pub model: LoadedModel,
    pub tokenizer: Option<Tokenizer>,
    /// What runs the model, in words ("burn (Flex)", "ternary CPU engine"): the app shows it with the rate.
    pub engine: &'static str,
}

impl Loaded {
    /// Opens `dir` (`weights`: a file inside it instead of model.safetensors / the index, burn engine only).
    pub fn open(dir: &Path, weights: Option<&str>, engine: Engine, backend: BackendKind) -> Result<Self> {
        Self::from_files(&ModelFiles::dir(dir), weights, engine, backend)
    }

    /// Opens a model directory's files, on disk or in memory (the browser's fetched models), as [`Loaded::open`].
    pub fn from_files(files: &ModelFiles, weights: Option<&str>, engine: Engine, backend: BackendKind) -> Result<Self> {
        let config = read_config(files)?;
        let packed = config.student.as_ref().is_some_and(|s| s.packing.is_some());
        let native = match engine {
            Engine::Auto => packed,
            Engine::Native => true,
            Engine::Burn => false,
        };
        let engine = match (native, config.student.is_some()) {
            (true, true) => "ternary CPU engine",
            (true, false) => "CPU engine (f32)",
            (false, _) => backend.burn_label(),
        };
        let model = if native {
            if weights.is_some() {
                return Err(Error::Invalid(format!(
                    "{}: a weights file can only be chosen for the burn engine",
                    files.root().display()
                )));
            }
            LoadedModel::Native(load_native_files(files)?)
        } else {
            let mut checkpoint = Checkpoint::from_files(files, weights)?;
            LoadedModel::Burn(checkpoint.load_model(&backend.device())?.frozen_for_inference())
        };
        Ok(Self {
            config,
            model,
            tokenizer: tokenizer_of(files)?,
            engine,
        })
    }

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
    pub fn translator(&self) -> Result<Translator<'_>> {
        Ok(Translator {
            model: self.language_model(),
            config: &self.config,
            tokenizer: self.tokenizer()?,
        })
    }

    pub fn tokenizer(&self) -> Result<&Tokenizer> {
        self.tokenizer.as_ref().ok_or_else(|| {
            Error::Invalid("this model directory has no tokenizer.json, so text cannot be encoded".into())
        })
    }
}

/// The directory's `tokenizer.json`, if it has one.
pub fn load_tokenizer(dir: &Path) -> Result<Option<Tokenizer>> {
    tokenizer_of(&ModelFiles::dir(dir))
}

/// The `tokenizer.json` among a model directory's files, if there is one.
pub fn tokenizer_of(files: &ModelFiles) -> Result<Option<Tokenizer>> {
    if !files.contains(TOKENIZER_FILE) {
        return Ok(None);
    }
    Tokenizer::from_bytes(&files.read(TOKENIZER_FILE)?, &files.path(TOKENIZER_FILE)).map(Some)
}
