//! `bitdistill eval`: translate a test set with a teacher or student directory and score it.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use bitdistill::data::read_pairs;
use bitdistill::eval::evaluate;
use bitdistill::generate::GenerationConfig;
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
    let total = pairs.len();
    let mut stderr = std::io::stderr();
    let started = Instant::now();
    let report = evaluate(&translator, &pairs, &generation, |done, _| {
        let seconds = started.elapsed().as_secs_f64();
        let rate = done as f64 / seconds.max(1e-9);
        let left = Duration::from_secs_f64(total.saturating_sub(done) as f64 / rate.max(1e-9));
        let _ = write!(
            stderr,
            "\rtranslated {done}/{total}  {rate:.1} pairs/s  ETA {}   ",
            short_duration(left)
        );
    })?;
    let _ = writeln!(stderr);
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
