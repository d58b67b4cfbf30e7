//! Autoregressive generation with a KV cache, greedy or sampled, streaming each token to a callback.

mod batch;
mod burn_batch;
mod loaded;
mod request;
mod sampling;
mod translate;

use std::ops::ControlFlow;

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use batch::RowByRow;
pub(crate) use batch::RowSlots;
pub use batch::{BatchDecodeState, generate_batch};
use burn_batch::BurnBatch;
pub use loaded::{Engine, Loaded, LoadedModel, load_tokenizer, tokenizer_of};
pub use request::TranslationRequest;
pub use sampling::{Sampling, apply_repetition_penalty, argmax, candidate_distribution, sample};
pub use translate::{DEFAULT_BATCH_ROWS, Source, Translation, Translator, reply_stop_tokens};

use crate::model::{HunYuan, KvCache, RowCache};

/// How to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerationConfig {
    pub max_new_tokens: usize,
    /// Generation ends after emitting one of these.
    pub stop_tokens: Vec<u32>,
    /// `None` decodes greedily.
    pub sampling: Option<Sampling>,
    /// transformers' repetition penalty over prompt and output (1.0 = off; HY-MT recommends 1.05).
    pub repetition_penalty: f32,
    pub seed: u64,
    /// Reuse keys and values of earlier positions; off recomputes the whole sequence for every token.
    pub use_cache: bool,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        Self {
            max_new_tokens: 256,
            stop_tokens: Vec::new(),
            sampling: None,
            repetition_penalty: 1.0,
            seed: 0,
            use_cache: true,
        }
    }
}

impl GenerationConfig {
    /// HY-MT1.5's recommended sampling (top_k 20, top_p 0.6, repetition penalty 1.05, temperature 0.7).
    pub fn hy_mt_sampling(seed: u64) -> Self {
        Self {
            sampling: Some(Sampling::hy_mt()),
            repetition_penalty: 1.05,
            seed,
            ..Self::default()
        }
    }
}

/// A causal language model that generation, translation and evaluation drive: the burn model on any backend,
/// or the CPU engine of packed students.
pub trait LanguageModel {
    /// A fresh decoding state: the KV cache of one sequence.
    fn start(&self) -> Box<dyn DecodeState + '_>;

    /// A decoding state for `rows` sequences decoded together, each with its own KV cache. By default they are
    /// fed one after another; the burn model and the CPU engine run them in one pass.
    fn start_batch(&self, rows: usize) -> Box<dyn BatchDecodeState + '_> {
        Box::new(RowByRow(RowSlots::new(rows, || self.start())))
    }
}

/// One sequence being decoded.
pub trait DecodeState {
    /// Appends `ids` and returns the logits `[vocab]` of the last position.
    fn feed(&mut self, ids: &[u32]) -> Vec<f32>;
}

struct BurnDecode<'a> {
    model: &'a HunYuan,
    device: Device,
    cache: KvCache,
}

impl LanguageModel for HunYuan {
    fn start(&self) -> Box<dyn DecodeState + '_> {
        Box::new(BurnDecode {
            model: self,
            device: self.embed_tokens.val().device(),
            cache: KvCache::new(self.num_layers()),
        })
    }

    fn start_batch(&self, _rows: usize) -> Box<dyn BatchDecodeState + '_> {
        Box::new(BurnBatch {
            model: self,
            cache: RowCache::new(self.num_layers(), 0),
            rows: Vec::new(),
        })
    }
}

impl DecodeState for BurnDecode<'_> {
    fn feed(&mut self, ids: &[u32]) -> Vec<f32> {
        self.model
            .last_logits(ids_tensor(ids, &self.device), &mut self.cache)
            .into_data()
            .try_into_vec_as::<f32>()
            .expect("f32 logits")
    }
}

/// Generates after `prompt` (batch of one) and returns the new tokens, the stop token included if one
/// was hit. `on_token` sees each token as it is chosen and may end generation with `ControlFlow::Break`.
pub fn generate(
    model: &dyn LanguageModel,
    prompt: &[u32],
    config: &GenerationConfig,
    mut on_token: impl FnMut(u32) -> ControlFlow<()>,
) -> Vec<u32> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut context: Vec<u32> = prompt.to_vec();
    let mut state = model.start();
    // Positions of `context` already fed to `state`.
    let mut fed = 0;
    let mut generated = Vec::new();
    while generated.len() < config.max_new_tokens {
        if !config.use_cache {
            state = model.start();
            fed = 0;
        }
        let mut last = state.feed(&context[fed..]);
        let token = next_token(&mut last, &context, config, &mut rng);
        fed = context.len();
        generated.push(token);
        context.push(token);
        if config.stop_tokens.contains(&token) || on_token(token).is_break() {
            break;
        }
    }
    generated
}

/// The token `config` chooses after `context` from its last logits (penalised in place).
fn next_token(logits: &mut [f32], context: &[u32], config: &GenerationConfig, rng: &mut StdRng) -> u32 {
    apply_repetition_penalty(logits, context, config.repetition_penalty);
    match &config.sampling {
        Some(sampling) => sample(logits, sampling, rng),
        None => argmax(logits),
    }
}

/// `[1, T]` token ids.
pub fn ids_tensor(ids: &[u32], device: &Device) -> Tensor<2, Int> {
    let values: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
    Tensor::from_data(TensorData::new(values, [1, ids.len()]), device)
}
