//! `bitdistill eval`: translate a test set with a teacher or student directory and score it.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use bitdistill::data::read_pairs;
use bitdistill::eval::evaluate;
use bitdistill::generate::{DEFAULT_BATCH_ROWS, GenerationConfig};
use bitdistill::train::short_duration;

use super::loaded::ModelArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Test pairs (.jsonl with source_lang/target_lang, or .tsv with --source-lang/--target-lang).
    #[arg(long)]
    test: PathBuf,
    #[arg(long, default_value = "en")]
    source_lang: String,
    #[arg(long, default_value = "pt")]
    target_lang: String,
    /// Evaluate only the first N pairs.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, default_value_t = 128)]
    max_new_tokens: usize,
    /// Sentences decoded together (1: one at a time); each translation is the same either way.
    #[arg(long, default_value_t = DEFAULT_BATCH_ROWS)]
    batch_size: usize,
    /// Write the hypotheses here, one per line.
    #[arg(long)]
    hypotheses: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut pairs = read_pairs(&args.test, (&args.source_lang, &args.target_lang))?;
    pairs.truncate(args.limit.unwrap_or(usize::MAX));
    let loaded = args.model.load()?;
    let translator = loaded.translator()?;
    let generation = GenerationConfig {
        max_new_tokens: args.max_new_tokens,
        ..GenerationConfig::default()
    };
    let progress = TranslationProgress::new(pairs.len());
    let report = evaluate(&translator, &pairs, &generation, args.batch_size, |done, _| {
        progress.show(done)
    })?;
    progress.finish();
    if let Some(path) = &args.hypotheses {
        std::fs::write(path, report.hypotheses.join("\n") + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let model_bytes = stored_bytes(&args.model.model)?;
    if args.json {
        let mut json = serde_json::to_value(&report)?;
        json.as_object_mut().map(|o| o.remove("hypotheses"));
        json["model_bytes"] = model_bytes.into();
        println!("{json}");
        return Ok(());
    }
    for (pair, scores) in &report.pairs {
        let rate = scores
            .placeholder_rate
            .map_or("-".into(), |r| format!("{:.1}%", 100.0 * r));
        println!(
            "{pair}: {} sentences  BLEU {:.2}  chrF {:.2}  chrF++ {:.2}  placeholders kept {rate}  (tok:{})",
            scores.sentences,
            scores.bleu,
            scores.chrf,
            scores.chrf_pp,
            scores.tokenize.name()
        );
    }
    println!(
        "{:.1} generated tokens/s; model files {} bytes",
        report.tokens_per_s, model_bytes
    );
    Ok(())
}

/// The line a long translation job keeps on stderr: sentences done, rate and ETA.
pub struct TranslationProgress {
    total: usize,
    started: Instant,
}

impl TranslationProgress {
    pub fn new(total: usize) -> Self {
        Self {
            total,
            started: Instant::now(),
        }
    }

    pub fn show(&self, done: usize) {
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let left = Duration::from_secs_f64(self.total.saturating_sub(done) as f64 / rate.max(1e-9));
        let _ = write!(
            std::io::stderr(),
            "\rtranslated {done}/{}  {rate:.1} sentences/s  ETA {}   ",
            self.total,
            short_duration(left)
        );
    }

    pub fn finish(&self) {
        let _ = writeln!(std::io::stderr());
    }
}

/// Bytes of the weight files in a model directory.
fn stored_bytes(dir: &std::path::Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "safetensors") {
            total += path.metadata()?.len();
        }
    }
    Ok(total)
}
