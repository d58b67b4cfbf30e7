//! The demo's report: quality, size and speed of teacher and student, as JSON and Markdown.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::eval::{EvalReport, PairScores};
use crate::infer::WeightBytes;
use crate::model::HunYuanConfig;
use crate::train::{RunConfig, Stage, StepMetrics};

/// One model's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelSummary {
    pub name: String,
    pub scores: BTreeMap<String, PairScores>,
    pub tokens_per_s: f64,
    /// Bytes of the linear-layer weights at bf16 (the teacher's storage).
    pub linear_bytes_bf16: usize,
    /// Bytes of the linear-layer weights as stored for inference: bf16 for the teacher; the ideal 2-bit packing
    /// (4 ternary weights a byte) for the latent student; the measured bytes of a packed export.
    pub linear_bytes: usize,
    /// Whole model: linears as above, embeddings and norms at bf16 (a packed export: as stored).
    pub model_bytes: usize,
}

impl ModelSummary {
    /// `stored`: the bytes of a packed export, as held by the CPU engine (identical to the file for packed2).
    pub fn new(name: &str, config: &HunYuanConfig, eval: EvalReport, stored: Option<WeightBytes>) -> Self {
        let params = config.param_breakdown();
        let linear_bytes_bf16 = 2 * params.linears;
        if let Some(stored) = stored {
            return Self {
                name: name.to_string(),
                scores: eval.pairs,
                tokens_per_s: eval.tokens_per_s,
                linear_bytes_bf16,
                linear_bytes: stored.linears,
                model_bytes: stored.total(),
            };
        }
        let linear_bytes = if config.student.is_some() {
            params.linears.div_ceil(4)
        } else {
            linear_bytes_bf16
        };
        let subln = if config.student.is_some() {
            2 * config.num_hidden_layers * config.hidden_size
        } else {
            0
        };
        let rest = 2 * (params.total() - params.linears) + subln;
        Self {
            name: name.to_string(),
            scores: eval.pairs,
            tokens_per_s: eval.tokens_per_s,
            linear_bytes_bf16,
            linear_bytes,
            model_bytes: linear_bytes + rest,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    pub run: RunConfig,
    pub teacher: ModelSummary,
    /// The fake-quant student as trained (burn).
    pub student: ModelSummary,
    /// The same student exported as packed2, run by the ternary × int8 CPU engine.
    pub packed: ModelSummary,
    pub training_seconds: f64,
    pub steps: Vec<StepMetrics>,
}

impl DemoReport {
    pub fn new(
        run: RunConfig,
        teacher: ModelSummary,
        student: ModelSummary,
        packed: ModelSummary,
        steps: Vec<StepMetrics>,
        training_seconds: f64,
    ) -> Self {
        Self {
            run,
            teacher,
            student,
            packed,
            training_seconds,
            steps,
        }
    }

    /// The side-by-side table.
    pub fn markdown(&self) -> String {
        let mut md = String::from(
            "# BitDistill demo\n\n| model | pair | BLEU | chrF | chrF++ | placeholders kept | tokens/s | linear bytes | model bytes |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for model in [&self.teacher, &self.student, &self.packed] {
            for (pair, s) in &model.scores {
                let rate = s.placeholder_rate.map_or("-".into(), |r| format!("{:.0}%", 100.0 * r));
                md.push_str(&format!(
                    "| {} | {pair} | {:.2} | {:.2} | {:.2} | {rate} | {:.1} | {} | {} |\n",
                    model.name, s.bleu, s.chrf, s.chrf_pp, model.tokens_per_s, model.linear_bytes, model.model_bytes
                ));
            }
        }
        let ratio = |model: &ModelSummary| model.linear_bytes_bf16 as f64 / model.linear_bytes.max(1) as f64;
        for (stage, name) in [(Stage::Pretrain, "Stage 2"), (Stage::Distill, "Stage 3")] {
            if let Some((tokens_per_s, padding)) = self.throughput(stage) {
                md.push_str(&format!(
                    "\n{name}: {tokens_per_s:.0} training tokens/s (padding included), {:.0}% of them padding.",
                    100.0 * padding
                ));
            }
        }
        md.push_str(&format!(
            "\nTraining: {} optimizer steps in {:.0} s. Linear weights against bf16: 1/{:.1} in the packed2 export \
             (measured), 1/{:.1} at ideal 2-bit packing of the latent student. Whole model: {:.2}× smaller packed.\n",
            self.steps.len(),
            self.training_seconds,
            ratio(&self.packed),
            ratio(&self.student),
            self.teacher.model_bytes as f64 / self.packed.model_bytes.max(1) as f64,
        ));
        md
    }

    /// Mean training tokens/s and padding share of one stage's steps, if it ran.
    pub fn throughput(&self, stage: Stage) -> Option<(f64, f64)> {
        let steps: Vec<&StepMetrics> = self.steps.iter().filter(|m| m.stage == stage).collect();
        let mean = |value: fn(&StepMetrics) -> f64| steps.iter().map(|m| value(m)).sum::<f64>() / steps.len() as f64;
        (!steps.is_empty()).then(|| (mean(|m| m.tokens_per_s), mean(|m| m.padding_share)))
    }

    /// Writes `report.json` and `report.md` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::Invalid(e.to_string()))?;
        write_atomic(&dir.join("report.json"), &json)?;
        write_atomic(&dir.join("report.md"), self.markdown().as_bytes())
    }
}
