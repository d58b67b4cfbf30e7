//! `bitdistill bench decode`: prefill and decode tokens/s and peak memory of a teacher (burn f32, and the CPU
//! engine with f32 projections), its fake-quant student (burn), and the student exported in each packed layout
//! (CPU engine, ternary × int8 kernel). Every case runs in its own process, same prompt, same thread count.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::{Checkpoint, ModelFiles, SaveDtype, save_checkpoint};
use bitdistill::distill::student_from_teacher;
use bitdistill::export::{ExportFormat, write_export};
use bitdistill::generate::{BatchDecodeState, DecodeState, LanguageModel, argmax};
use bitdistill::infer::{EmbeddingStorage, NativeModel, WeightBytes, load_native};
use bitdistill::model::{HunYuan, HunYuanConfig, RandomWeights, SublnPlacement};

use super::eighth_width_config;
use super::llama_cpp::Workload;
use super::train::peak_rss_mib;

/// A random model of this shape when no `--model` is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RandomShape {
    /// HY-MT1.5-1.8B itself (7.2 GB in f32).
    Full,
    /// 1/8 of its width, all 32 layers and the full vocabulary.
    Eighth,
}

#[derive(clap::Args)]
pub struct DecodeArgs {
    /// Full-precision teacher directory; without it, a random model of `--shape` is built.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Latent student directory of that teacher (from `distill`); without it, the Stage-1 student with SubLN
    /// `--subln` is made from the teacher.
    #[arg(long)]
    student: Option<PathBuf>,
    /// SubLN of the Stage-1 student made without `--student`: `all` (default) lets every layout apply
    /// (hf-bitnet too), `none` is what llama.cpp runs (`--compare-llama-cpp`).
    #[arg(long, value_enum, default_value_t = SublnPlacement::All)]
    subln: SublnPlacement,
    /// Also run llama.cpp's `llama-bench` (from PATH, or the file LLAMA_BENCH names) on this GGUF, same prompt,
    /// tokens and threads, and print our packed2 engine's ratios to it. A missing file is first written from
    /// this run's student (`export --format gguf`, which needs SubLN `none`; no vocabulary).
    #[arg(long)]
    compare_llama_cpp: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = RandomShape::Full)]
    shape: RandomShape,
    /// Prompt tokens (prefill).
    #[arg(long, default_value_t = 64)]
    prompt: usize,
    /// Generated tokens (decode, one at a time with the KV cache).
    #[arg(long, default_value_t = 16)]
    new: usize,
    /// Sequences decoded together (1: one, through the single-sequence path); tokens/s count every row's tokens.
    #[arg(long, default_value_t = 1)]
    rows: usize,
    /// Runs of each prefill and decode, their tokens/s averaged (as `llama-bench -r`; the first run after
    /// loading warms the caches like llama-bench's warm-up run).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Worker threads of every case (rayon's pool; NdArray's matmul too). Default: all cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Skip the burn cases (the f32 teacher and the fake-quant student).
    #[arg(long)]
    no_burn: bool,
    /// How the packed students store the embeddings and the tied lm_head (int8: integer lm_head products).
    #[arg(long, value_enum, default_value_t = EmbeddingStorage::Bf16)]
    embeddings: EmbeddingStorage,
    /// Keep the random teacher in this directory and reuse it on the next run (building the 1.8B one takes
    /// minutes); the exports are written there too. Default: a temporary directory, removed at the end.
    #[arg(long)]
    work: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct DecodeCaseArgs {
    #[arg(long)]
    case: String,
    #[arg(long)]
    teacher: PathBuf,
    #[arg(long)]
    student: Option<PathBuf>,
    #[arg(long, value_enum)]
    subln: SublnPlacement,
    #[arg(long)]
    dir: Option<PathBuf>,
    #[arg(long)]
    prompt: usize,
    #[arg(long)]
    new: usize,
    #[arg(long)]
    rows: usize,
    #[arg(long)]
    repeats: usize,
}

const FORMATS: [ExportFormat; 3] = [ExportFormat::Packed2, ExportFormat::Packed1_6, ExportFormat::HfBitnet];

pub fn decode(args: DecodeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.rows == 1 || args.compare_llama_cpp.is_none(),
        "llama-bench decodes one sequence: leave --rows at 1 with --compare-llama-cpp"
    );
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("bitdistill-bench-decode-{}", std::process::id())));
    std::fs::create_dir_all(&work)?;
    let kept_teacher = work.join("teacher");
    let teacher = match &args.model {
        Some(dir) => dir.clone(),
        None if args.work.is_some() && kept_teacher.join("config.json").exists() => {
            let config = HunYuanConfig::from_file(&kept_teacher.join("config.json"))?;
            let wanted = random_config(args.shape);
            let shape = |c: &HunYuanConfig| (c.vocab_size, c.hidden_size, c.intermediate_size, c.num_hidden_layers);
            anyhow::ensure!(
                shape(&config) == shape(&wanted),
                "{}: the kept teacher is not of shape {:?}; remove it or use another --work",
                kept_teacher.display(),
                args.shape
            );
            eprintln!("reusing the random teacher in {}", kept_teacher.display());
            kept_teacher
        }
        None => {
            let config = random_config(args.shape);
            eprintln!("building a random {:?} teacher ...", args.shape);
            let model = HunYuan::from_source(&config, &mut RandomWeights::new(0, 0.02), &BackendKind::Flex.device())?;
            save_checkpoint(&model, &config, &work.join("teacher"), SaveDtype::Bf16, false, None)?;
            work.join("teacher")
        }
    };
    eprintln!("exporting the student ...");
    let device = BackendKind::Flex.device();
    let (config, student) = match &args.student {
        Some(dir) => {
            let mut checkpoint = Checkpoint::open(dir)?;
            (checkpoint.config.clone(), checkpoint.load_model(&device)?)
        }
        None => student_from_teacher(&ModelFiles::dir(&teacher), args.subln, serde_json::Value::Null, &device)?,
    };
    let engine = NativeModel::from_burn(&student, &config, args.embeddings);
    drop(student);
    if let Some(gguf) = args.compare_llama_cpp.as_ref().filter(|path| !path.exists()) {
        eprintln!("writing {} for llama.cpp ...", gguf.display());
        write_export(&engine, ExportFormat::Gguf, gguf)?;
    }
    let subln = config.student.as_ref().map(|s| s.subln).unwrap_or_default();
    // (case, export directory, what the export stored on disk).
    let mut cases: Vec<(String, Option<PathBuf>, Option<serde_json::Value>)> = Vec::new();
    if !args.no_burn {
        cases.push(("teacher f32 (burn)".into(), None, None));
    }
    cases.push(("teacher f32 (engine)".into(), None, None));
    if !args.no_burn {
        cases.push(("student fake-quant (burn)".into(), None, None));
    }
    for format in FORMATS {
        if format == ExportFormat::HfBitnet
            && (subln != SublnPlacement::All || args.embeddings == EmbeddingStorage::Int8)
        {
            eprintln!("hf-bitnet skipped: it expresses only SubLN `all` and float embeddings");
            continue;
        }
        let dir = work.join(format.name());
        let summary = write_export(&engine, format, &dir)?;
        let stored = serde_json::json!({
            "linears": summary.stored.linears, "embeddings": summary.stored.embeddings,
            "lm_head": summary.stored.lm_head, "norms": summary.stored.norms,
            "file_bytes": summary.file_bytes, "linear_bytes_bf16": summary.linear_bytes_bf16,
        });
        cases.push((format!("student {} (engine)", format.name()), Some(dir), Some(stored)));
    }
    drop(engine);

    let mut rows: Vec<serde_json::Value> = Vec::new();
    for (case, dir, stored) in &cases {
        eprintln!("{case} ...");
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["bench", "decode-case", "--case", case, "--teacher"])
            .arg(&teacher)
            .args(["--prompt", &args.prompt.to_string(), "--new", &args.new.to_string()])
            .args(["--rows", &args.rows.to_string()])
            .args(["--repeats", &args.repeats.to_string()])
            .args(["--subln", &format!("{:?}", args.subln).to_lowercase()]);
        if let Some(student) = &args.student {
            command.arg("--student").arg(student);
        }
        if let Some(dir) = dir {
            command.arg("--dir").arg(dir);
        }
        if let Some(threads) = args.threads {
            command.env("RAYON_NUM_THREADS", threads.to_string());
        }
        let output = command.output()?;
        anyhow::ensure!(
            output.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut row: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        if let Some(stored) = stored {
            row["stored"] = stored.clone();
        }
        rows.push(row);
    }
    if args.work.is_none() {
        std::fs::remove_dir_all(&work)?;
    }
    print_rows(&rows, args.json);
    if let Some(gguf) = &args.compare_llama_cpp {
        let ours = rows
            .iter()
            .find(|r| r["case"].as_str().is_some_and(|c| c.contains("packed2")))
            .ok_or_else(|| anyhow::anyhow!("no packed2 row to compare with llama.cpp"))?;
        let workload = Workload {
            prompt: args.prompt,
            new: args.new,
            repeats: args.repeats,
        };
        super::llama_cpp::compare(gguf, ours, workload, args.threads, args.json)?;
    }
    Ok(())
}

fn random_config(shape: RandomShape) -> HunYuanConfig {
    match shape {
        RandomShape::Full => HunYuanConfig::hy_mt_1_8b(),
        RandomShape::Eighth => eighth_width_config(),
    }
}

fn print_rows(rows: &[serde_json::Value], json: bool) {
    let speed = |row: &serde_json::Value, key: &str| row[key].as_f64().unwrap_or(f64::NAN);
    // The honest baseline: whichever teacher implementation is faster at each phase.
    let best_teacher = |key: &str| {
        rows.iter()
            .filter(|r| r["case"].as_str().is_some_and(|c| c.starts_with("teacher")))
            .map(|r| speed(r, key))
            .fold(f64::NAN, f64::max)
    };
    let (best_prefill, best_decode) = (
        best_teacher("prefill_tokens_per_s"),
        best_teacher("decode_tokens_per_s"),
    );
    for row in rows {
        let (prefill, decode) = (speed(row, "prefill_tokens_per_s"), speed(row, "decode_tokens_per_s"));
        if json {
            let mut row = row.clone();
            row["prefill_vs_best_teacher"] = (prefill / best_prefill).into();
            row["decode_vs_best_teacher"] = (decode / best_decode).into();
            println!("{row}");
        } else {
            println!(
                "{:<28} prefill {:>8.1} tok/s (×{:>5.2})  decode {:>7.2} tok/s (×{:>5.2})  weights {:>8.1} MiB  peak RSS {:>7.0} MiB",
                row["case"].as_str().unwrap_or(""),
                prefill,
                prefill / best_prefill,
                decode,
                decode / best_decode,
                row["weight_bytes"]["total"].as_f64().unwrap_or(f64::NAN) / (1 << 20) as f64,
                speed(row, "peak_rss_mib"),
            );
        }
    }
    if !json {
        for row in rows.iter().filter(|r| r["stored"].is_object()) {
            let stored = &row["stored"];
            let bytes = |key: &str| stored[key].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:<28} on disk: model.safetensors {:>8.1} MiB, linears {:>7.1} MiB (bf16 {:.1} MiB: ×{:.2} smaller)",
                row["case"].as_str().unwrap_or(""),
                bytes("file_bytes") / (1 << 20) as f64,
                bytes("linears") / (1 << 20) as f64,
                bytes("linear_bytes_bf16") / (1 << 20) as f64,
                bytes("linear_bytes_bf16") / bytes("linears"),
            );
        }
        let threads = rows.first().map_or(0, |r| r["threads"].as_u64().unwrap_or(0));
        println!("(× = ratio to the faster f32 teacher of the phase; {threads} threads)");
    }
}

pub fn decode_case(args: DecodeCaseArgs) -> anyhow::Result<()> {
    let device = BackendKind::Flex.device();
    let burn_bytes = |config: &HunYuanConfig| {
        let p = config.param_breakdown();
        WeightBytes {
            linears: 4 * p.linears,
            embeddings: 4 * p.embeddings,
            lm_head: 4 * p.lm_head,
            norms: 4 * p.norms,
        }
    };
    let (model, bytes): (Box<dyn LanguageModel>, WeightBytes) = match (args.case.as_str(), &args.dir) {
        ("teacher f32 (burn)", _) => {
            let mut checkpoint = Checkpoint::open(&args.teacher)?;
            let bytes = burn_bytes(&checkpoint.config);
            (Box::new(checkpoint.load_model(&device)?), bytes)
        }
        ("teacher f32 (engine)", _) => {
            let model = load_native(&args.teacher)?;
            let bytes = model.weight_bytes();
            (Box::new(model), bytes)
        }
        ("student fake-quant (burn)", _) => {
            let (config, model) = match &args.student {
                Some(dir) => {
                    let mut checkpoint = Checkpoint::open(dir)?;
                    (checkpoint.config.clone(), checkpoint.load_model(&device)?)
                }
                None => student_from_teacher(
                    &ModelFiles::dir(&args.teacher),
                    args.subln,
                    serde_json::Value::Null,
                    &device,
                )?,
            };
            (Box::new(model.frozen_for_inference()), burn_bytes(&config))
        }
        (_, Some(dir)) => {
            let model = load_native(dir)?;
            let bytes = model.weight_bytes();
            (Box::new(model), bytes)
        }
        (case, None) => anyhow::bail!("unknown case `{case}`"),
    };
    let (prefill, decode) = time_decode(
        model.as_ref(),
        vocab_of(&args.teacher)?,
        &Workload {
            prompt: args.prompt,
            new: args.new,
            repeats: args.repeats,
        },
        args.rows,
    );
    let row = serde_json::json!({
        "bench": "decode", "case": args.case, "prompt": args.prompt, "new": args.new, "rows": args.rows,
        "repeats": args.repeats,
        "threads": rayon::current_num_threads(),
        "prefill_tokens_per_s": prefill, "decode_tokens_per_s": decode,
        "weight_bytes": {"linears": bytes.linears, "embeddings": bytes.embeddings, "lm_head": bytes.lm_head,
            "norms": bytes.norms, "total": bytes.total()},
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{row}");
    Ok(())
}

fn vocab_of(teacher: &Path) -> anyhow::Result<usize> {
    Ok(HunYuanConfig::from_file(&teacher.join("config.json"))?.vocab_size)
}

/// Prefill tokens/s of `rows` prompts of `prompt` tokens, then decode tokens/s of `new` greedy tokens per row (one
/// token first, not counted), each the mean of `repeats` runs from an empty cache after one untimed warm-up run
/// (as llama-bench). One row runs through the single-sequence path, more through the model's batch.
fn time_decode(model: &dyn LanguageModel, vocab: usize, work: &Workload, rows: usize) -> (f64, f64) {
    let Workload { prompt, new, repeats } = *work;
    let prompts: Vec<Vec<u32>> = (0..rows)
        .map(|row| {
            (0..prompt)
                .map(|i| ((i * 7919 + row * 104_729) % vocab) as u32)
                .collect()
        })
        .collect();
    let run = || {
        let mut state: Box<dyn BatchDecodeState + '_> = match rows {
            1 => Box::new(Single(model.start())),
            _ => model.start_batch(rows),
        };
        let mut step = |inputs: &[Vec<u32>]| -> Vec<Vec<u32>> {
            let feeds: Vec<(usize, &[u32])> = inputs.iter().map(|ids| &ids[..]).enumerate().collect();
            state.feed(&feeds).iter().map(|logits| vec![argmax(logits)]).collect()
        };
        let started = Instant::now();
        let mut next = step(&prompts);
        let prefill = (rows * prompt) as f64 / started.elapsed().as_secs_f64();
        next = step(&next);
        let started = Instant::now();
        for _ in 0..new {
            next = step(&next);
        }
        (prefill, (rows * new) as f64 / started.elapsed().as_secs_f64())
    };
    run();
    let runs: Vec<(f64, f64)> = (0..repeats.max(1)).map(|_| run()).collect();
    let mean = |speed: fn(&(f64, f64)) -> f64| runs.iter().map(speed).sum::<f64>() / runs.len() as f64;
    (mean(|r| r.0), mean(|r| r.1))
}

/// One sequence through the single-sequence path, as a batch of one row.
struct Single<'a>(Box<dyn DecodeState + 'a>);

impl BatchDecodeState for Single<'_> {
    fn feed(&mut self, feeds: &[(usize, &[u32])]) -> Vec<Vec<f32>> {
        vec![self.0.feed(feeds[0].1)]
    }
}
