//! `bitdistill ablate`: the paper's ablation (BitDistill, Table 4/5) on the demo's data. Every trained row starts
//! from the same teacher and gets the same Stage-3 budget; rows with Stage 2 also get the same Stage-2 budget.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::results::{kept_result, steps_and_wall_cells, write_tables};
use super::{Budget, DEMO_RUN_FILE, DEMO_TEST_FILE, ModelSummary, limit_per_pair, summarize};
use crate::backend::BackendKind;
use crate::data::read_pairs;
use crate::error::{Error, Result};
use crate::model::SublnPlacement;
use crate::train::{Method, RunConfig, RunControl, RunOutcome, TrainEvent, run};

/// One row of the ablation, cumulative as in the paper: each adds one ingredient to the row above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AblationRow {
    /// The full-precision teacher, evaluated as it is.
    FpTeacher,
    /// Plain quantization-aware fine-tuning: BitLinear without SubLN, cross-entropy only.
    BitnetSft,
    /// + SubLN (paper placement), still cross-entropy only.
    Subln,
    /// + Stage 2 continued pre-training.
    Stage2,
    /// + logits distillation (λ of the run file).
    LogitsKd,
    /// + attention-relation distillation (γ of the run file): BitDistill.
    AttentionKd,
    /// BitDistill with SubLN before every BitLinear.
    SublnAll,
}

impl AblationRow {
    pub const ALL: [Self; 7] = [
        Self::FpTeacher,
        Self::BitnetSft,
        Self::Subln,
        Self::Stage2,
        Self::LogitsKd,
        Self::AttentionKd,
        Self::SublnAll,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::FpTeacher => "FP teacher (bf16)",
            Self::BitnetSft => "BitNet-SFT",
            Self::Subln => "+ SubLN",
            Self::Stage2 => "+ Stage 2 (continued pre-training)",
            Self::LogitsKd => "+ logits distillation",
            Self::AttentionKd => "+ attention distillation (= BitDistill)",
            Self::SublnAll => "BitDistill, SubLN `all`",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Self::FpTeacher => "fp-teacher",
            Self::BitnetSft => "bitnet-sft",
            Self::Subln => "subln",
            Self::Stage2 => "stage2",
            Self::LogitsKd => "logits-kd",
            Self::AttentionKd => "attention-kd",
            Self::SublnAll => "subln-all",
        }
    }

    /// The run file of this row, derived from the BitDistill run file `base`; `None` for the untrained teacher.
    pub fn run_config(self, base: &RunConfig) -> Option<RunConfig> {
        let mut config = base.clone();
        config.method = Method::Bitdistill;
        config.student.subln = SublnPlacement::Paper;
        let (stage2, lambda, gamma) = match self {
            Self::FpTeacher => return None,
            Self::BitnetSft => {
                config.method = Method::BitnetSft;
                (false, false, false)
            }
            Self::Subln => (false, false, false),
            Self::Stage2 => (true, false, false),
            Self::LogitsKd => (true, true, false),
            Self::AttentionKd => (true, true, true),
            Self::SublnAll => {
                config.student.subln = SublnPlacement::All;
                (true, true, true)
            }
        };
        if !stage2 {
            config.stage2.tokens = 0;
        }
        if !lambda {
            config.stage3.lambda = 0.0;
        }
        if !gamma {
            config.stage3.gamma = 0.0;
        }
        config.out = base.out.join(self.slug());
        Some(config)
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct AblationOptions {
    /// The BitDistill run file the rows are derived from (default: the demo's).
    pub run_file: PathBuf,
    pub out: PathBuf,
    pub backend: BackendKind,
    pub rows: Vec<AblationRow>,
    pub budget: Budget,
    /// The held-out pairs (default: the demo's test split).
    pub test: PathBuf,
}

impl AblationOptions {
    /// Every row on the demo's run file and test split.
    pub fn demo(assets: &Path, out: PathBuf) -> Self {
        Self {
            run_file: assets.join(DEMO_RUN_FILE),
            out,
            backend: BackendKind::Flex,
            rows: AblationRow::ALL.to_vec(),
            budget: Budget::default(),
            test: assets.join(DEMO_TEST_FILE),
        }
    }
}

/// One finished row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RowResult {
    pub row: AblationRow,
    pub label: String,
    pub model: ModelSummary,
    pub optimizer_steps: usize,
    pub training_seconds: f64,
    /// Training plus evaluation.
    pub wall_seconds: f64,
}

/// Runs the rows in order and rewrites `out/ablation.{json,md}` after each. A row whose `result.json` exists
/// is read back instead of trained again, so an interrupted ablation continues where it stopped.
pub fn run_ablation(
    options: &AblationOptions,
    emit: &mut dyn FnMut(AblationRow, TrainEvent),
) -> Result<Vec<RowResult>> {
    let mut base = RunConfig::from_file(&options.run_file)?;
    base.out = options.out.clone();
    base.backend = options.backend;
    options.budget.apply(&mut base);
    let test = limit_per_pair(read_pairs(&options.test, ("en", "pt"))?, options.budget.eval_limit);
    let mut results = Vec::new();
    for &row in &options.rows {
        let result = kept_result(&options.out.join(row.slug()), || {
            run_row(row, &base, &test, &mut |event| emit(row, event))
        })?;
        results.push(result);
        write_tables(&options.out, "ablation", &results, &ablation_markdown(&results))?;
    }
    Ok(results)
}

fn run_row(
    row: AblationRow,
    base: &RunConfig,
    test: &[crate::data::Pair],
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<RowResult> {
    let started = Instant::now();
    let (model_dir, optimizer_steps, training_seconds) = match row.run_config(base) {
        None => (base.teacher.clone(), 0, 0.0),
        Some(config) => {
            let _ = std::fs::remove_dir_all(config.out.join("checkpoints"));
            let mut steps = 0;
            let outcome = run(&config, false, &RunControl::default(), &mut |event| {
                steps += matches!(event, TrainEvent::Step(_)) as usize;
                emit(event);
            })?;
            let RunOutcome::Finished(dir) = outcome else {
                return Err(Error::Invalid(format!("ablation row `{}` stopped early", row.slug())));
            };
            (dir, steps, started.elapsed().as_secs_f64())
        }
    };
    let model = summarize(row.label(), &model_dir, test, base.backend)?;
    Ok(RowResult {
        row,
        label: row.label().to_string(),
        model,
        optimizer_steps,
        training_seconds,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The table: one line per row, chrF and BLEU per language pair, steps and wall time.
pub fn ablation_markdown(results: &[RowResult]) -> String {
    let pairs: Vec<&String> = results
        .first()
        .map(|r| r.model.scores.keys().collect())
        .unwrap_or_default();
    let mut md = String::from("| row |");
    for pair in &pairs {
        md.push_str(&format!(" chrF {pair} | BLEU {pair} |"));
    }
    md.push_str(" steps | wall time |\n|---|");
    md.push_str(&"---|---|".repeat(pairs.len()));
    md.push_str("---|---|\n");
    for result in results {
        md.push_str(&format!("| {} |", result.label));
        for pair in &pairs {
            let s = &result.model.scores[*pair];
            md.push_str(&format!(" {:.2} | {:.2} |", s.chrf, s.bleu));
        }
        md.push_str(&steps_and_wall_cells(result.optimizer_steps, result.wall_seconds));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> RunConfig {
        let mut config = RunConfig::from_file(&crate::demo::assets_dir().join(DEMO_RUN_FILE)).unwrap();
        config.out = PathBuf::from("out");
        config
    }

    #[test]
    fn rows_add_one_ingredient_each() {
        let base = base();
        assert!(base.stage2.tokens > 0 && base.stage3.lambda > 0.0 && base.stage3.gamma > 0.0);
        assert_eq!(AblationRow::FpTeacher.run_config(&base), None);
        let row = |r: AblationRow| r.run_config(&base).unwrap();
        let sft = row(AblationRow::BitnetSft);
        assert_eq!(sft.method, Method::BitnetSft);
        assert_eq!((sft.stage2.tokens, sft.stage3.lambda, sft.stage3.gamma), (0, 0.0, 0.0));
        let subln = row(AblationRow::Subln);
        assert_eq!(
            (subln.method, subln.student.subln),
            (Method::Bitdistill, SublnPlacement::Paper)
        );
        assert_eq!(
            (subln.stage2.tokens, subln.stage3.lambda, subln.stage3.gamma),
            (0, 0.0, 0.0)
        );
        let stage2 = row(AblationRow::Stage2);
        assert_eq!((stage2.stage2.tokens, stage2.stage3.lambda), (base.stage2.tokens, 0.0));
        let ld = row(AblationRow::LogitsKd);
        assert_eq!((ld.stage3.lambda, ld.stage3.gamma), (base.stage3.lambda, 0.0));
        let bitdistill = row(AblationRow::AttentionKd);
        assert_eq!(bitdistill.stage3, base.stage3);
        assert_eq!(bitdistill.stage2, base.stage2);
        let all = row(AblationRow::SublnAll);
        assert_eq!(all.student.subln, SublnPlacement::All);
        assert_eq!(all.stage3, base.stage3);
        for r in &AblationRow::ALL[1..] {
            let config = row(*r);
            assert_eq!(
                (config.stage3.steps, config.optim.clone()),
                (base.stage3.steps, base.optim.clone())
            );
            assert_eq!(config.out, PathBuf::from("out").join(r.slug()));
        }
    }
}
