//! `bitdistill bench train`: the real trainer on synthetic data, Stage 2 and Stage 3 tokens/s, and the peak
//! resident memory of each case (one child process per case).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::{SaveDtype, save_checkpoint};
use bitdistill::doctor::{estimate_run, stage3_longest};
use bitdistill::kernels::Kernels;
use bitdistill::model::{HunYuan, HunYuanConfig, RandomWeights};
use bitdistill::tokenizer::{Tokenizer, train_byte_level_bpe};
use bitdistill::train::{
    CheckpointSection, Method, OptimSection, RunConfig, RunControl, SnapshotSection, Stage, Stage2Section,
    Stage3Section, StudentSection, TrainEvent, run,
};

use super::eighth_width_config;

#[derive(clap::Args)]
pub struct TrainArgs {
    /// A full-precision checkpoint to include (e.g. ../shared/fixtures/hymt-tiny-a); its own tokenizer is not
    /// needed, the bench trains a small one.
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [BackendKind::Ndarray, BackendKind::Flex, BackendKind::Wgpu])]
    backends: Vec<BackendKind>,
    /// Kernel paths to compare (they differ only on wgpu; ndarray always runs the reference).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Kernels::Fused, Kernels::Reference])]
    kernels: Vec<Kernels>,
    /// Shard counts to compare (`optim.shards`: rows of a batch computed side by side; 0 = the run-file default,
    /// one per CPU thread on the CPU backends and 1 on wgpu), e.g. `1,0` to see what the shards buy.
    #[arg(long, value_delimiter = ',', default_values_t = [0])]
    shards: Vec<usize>,
    #[command(flatten)]
    shape: Shape,
    #[arg(long)]
    json: bool,
}

/// The size of the measured work.
#[derive(clap::Args, Clone)]
pub struct Shape {
    /// Optimizer steps per stage; the first of each stage is a warm-up and not counted.
    #[arg(long, default_value_t = 4)]
    steps: usize,
    #[arg(long, default_value_t = 4)]
    batch: usize,
    /// Tokens per Stage-2 block.
    #[arg(long, default_value_t = 64)]
    block: usize,
    /// `optim.vocab_chunk`: positions per chunk of the vocabulary terms (0: all at once).
    #[arg(long, default_value_t = 0)]
    vocab_chunk: usize,
}

#[derive(clap::Args)]
pub struct CaseArgs {
    /// A checkpoint directory, or `eighth` for the random 1/8-width model.
    #[arg(long)]
    model: String,
    #[arg(long, value_enum)]
    backend: BackendKind,
    #[arg(long, value_enum)]
    kernels: Kernels,
    #[arg(long)]
    shards: usize,
    #[command(flatten)]
    shape: Shape,
}

pub fn train(args: TrainArgs) -> anyhow::Result<()> {
    let mut models: Vec<String> = args.model.iter().map(|p| p.display().to_string()).collect();
    models.push("eighth".into());
    for model in &models {
        for backend in &args.backends {
            // The CPU backends have one path: measure it once.
            let kernels = match backend {
                BackendKind::Wgpu => &args.kernels[..],
                BackendKind::Ndarray | BackendKind::Flex => &[Kernels::Reference][..],
            };
            for (kernel, shards) in kernels.iter().flat_map(|k| args.shards.iter().map(move |s| (k, s))) {
                let backend_name = format!("{backend:?}").to_lowercase();
                let kernel_name = format!("{kernel:?}").to_lowercase();
                let shape = &args.shape;
                let output = Command::new(std::env::current_exe()?)
                    .args(["bench", "train-case", "--model", model, "--backend", &backend_name])
                    .args(["--kernels", &kernel_name, "--steps", &shape.steps.to_string()])
                    .args(["--batch", &shape.batch.to_string(), "--block", &shape.block.to_string()])
                    .args(["--shards", &shards.to_string()])
                    .args(["--vocab-chunk", &shape.vocab_chunk.to_string()])
                    .output()?;
                anyhow::ensure!(
                    output.status.success(),
                    "{model} on {backend_name} ({kernel_name} kernels): {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let line = String::from_utf8(output.stdout)?;
                if args.json {
                    print!("{line}");
                } else {
                    let row: serde_json::Value = serde_json::from_str(&line)?;
                    let number = |key: &str| row[key].as_f64().unwrap_or(f64::NAN);
                    println!(
                        "{:<40} {:<8} {:<9} stage2 {:>9.1} tok/s  stage3 {:>9.1} tok/s  peak RSS {:>7.0} MiB \
                         (doctor's estimate {:.0})  {} threads, {} shards, CPU/wall {:.2}, Stage-3 padding {:.0}%",
                        row["model"].as_str().unwrap_or(""),
                        backend_name,
                        kernel_name,
                        number("stage2_tokens_per_s"),
                        number("stage3_tokens_per_s"),
                        number("peak_rss_mib"),
                        number("estimated_peak_mib"),
                        row["threads"],
                        row["shards"],
                        number("cpu_per_wall"),
                        100.0 * number("stage3_padding_share"),
                    );
                }
            }
        }
    }
    Ok(())
}

pub fn case(args: CaseArgs) -> anyhow::Result<()> {
    // The process before it loads anything: the baseline of doctor's estimate.
    let baseline = bitdistill::doctor::resident_bytes().unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("bitdistill-bench-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let teacher = dir.join("teacher");
    let (name, vocab) = if args.model == "eighth" {
        let config = eighth_width_config();
        let model = HunYuan::from_source(&config, &mut RandomWeights::new(0, 0.02), &args.backend.device())?;
        save_checkpoint(&model, &config, &teacher, SaveDtype::F32, false, None)?;
        ("hy-mt-1.8b-width/8 (random)".to_string(), config.vocab_size)
    } else {
        let source = Path::new(&args.model);
        std::fs::create_dir_all(&teacher)?;
        for file in ["config.json", "model.safetensors"] {
            std::fs::copy(source.join(file), teacher.join(file)).with_context(|| format!("copying {file}"))?;
        }
        let config = HunYuanConfig::from_file(&teacher.join("config.json"))?;
        (args.model.clone(), config.vocab_size)
    };
    write_synthetic_data(&dir, &teacher, vocab.min(512))?;

    let shape = &args.shape;
    let config = RunConfig {
        teacher,
        out: dir.join("run"),
        method: Method::Bitdistill,
        backend: args.backend,
        devices: Vec::new(),
        kernels: args.kernels,
        seed: 0,
        student: StudentSection::default(),
        stage2: Stage2Section {
            corpus: vec![dir.join("corpus.txt")],
            tokens: shape.steps * shape.batch * shape.block,
            block_len: shape.block,
            ..Stage2Section::default()
        },
        stage3: Stage3Section {
            pairs: Some(dir.join("pairs.jsonl")),
            steps: shape.steps,
            ..Stage3Section::default()
        },
        optim: OptimSection {
            batch_size: shape.batch,
            shards: args.shards,
            vocab_chunk: shape.vocab_chunk,
            ..OptimSection::default()
        },
        checkpoint: CheckpointSection { every: 0, keep: 1 },
        snapshot: SnapshotSection {
            every: 0,
            ..SnapshotSection::default()
        },
    };
    let model_config = HunYuanConfig::from_file(&config.teacher.join("config.json"))?;
    let tokenizer = Tokenizer::from_file(&config.teacher.join("tokenizer.json"))?;
    let estimate = estimate_run(&config, &model_config, stage3_longest(&config, &tokenizer)?, baseline);
    let estimated_mib = estimate.peak().map_or(0.0, |e| e.total as f64 / (1 << 20) as f64);
    let (mut stage2, mut stage3, mut padding) = (Vec::new(), Vec::new(), Vec::new());
    // CPU and wall seconds over the timed steps (each stage's steps after its first).
    let (mut cpu, mut wall) = (0.0, 0.0);
    let mut step_started = (cpu_seconds(), std::time::Instant::now());
    run(&config, false, &RunControl::default(), &mut |event| {
        if let TrainEvent::Step(m) = event {
            if m.step > 1 {
                cpu += cpu_seconds() - step_started.0;
                wall += step_started.1.elapsed().as_secs_f64();
                match m.stage {
                    Stage::Pretrain => stage2.push(m.tokens_per_s),
                    Stage::Distill => {
                        stage3.push(m.tokens_per_s);
                        padding.push(m.padding_share);
                    }
                }
            }
            step_started = (cpu_seconds(), std::time::Instant::now());
        }
    })?;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let row = serde_json::json!({
        "bench": "train", "model": name, "backend": args.backend, "kernels": args.kernels, "batch": shape.batch, "block": shape.block, "vocab_chunk": shape.vocab_chunk,
        "stage2_tokens_per_s": mean(&stage2), "stage3_tokens_per_s": mean(&stage3), "peak_rss_mib": peak_rss_mib(),
        "estimated_peak_mib": estimated_mib,
        "threads": rayon::current_num_threads(), "shards": config.optim.shards_on(args.backend),
        "cpu_per_wall": cpu / wall.max(1e-9),
        "stage3_padding_share": mean(&padding),
    });
    println!("{row}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A corpus, translation pairs and a byte-level BPE tokenizer of at most `vocab` tokens.
fn write_synthetic_data(dir: &Path, teacher: &Path, vocab: usize) -> anyhow::Result<()> {
    let subjects = [
        "the file",
        "a window",
        "this page",
        "the network",
        "your document",
        "the printer",
    ];
    let verbs = ["opens", "closes", "saves", "prints", "reloads", "deletes"];
    let mut corpus = Vec::new();
    let mut pairs = Vec::new();
    for (i, subject) in subjects.iter().enumerate() {
        for (j, verb) in verbs.iter().enumerate() {
            let english = format!("Item {i}{j}: {subject} {verb} quickly and then waits for the user.");
            corpus.push(english.clone());
            let source = format!("{subject} {verb}");
            pairs.push(serde_json::json!({"source": source, "target": format!("{source} (pt {i}{j})")}).to_string());
        }
    }
    let corpus_path = dir.join("corpus.txt");
    std::fs::write(&corpus_path, (corpus.join("\n") + "\n").repeat(4))?;
    std::fs::write(dir.join("pairs.jsonl"), pairs.join("\n"))?;
    let tokenizer = train_byte_level_bpe(&[corpus_path.as_path()], vocab)?;
    tokenizer
        .save(teacher.join("tokenizer.json"), false)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// User + system CPU seconds of this process so far (getrusage; NaN where unavailable).
pub fn cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a complete rusage into the buffer it is given and returns 0 on success.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
            // SAFETY: initialised by the successful call above.
            let usage = unsafe { usage.assume_init() };
            let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
            return seconds(usage.ru_utime) + seconds(usage.ru_stime);
        }
    }
    f64::NAN
}

/// `VmHWM` of this process (Linux), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
