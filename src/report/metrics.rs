//! A run's step metrics on disk: `metrics.jsonl` holds the run's events one per line (as `distill` and the app
//! write them); CSV has one row per optimizer step.

use std::io::Write;
use std::path::Path;

use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::train::{Stage, StepMetrics, TrainEvent};

/// The events log inside a run's output directory.
pub const METRICS_FILE: &str = "metrics.jsonl";

/// Appends a run's events (snapshots left out: they are large and only for live views) to `metrics.jsonl`.
pub struct MetricsLog {
    file: std::fs::File,
}

impl MetricsLog {
    pub fn append(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(Self { file })
    }

    pub fn record(&mut self, event: &TrainEvent) {
        if !matches!(event, TrainEvent::Snapshot(_) | TrainEvent::Tokenizing(_))
            && let Ok(line) = serde_json::to_string(event)
        {
            let _ = writeln!(self.file, "{line}");
        }
    }
}

/// The step metrics of a `metrics.jsonl`; other events are skipped. A resumed run repeats no steps: a step
/// logged again after a resume replaces the earlier record of the same stage and step.
pub fn read_metrics(path: &Path) -> Result<Vec<StepMetrics>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut steps: Vec<StepMetrics> = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let event: TrainEvent = serde_json::from_str(line)
            .map_err(|e| Error::Invalid(format!("{}: line {}: not a run event: {e}", path.display(), number + 1)))?;
        if let TrainEvent::Step(metrics) = event {
            steps.retain(|m| (m.stage, m.step) != (metrics.stage, metrics.step));
            steps.push(metrics);
        }
    }
    Ok(steps)
}

pub fn write_metrics_jsonl(steps: &[StepMetrics], path: &Path) -> Result<()> {
    let mut text = String::new();
    for step in steps {
        let line = serde_json::to_string(&TrainEvent::Step(step.clone()))
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        text.push_str(&line);
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// One row per step; absent KD terms are empty cells.
pub fn write_metrics_csv(steps: &[StepMetrics], path: &Path) -> Result<()> {
    let optional = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut text = String::from(
        "stage,step,total_steps,loss,ce,logits_kd,attention_kd,lr,grad_norm,tokens_per_s,padding_share,quant_blend\n",
    );
    for m in steps {
        let stage = match m.stage {
            Stage::Pretrain => "pretrain",
            Stage::Distill => "distill",
        };
        text.push_str(&format!(
            "{stage},{},{},{},{},{},{},{},{},{},{},{}\n",
            m.step,
            m.total_steps,
            m.loss,
            m.ce,
            optional(m.logits_kd),
            optional(m.attention_kd),
            m.lr,
            m.grad_norm,
            m.tokens_per_s,
            m.padding_share,
            m.quant_blend
        ));
    }
    write_atomic(path, text.as_bytes())
}
