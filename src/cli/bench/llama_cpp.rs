//! `bench decode --compare-llama-cpp GGUF`: llama.cpp's own benchmark (`llama-bench`) on a GGUF of the same
//! model, same prompt length, generated tokens and threads, next to our packed2 engine's row, with ratios.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `llama-bench`: the file LLAMA_BENCH names, else the first on PATH.
fn llama_bench() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LLAMA_BENCH") {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("llama-bench"))
        .find(|path| path.is_file())
}

/// Prompt and generation tokens/s of llama-bench's JSON rows (`n_prompt`/`n_gen`, `avg_ts`).
fn speeds(rows: &serde_json::Value) -> anyhow::Result<(f64, f64)> {
    let rows = rows
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("llama-bench printed no JSON list"))?;
    let speed = |prompt: bool| {
        rows.iter()
            .find(|r| (r["n_gen"].as_u64() == Some(0)) == prompt)
            .and_then(|r| r["avg_ts"].as_f64())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "llama-bench printed no {} row",
                    if prompt { "prompt" } else { "generation" }
                )
            })
    };
    Ok((speed(true)?, speed(false)?))
}

/// What each engine runs: a `prompt`-token prefill and `new` decoded tokens, `repeats` times, averaged.
#[derive(Clone, Copy)]
pub struct Workload {
    pub prompt: usize,
    pub new: usize,
    pub repeats: usize,
}

pub fn compare(
    gguf: &Path,
    ours: &serde_json::Value,
    workload: Workload,
    threads: Option<usize>,
    json: bool,
) -> anyhow::Result<()> {
    let Workload { prompt, new, repeats } = workload;
    let Some(bench) = llama_bench() else {
        eprintln!(
            "llama-bench is neither on PATH nor named by LLAMA_BENCH: docs/llama-cpp-check.sh builds it from the \
             llama.cpp source in PyPI's llama-cpp-python (README, \"llama.cpp\"); {} is ready for it",
            gguf.display()
        );
        return Ok(());
    };
    let threads = threads.unwrap_or_else(rayon::current_num_threads);
    eprintln!("llama.cpp ({}) ...", bench.display());
    let output = Command::new(&bench)
        .arg("-m")
        .arg(gguf)
        .args([
            "-t",
            &threads.to_string(),
            "-p",
            &prompt.to_string(),
            "-n",
            &new.to_string(),
        ])
        .args(["-r", &repeats.to_string(), "-o", "json"])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "{}: {}",
        bench.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let (their_prefill, their_decode) = speeds(&rows)?;
    let speed = |key: &str| ours[key].as_f64().unwrap_or(f64::NAN);
    let (prefill, decode) = (speed("prefill_tokens_per_s"), speed("decode_tokens_per_s"));
    let model_type = rows[0]["model_type"].as_str().unwrap_or("").to_string();
    let commit = rows[0]["build_commit"].as_str().unwrap_or("").to_string();
    if json {
        let row = serde_json::json!({"bench": "decode", "case": "llama.cpp", "gguf": gguf, "model_type": model_type,
            "build_commit": commit, "threads": threads, "prefill_tokens_per_s": their_prefill,
            "decode_tokens_per_s": their_decode, "packed2_prefill_ratio": prefill / their_prefill,
            "packed2_decode_ratio": decode / their_decode});
        println!("{row}");
    } else {
        println!(
            "{:<28} prefill {their_prefill:>8.1} tok/s            decode {their_decode:>7.2} tok/s            ({model_type}, build {commit}, {threads} threads)",
            "llama.cpp (llama-bench)"
        );
        println!(
            "student packed2 (engine) vs llama.cpp: prefill ×{:.2}, decode ×{:.2}",
            prefill / their_prefill,
            decode / their_decode
        );
    }
    Ok(())
}
