//! Translating with HY-MT's prompt templates: the one path the CLI, evaluation and the GUI share.

use std::ops::ControlFlow;

use super::{GenerationConfig, LanguageModel, generate};
use crate::error::Result;
use crate::model::HunYuanConfig;
use crate::prompt::{Language, PromptKind, translation_prompt};
use crate::tokenizer::Tokenizer;

/// A model ready to translate: weights, tokenizer and the ids that end a reply.
pub struct Translator<'a> {
    pub model: &'a dyn LanguageModel,
    pub config: &'a HunYuanConfig,
    pub tokenizer: &'a Tokenizer,
}

/// One translation and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Translation {
    pub text: String,
    /// Tokens generated, the end-of-reply token included.
    pub tokens: usize,
}

/// Tokens that end a reply: the config's eos ids and, with a tokenizer, the chat template's end-of-reply.
pub fn reply_stop_tokens(config: &HunYuanConfig, tokenizer: Option<&Tokenizer>) -> Vec<u32> {
    let mut stops = config.eos_token_ids.clone();
    stops.extend(tokenizer.map(|t| t.chat.end_of_reply));
    stops
}

impl Translator<'_> {
    pub fn stop_tokens(&self) -> Vec<u32> {
        reply_stop_tokens(self.config, Some(self.tokenizer))
    }

    /// Translates `source`; `on_text` sees the growing translation after every token that adds text
    /// (byte-level BPE may need several tokens for one character).
    pub fn translate(
        &self,
        source: &str,
        from: Option<&Language>,
        to: &Language,
        kind: &PromptKind,
        generation: &GenerationConfig,
        mut on_text: impl FnMut(&str),
    ) -> Result<Translation> {
        let prompt = self
            .tokenizer
            .encode_chat(None, &translation_prompt(source, from, to, kind))?;
        let stops = self.stop_tokens();
        let config = GenerationConfig {
            stop_tokens: stops.clone(),
            ..generation.clone()
        };
        let mut emitted = Vec::new();
        let mut shown = String::new();
        let generated = generate(self.model, &prompt, &config, |token| {
            if !stops.contains(&token) {
                emitted.push(token);
            }
            if let Ok(text) = self.tokenizer.decode(&emitted)
                && text != shown
                && !text.ends_with('\u{fffd}')
            {
                shown = text;
                on_text(&shown);
            }
            ControlFlow::Continue(())
        });
        Ok(Translation {
            text: self.tokenizer.decode(&emitted)?.trim().to_string(),
            tokens: generated.len(),
        })
    }
}
