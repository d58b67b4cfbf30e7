//! The activation probe: the error of int8-quantizing each token of a sentence at every layer's attention input
//! (`attention_input_errors`), on a model and tokenizer loaded once from a model directory's files, so the desktop
//! app's background thread and the page's worker measure alike.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::snapshot::attention_input_errors;
use crate::backend::BackendKind;
use crate::checkpoint::{Checkpoint, ModelFiles};
use crate::error::{Error, Result};
use crate::generate::tokenizer_of;
use crate::model::HunYuan;
use crate::tokenizer::Tokenizer;

/// One measurement: token labels and `[layer][token]` relative errors ‖x − int8(x)‖/‖x‖.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationErrors {
    pub tokens: Vec<String>,
    pub errors: Vec<Vec<f64>>,
}

/// A model on the CPU backend with its tokenizer, kept for the next sentence.
pub struct ProbeModel {
    root: PathBuf,
    model: HunYuan,
    tokenizer: Tokenizer,
}

impl ProbeModel {
    pub fn from_files(files: &ModelFiles) -> Result<Self> {
        let tokenizer = tokenizer_of(files)?
            .ok_or_else(|| Error::config(files.root(), "no tokenizer.json to encode the sentence with"))?;
        let model = Checkpoint::from_files(files, None)?.load_model(&BackendKind::Flex.device())?;
        Ok(Self {
            root: files.root().to_path_buf(),
            model,
            tokenizer,
        })
    }

    /// The directory (or URL) the model came from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn measure(&self, sentence: &str) -> Result<ActivationErrors> {
        let ids = self.tokenizer.encode(sentence)?;
        if ids.is_empty() {
            return Err(Error::Invalid("type a sentence first".into()));
        }
        let errors = attention_input_errors(&self.model, &ids, &BackendKind::Flex.device());
        Ok(ActivationErrors {
            tokens: self.tokenizer.pieces(&ids),
            errors,
        })
    }
}
