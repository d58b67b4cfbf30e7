//! A translation as the app asks for it, in a form that crosses threads and the browser's worker boundary:
//! languages by code, the prompt template, the generation settings.

use web_time::Instant;

use serde::{Deserialize, Serialize};

use super::{GenerationConfig, Loaded, Translation};
use crate::error::{Error, Result};
use crate::prompt::{PromptKind, language};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranslationRequest {
    pub source: String,
    /// The source language's code; `None` lets the text decide (Han characters select the Chinese template).
    pub from: Option<String>,
    pub to: String,
    pub kind: PromptKind,
    pub generation: GenerationConfig,
}

impl TranslationRequest {
    /// Translates with `loaded`; `on_text` sees the growing translation. Also returns the seconds spent
    /// generating.
    pub fn run(&self, loaded: &Loaded, on_text: impl FnMut(&str)) -> Result<(Translation, f64)> {
        let to = language(&self.to).ok_or_else(|| Error::Invalid(format!("unknown target language `{}`", self.to)))?;
        let from = match &self.from {
            Some(code) => {
                Some(language(code).ok_or_else(|| Error::Invalid(format!("unknown source language `{code}`")))?)
            }
            None => None,
        };
        let started = Instant::now();
        let translation =
            loaded
                .translator()?
                .translate(&self.source, from, to, &self.kind, &self.generation, on_text)?;
        Ok((translation, started.elapsed().as_secs_f64()))
    }
}
