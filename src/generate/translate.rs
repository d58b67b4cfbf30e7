//! Translating with HY-MT's prompt templates: the one path the CLI, evaluation and the GUI share.

use std::ops::ControlFlow;

use super::{GenerationConfig, LanguageModel, generate, generate_batch};
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

/// One sentence of a batch to translate.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub text: &'a str,
    pub from: Option<&'a Language>,
    pub to: &'a Language,
}

/// How many sentences [`Translator::translate_batch`] decodes together unless told otherwise: 64 made the bundled
/// teacher's 100-sentence evaluation 3.4× faster than one at a time on burn's CPU backend (`bench eval`,
/// README), where 16 gave 2.8×.
pub const DEFAULT_BATCH_ROWS: usize = 64;

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

    /// Translates every source, up to `rows` decoded together (1: one after another through
    /// [`Translator::translate`]); each translation is the one `translate` gives alone. Sentences join the
    /// batch shortest prompt first (similar lengths, less left padding); `on_done` sees each translation, by
    /// source index, as its row stops.
    pub fn translate_batch(
        &self,
        sources: &[Source],
        kind: &PromptKind,
        generation: &GenerationConfig,
        rows: usize,
        mut on_done: impl FnMut(usize, &Translation),
    ) -> Result<Vec<Translation>> {
        let mut translations = vec![None; sources.len()];
        if rows <= 1 {
            for (index, source) in sources.iter().enumerate() {
                let translation = self.translate(source.text, source.from, source.to, kind, generation, |_| {})?;
                on_done(index, &translation);
                translations[index] = Some(translation);
            }
            return Ok(translations.into_iter().flatten().collect());
        }
        let prompts = sources
            .iter()
            .map(|source| {
                self.tokenizer
                    .encode_chat(None, &translation_prompt(source.text, source.from, source.to, kind))
            })
            .collect::<Result<Vec<_>>>()?;
        let stops = self.stop_tokens();
        let config = GenerationConfig {
            stop_tokens: stops.clone(),
            ..generation.clone()
        };
        let mut order: Vec<usize> = (0..sources.len()).collect();
        order.sort_by_key(|&index| prompts[index].len());
        let sorted: Vec<Vec<u32>> = order.iter().map(|&index| prompts[index].clone()).collect();
        let mut failure = None;
        generate_batch(self.model, &sorted, &config, rows, |row, tokens| {
            let emitted: Vec<u32> = tokens.iter().copied().filter(|t| !stops.contains(t)).collect();
            match self.tokenizer.decode(&emitted) {
                Ok(text) => {
                    let translation = Translation {
                        text: text.trim().to_string(),
                        tokens: tokens.len(),
                    };
                    on_done(order[row], &translation);
                    translations[order[row]] = Some(translation);
                }
                Err(error) => failure = failure.take().or(Some(error)),
            }
        });
        if let Some(error) = failure {
            return Err(error);
        }
        Ok(translations
            .into_iter()
            .map(|t| t.expect("every row finishes"))
            .collect())
    }
}
