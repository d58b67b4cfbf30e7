//! `bitdistill generate`: prints prompt and output ids (and text when a tokenizer is present) as JSON.

use std::ops::ControlFlow;

use anyhow::Context;
use bitdistill::generate::{GenerationConfig, Sampling, generate};

use super::loaded::ModelArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Comma-separated prompt token ids, used as they are.
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "prompt",
        required_unless_present = "prompt"
    )]
    prompt_ids: Option<Vec<u32>>,
    /// Prompt text, wrapped in HY-MT's chat template.
    #[arg(long)]
    prompt: Option<String>,
    /// System prompt for the chat template.
    #[arg(long, requires = "prompt")]
    system: Option<String>,
    #[command(flatten)]
    decoding: DecodingArgs,
}

/// Decoding settings shared by `generate` and `translate`.
#[derive(clap::Args)]
pub struct DecodingArgs {
    #[arg(long, default_value_t = 256)]
    pub max_new_tokens: usize,
    /// Sample instead of greedy decoding (defaults: HY-MT's top_k 20, top_p 0.6, temperature 0.7).
    #[arg(long)]
    pub sample: bool,
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f32,
    #[arg(long, default_value_t = 20)]
    pub top_k: usize,
    #[arg(long, default_value_t = 0.6)]
    pub top_p: f32,
    /// 1.0 disables it; HY-MT recommends 1.05 when sampling.
    #[arg(long, default_value_t = 1.0)]
    pub repetition_penalty: f32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Recompute the whole sequence for every token instead of using the KV cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Keep generating past end-of-sequence tokens.
    #[arg(long)]
    pub ignore_eos: bool,
}

impl DecodingArgs {
    pub fn config(&self, stop_tokens: Vec<u32>) -> GenerationConfig {
        GenerationConfig {
            max_new_tokens: self.max_new_tokens,
            stop_tokens: if self.ignore_eos { Vec::new() } else { stop_tokens },
            sampling: self.sample.then_some(Sampling {
                temperature: self.temperature,
                top_k: self.top_k,
                top_p: self.top_p,
            }),
            repetition_penalty: self.repetition_penalty,
            seed: self.seed,
            use_cache: !self.no_cache,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = args.model.load()?;
    let prompt_ids = match (&args.prompt_ids, &args.prompt) {
        (Some(ids), _) => ids.clone(),
        (None, Some(text)) => loaded.tokenizer()?.encode_chat(args.system.as_deref(), text)?,
        (None, None) => anyhow::bail!("give --prompt-ids or --prompt"),
    };
    anyhow::ensure!(
        !prompt_ids.is_empty(),
        "the prompt is empty: generation needs at least one token"
    );
    let vocab = loaded.config.vocab_size as u32;
    if let Some(bad) = prompt_ids.iter().find(|&&id| id >= vocab) {
        anyhow::bail!("prompt token id {bad} is outside the vocabulary (0..{vocab})");
    }
    let config = args.decoding.config(loaded.stop_tokens());
    let output = generate(loaded.language_model(), &prompt_ids, &config, |_| {
        ControlFlow::Continue(())
    });
    let mut json = serde_json::json!({ "prompt_ids": prompt_ids, "output_ids": output });
    if let Some(tokenizer) = &loaded.tokenizer {
        json["text"] = tokenizer.decode(&output).context("decoding the output")?.into();
    }
    println!("{json}");
    Ok(())
}
