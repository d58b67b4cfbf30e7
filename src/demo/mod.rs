//! The embedded demo: BitDistill of the bundled tiny HY-MT translator on the bundled data, then teacher and
//! student evaluated side by side. `bitdistill demo --headless` runs it; the GUI opens on it.

mod ablation;
#[cfg(not(target_arch = "wasm32"))]
mod plots;
mod report;
mod results;
mod sweep;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use ablation::{AblationOptions, AblationRow, RowResult, ablation_markdown, run_ablation};
pub use report::{DemoReport, ModelSummary};
pub use sweep::{PointResult, SweepAxis, SweepKey, SweepOptions, grid, run_sweep, sweep_markdown};

use crate::backend::BackendKind;
use crate::checkpoint::Checkpoint;
use crate::data::read_pairs;
use crate::error::{Error, Result};
use crate::eval::evaluate;
use crate::export::{ExportFormat, export_student};
use crate::generate::{DEFAULT_BATCH_ROWS, GenerationConfig, LanguageModel, Translator};
use crate::infer::{EmbeddingStorage, load_native};
use crate::tokenizer::{TOKENIZER_FILE, Tokenizer};
use crate::train::{RunConfig, RunControl, RunOutcome, TrainEvent, run};

/// The run file of the demo, inside the assets folder.
pub const DEMO_RUN_FILE: &str = "demo.toml";
/// Held-out pairs the demo evaluates on, inside the assets folder.
pub const DEMO_TEST_FILE: &str = "data/test.jsonl";

/// The bundled assets: `$BITDISTILL_ASSETS`, else this checkout's `assets/`, else `assets/` beside the binary.
pub fn assets_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BITDISTILL_ASSETS") {
        return PathBuf::from(dir);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    if built.join(DEMO_RUN_FILE).exists() {
        return built;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("assets")))
        .unwrap_or(built)
}

/// How much the demo and the ablation train and evaluate: the run file's budget unless shortened (CI).
#[derive(Clone, Debug, clap::Args)]
pub struct Budget {
    /// Shorten Stage 2 to this many tokens.
    #[arg(long)]
    pub stage2_tokens: Option<usize>,
    /// Shorten Stage 3 to this many steps.
    #[arg(long)]
    pub stage3_steps: Option<usize>,
    /// Test sentences per language pair.
    #[arg(long, default_value_t = 100)]
    pub eval_limit: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            stage2_tokens: None,
            stage3_steps: None,
            eval_limit: 100,
        }
    }
}

impl Budget {
    pub fn apply(&self, config: &mut RunConfig) {
        if let Some(tokens) = self.stage2_tokens {
            config.stage2.tokens = tokens;
        }
        if let Some(steps) = self.stage3_steps {
            config.stage3.steps = steps;
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub assets: PathBuf,
    pub out: PathBuf,
    pub backend: BackendKind,
    pub budget: Budget,
}

/// Distils, evaluates and writes `out/report.{json,md}` and `out/*.png`.
pub fn run_demo(options: &DemoOptions, emit: &mut dyn FnMut(TrainEvent)) -> Result<DemoReport> {
    let mut config = RunConfig::from_file(&options.assets.join(DEMO_RUN_FILE))?;
    config.out = options.out.clone();
    config.backend = options.backend;
    options.budget.apply(&mut config);
    // A fresh run each time: the demo is a showcase, not a resumable job.
    let _ = std::fs::remove_dir_all(config.out.join("checkpoints"));
    let mut steps = Vec::new();
    let started = Instant::now();
    let outcome = run(&config, false, &RunControl::default(), &mut |event| {
        if let TrainEvent::Step(m) = &event {
            steps.push(m.clone());
        }
        emit(event);
    })?;
    let training_seconds = started.elapsed().as_secs_f64();
    let RunOutcome::Finished(student_dir) = outcome else {
        return Err(Error::Invalid("the demo run stopped before the end".into()));
    };

    let mut test = read_pairs(&options.assets.join(DEMO_TEST_FILE), ("en", "pt"))?;
    test = limit_per_pair(test, options.budget.eval_limit);
    let teacher = summarize("teacher (bf16)", &config.teacher, &test, options.backend)?;
    let student = summarize("student (1.58-bit, fake-quant)", &student_dir, &test, options.backend)?;
    let packed_dir = options.out.join("student-packed2");
    export_student(&student_dir, &packed_dir, ExportFormat::Packed2, EmbeddingStorage::Bf16)?;
    let packed = summarize("student packed2 (ternary kernel)", &packed_dir, &test, options.backend)?;
    let report = DemoReport::new(config, teacher, student, packed, steps, training_seconds);
    report.write(&options.out)?;
    #[cfg(not(target_arch = "wasm32"))]
    plots::write_plots(&report, &options.out)?;
    Ok(report)
}

/// Keeps the first `limit` pairs of each language pair.
pub(crate) fn limit_per_pair(pairs: Vec<crate::data::Pair>, limit: usize) -> Vec<crate::data::Pair> {
    let mut seen = std::collections::HashMap::new();
    pairs
        .into_iter()
        .filter(|p| {
            let count = seen.entry((p.source_lang.code, p.target_lang.code)).or_insert(0);
            *count += 1;
            *count <= limit
        })
        .collect()
}

/// Evaluates the model in `dir`: a packed export on the CPU engine, anything else on burn's `backend`.
pub(crate) fn summarize(
    name: &str,
    dir: &Path,
    test: &[crate::data::Pair],
    backend: BackendKind,
) -> Result<ModelSummary> {
    let checkpoint = Checkpoint::open(dir)?;
    let config = checkpoint.config.clone();
    let tokenizer = Tokenizer::from_file(&dir.join(TOKENIZER_FILE))?;
    let generation = GenerationConfig {
        max_new_tokens: 96,
        ..GenerationConfig::default()
    };
    let evaluate_with = |model: &dyn LanguageModel| {
        let translator = Translator {
            model,
            config: &config,
            tokenizer: &tokenizer,
        };
        evaluate(&translator, test, &generation, DEFAULT_BATCH_ROWS, |_, _| {})
    };
    if config.student.as_ref().is_some_and(|s| s.packing.is_some()) {
        let model = load_native(dir)?;
        let eval = evaluate_with(&model)?;
        return Ok(ModelSummary::new(name, &config, eval, Some(model.weight_bytes())));
    }
    let mut checkpoint = checkpoint;
    let model = checkpoint.load_model(&backend.device())?.frozen_for_inference();
    Ok(ModelSummary::new(name, &config, evaluate_with(&model)?, None))
}
