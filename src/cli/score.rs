//! `bitdistill score`: sacreBLEU-equal corpus BLEU, chrF and chrF++ of a hypothesis file (one sentence a line).

use std::path::{Path, PathBuf};

use anyhow::Context;
use bitdistill::eval::{Tokenize, corpus_scores};

#[derive(clap::Args)]
pub struct Args {
    /// Hypotheses, one per line.
    #[arg(long)]
    hyp: PathBuf,
    /// References, one per line; repeat for several reference sets.
    #[arg(long = "ref", required = true)]
    references: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Tokenize::Thirteen)]
    tokenize: Tokenize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn read_lines(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().map(str::to_string).collect())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let hypotheses = read_lines(&args.hyp)?;
    let mut references = Vec::new();
    for path in &args.references {
        let lines = read_lines(path)?;
        anyhow::ensure!(
            lines.len() == hypotheses.len(),
            "{} has {} lines but {} has {}",
            path.display(),
            lines.len(),
            args.hyp.display(),
            hypotheses.len()
        );
        references.push(lines);
    }
    let scores = corpus_scores(&hypotheses, &references, args.tokenize);
    if args.json {
        println!("{}", serde_json::to_string(&scores)?);
    } else {
        println!("BLEU   {:.2}  ({})", scores.bleu, scores.signature);
        println!("chrF   {:.2}", scores.chrf);
        println!("chrF++ {:.2}", scores.chrf_pp);
    }
    Ok(())
}
