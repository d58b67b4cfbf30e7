//! `bitdistill tokenizer train`: a byte-level BPE tokenizer.json with HY-MT's special tokens.

use std::path::PathBuf;

use bitdistill::data::read_documents;
use bitdistill::tokenizer::train_byte_level_bpe;

#[derive(clap::Subcommand)]
pub enum TokenizerCommand {
    /// Train on text (.txt, a line a document) or pairs (.jsonl: source and target both used).
    Train(TrainArgs),
}

#[derive(clap::Args)]
pub struct TrainArgs {
    files: Vec<PathBuf>,
    #[arg(long, default_value_t = 8000)]
    vocab_size: usize,
    /// Where to write tokenizer.json.
    #[arg(long)]
    out: PathBuf,
}

impl TokenizerCommand {
    pub fn run(self) -> anyhow::Result<()> {
        let TokenizerCommand::Train(args) = self;
        anyhow::ensure!(!args.files.is_empty(), "give at least one text or pairs file");
        // Pairs files become plain text (both sides) so the trainer sees every language.
        let scratch = tempfile_path();
        let mut text = String::new();
        for file in &args.files {
            if file.extension().is_some_and(|e| e == "jsonl") && is_pairs(file)? {
                for pair in bitdistill::data::read_pairs(file, ("en", "pt"))? {
                    text.push_str(&pair.source);
                    text.push('\n');
                    text.push_str(&pair.target);
                    text.push('\n');
                }
            } else {
                for document in read_documents(file)? {
                    text.push_str(&document);
                    text.push('\n');
                }
            }
        }
        std::fs::write(&scratch, text)?;
        let tokenizer = train_byte_level_bpe(&[scratch.as_path()], args.vocab_size);
        let _ = std::fs::remove_file(&scratch);
        let tokenizer = tokenizer?;
        if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        tokenizer
            .save(&args.out, false)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
        println!(
            "wrote {} ({} tokens)",
            args.out.display(),
            tokenizer.get_vocab_size(true)
        );
        Ok(())
    }
}

/// Whether a JSONL file holds translation pairs (its first line has `source`) rather than `{"text"}` documents.
fn is_pairs(path: &std::path::Path) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(path)?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("{}");
    Ok(serde_json::from_str::<serde_json::Value>(first)
        .map(|v| v.get("source").is_some())
        .unwrap_or(false))
}

fn tempfile_path() -> PathBuf {
    std::env::temp_dir().join(format!("bitdistill-tokenizer-corpus-{}.txt", std::process::id()))
}
