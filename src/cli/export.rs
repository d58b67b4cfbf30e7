//! `bitdistill export`: a student as a packed 1.58-bit model directory, or a GGUF file for llama.cpp.

use std::path::PathBuf;

use bitdistill::export::{ExportFormat, export_student};
use bitdistill::infer::EmbeddingStorage;

#[derive(clap::Args)]
pub struct Args {
    /// Student directory (from `distill` or `student init`).
    #[arg(long)]
    student: PathBuf,
    /// Output directory (for `gguf`: the `.gguf` file, or a directory to hold `model.gguf`).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = ExportFormat::Packed2)]
    format: ExportFormat,
    /// Storage of the embeddings (and an untied lm_head).
    #[arg(long, value_enum, default_value_t = EmbeddingStorage::Bf16)]
    embeddings: EmbeddingStorage,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let summary = export_student(&args.student, &args.out, args.format, args.embeddings)?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
        return Ok(());
    }
    let s = &summary.stored;
    println!("{} export in {}", summary.format.name(), summary.dir.display());
    println!(
        "  linears     {:>13} bytes  (bf16 {:>13}, 1/{:.2})",
        s.linears,
        summary.linear_bytes_bf16,
        summary.linear_bytes_bf16 as f64 / s.linears as f64
    );
    println!("  embeddings  {:>13} bytes", s.embeddings);
    if s.lm_head > 0 {
        println!("  lm_head     {:>13} bytes", s.lm_head);
    }
    println!("  norms       {:>13} bytes", s.norms);
    println!("  file        {:>13} bytes", summary.file_bytes);
    Ok(())
}
