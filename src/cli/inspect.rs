//! `bitdistill inspect`: what a checkpoint is, from its config alone or with its weights.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bitdistill::checkpoint::{CONFIG_FILE, Checkpoint, INDEX_FILE, SINGLE_FILE};
use bitdistill::model::HunYuanConfig;

#[derive(clap::Args)]
pub struct Args {
    /// Checkpoint directory; config.json alone is enough for the architecture and counts.
    #[arg(long)]
    model: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = HunYuanConfig::from_file(&args.model.join(CONFIG_FILE))?;
    let counts = config.param_breakdown();
    let has_weights = args.model.join(SINGLE_FILE).exists() || args.model.join(INDEX_FILE).exists();
    // dtype → (tensors, bytes) of the stored weights.
    let mut stored: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    if has_weights {
        for (_, shape, dtype) in Checkpoint::open(&args.model)?.tensors() {
            let entry = stored.entry(dtype.clone()).or_default();
            entry.0 += 1;
            entry.1 += shape.iter().product::<usize>() * dtype_bytes(&dtype);
        }
    }
    let bf16_bytes = 2 * counts.total();
    // 1.58-bit student: ternary linears at log2(3) bits, everything else kept in bf16.
    let ternary_bytes = (counts.linears as f64 * 3f64.log2() / 8.0) as usize + 2 * (counts.total() - counts.linears);

    let json = serde_json::json!({
        "architecture": "HunYuanDenseV1ForCausalLM",
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.num_key_value_heads,
        "head_dim": config.head_dim,
        "intermediate_size": config.intermediate_size,
        "vocab_size": config.vocab_size,
        "tie_word_embeddings": config.tie_word_embeddings,
        "rope_base": config.rope_base(),
        "params": {
            "embeddings": counts.embeddings,
            "lm_head": counts.lm_head,
            "linears": counts.linears,
            "norms": counts.norms,
            "total": counts.total(),
        },
        "stored": stored.iter().map(|(dtype, (tensors, bytes))| (dtype.clone(), serde_json::json!({"tensors": tensors, "bytes": bytes}))).collect::<serde_json::Map<_, _>>(),
        "bytes_bf16": bf16_bytes,
        "bytes_ternary_linears": ternary_bytes,
    });
    if args.json {
        println!("{json}");
        return Ok(());
    }
    println!("{}: HunYuanDenseV1ForCausalLM", args.model.display());
    println!(
        "  layers {}  hidden {}  heads {}/{} (q/kv) × {}  mlp {}  vocab {}  tied {}",
        config.num_hidden_layers,
        config.hidden_size,
        config.num_attention_heads,
        config.num_key_value_heads,
        config.head_dim,
        config.intermediate_size,
        config.vocab_size,
        config.tie_word_embeddings
    );
    println!(
        "  rope base {:.6e} (theta {} × alpha {}^(d/(d-2)))",
        config.rope_base(),
        config.rope_theta,
        config.rope_alpha
    );
    println!("  parameters {:>15}", group(counts.total()));
    println!("    embeddings {:>13}", group(counts.embeddings));
    println!("    lm_head    {:>13}", group(counts.lm_head));
    println!("    linears    {:>13}", group(counts.linears));
    println!("    norms      {:>13}", group(counts.norms));
    if stored.is_empty() {
        println!("  weights: none in this directory (counts come from config.json)");
    }
    for (dtype, (tensors, bytes)) in &stored {
        println!("  stored {dtype}: {tensors} tensors, {} bytes", group(*bytes));
    }
    println!(
        "  at bf16 {} bytes; with 1.58-bit linears {} bytes",
        group(bf16_bytes),
        group(ternary_bytes)
    );
    Ok(())
}

fn dtype_bytes(dtype: &str) -> usize {
    match dtype {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "BF16" | "F16" | "I16" | "U16" => 2,
        _ => 1,
    }
}

/// 1791080448 → "1,791,080,448".
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
