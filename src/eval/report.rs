//! Evaluating a translator on a test set: hypotheses, sacreBLEU-equal scores per language pair, placeholder
//! preservation and speed.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{Tokenize, corpus_scores, placeholder_rate};
use crate::data::Pair;
use crate::error::Result;
use crate::generate::{GenerationConfig, Source, Translator};
use crate::prompt::{Language, PromptKind};

/// Scores of one language pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairScores {
    pub sentences: usize,
    pub tokenize: Tokenize,
    pub bleu: f64,
    pub chrf: f64,
    pub chrf_pp: f64,
    /// Share of sources with placeholders whose translation keeps exactly the same ones.
    pub placeholder_rate: Option<f64>,
}

/// Everything `eval` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    /// Keyed `en-pt`, `en-zh`, ...
    pub pairs: BTreeMap<String, PairScores>,
    pub hypotheses: Vec<String>,
    pub generated_tokens: usize,
    pub seconds: f64,
    pub tokens_per_s: f64,
}

/// sacreBLEU's tokenizer choice by target language: `zh` for Chinese; `char` stands in for Japanese and
/// Korean (sacreBLEU's MeCab tokenizers are not available here); `13a` otherwise.
pub fn tokenize_for(target: &Language) -> Tokenize {
    match target.code {
        "zh" | "zh-Hant" | "yue" => Tokenize::Zh,
        "ja" | "ko" => Tokenize::Char,
        _ => Tokenize::Thirteen,
    }
}

/// Translates every pair (greedy unless `generation` samples), `rows` sentences decoded together, and scores
/// the result. `on_progress` sees how many are done and the latest translation.
pub fn evaluate(
    translator: &Translator,
    pairs: &[Pair],
    generation: &GenerationConfig,
    rows: usize,
    mut on_progress: impl FnMut(usize, &str),
) -> Result<EvalReport> {
    let started = Instant::now();
    let sources: Vec<Source> = pairs
        .iter()
        .map(|pair| Source {
            text: &pair.source,
            from: Some(pair.source_lang),
            to: pair.target_lang,
        })
        .collect();
    let mut done = 0;
    let translations = translator.translate_batch(&sources, &PromptKind::Plain, generation, rows, |_, t| {
        done += 1;
        on_progress(done, &t.text);
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let generated_tokens = translations.iter().map(|t| t.tokens).sum();
    let hypotheses: Vec<String> = translations.into_iter().map(|t| t.text).collect();

    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, pair) in pairs.iter().enumerate() {
        groups
            .entry(format!("{}-{}", pair.source_lang.code, pair.target_lang.code))
            .or_default()
            .push(index);
    }
    let scores = groups
        .into_iter()
        .map(|(key, indices)| {
            let target = pairs[indices[0]].target_lang;
            let tokenize = tokenize_for(target);
            let hyps: Vec<String> = indices.iter().map(|&i| hypotheses[i].clone()).collect();
            let refs: Vec<String> = indices.iter().map(|&i| pairs[i].target.clone()).collect();
            let sources: Vec<String> = indices.iter().map(|&i| pairs[i].source.clone()).collect();
            let corpus = corpus_scores(&hyps, &[refs], tokenize);
            let scores = PairScores {
                sentences: indices.len(),
                tokenize,
                bleu: corpus.bleu,
                chrf: corpus.chrf,
                chrf_pp: corpus.chrf_pp,
                placeholder_rate: placeholder_rate(&sources, &hyps),
            };
            (key, scores)
        })
        .collect();
    Ok(EvalReport {
        pairs: scores,
        hypotheses,
        generated_tokens,
        seconds,
        tokens_per_s: generated_tokens as f64 / seconds.max(1e-9),
    })
}
