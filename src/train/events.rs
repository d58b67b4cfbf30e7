//! The typed event stream of a run: the CLI prints and logs it, the GUI draws it.

use serde::{Deserialize, Serialize};

use crate::data::CacheProgress;

/// Which training stage an event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Stage 2: continued pre-training with next-token cross-entropy.
    Pretrain,
    /// Stage 3: distillation fine-tuning (or plain CE fine-tuning for BitNet-SFT).
    Distill,
}

/// One optimizer step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    pub stage: Stage,
    /// 1-based step within the stage.
    pub step: usize,
    pub total_steps: usize,
    pub loss: f64,
    pub ce: f64,
    /// λ·L_LD's unweighted L_LD (Stage 3 with distillation only).
    pub logits_kd: Option<f64>,
    /// Unweighted L_AD.
    pub attention_kd: Option<f64>,
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Tokens (padding included) per second of the step.
    pub tokens_per_s: f64,
    /// Share of the step's tokens that were padding.
    #[serde(default)]
    pub padding_share: f64,
    /// Quantization blend λ_t of the warm-up.
    pub quant_blend: f64,
}

/// Weight statistics of one layer's BitLinears.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerQuantStats {
    pub layer: usize,
    /// Share of −1, 0, +1 codes over the layer's seven projections.
    pub ternary_share: [f64; 3],
    /// Histogram of W/Δ over [−3, 3] in `bins` equal bins (the ternary thresholds sit at ±0.5).
    pub histogram: Vec<u64>,
    /// Relative L2 error of int8-quantizing this layer's normed input on the probe sentence.
    pub activation_error: f64,
}

/// Periodic look inside the student (and teacher) on the probe sentence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub stage: Stage,
    pub step: usize,
    pub layers: Vec<LayerQuantStats>,
    /// Probe tokens as text pieces.
    pub tokens: Vec<String>,
    /// Layer of the attention maps below (the distilled layer).
    pub attention_layer: usize,
    /// `[heads][T][T]` attention probabilities, flattened row-major.
    pub teacher_attention: Vec<f32>,
    pub student_attention: Vec<f32>,
    pub heads: usize,
    /// Relation matrices of the distilled layer's Q, K and V (first relation head), `[3][T][T]` flattened
    /// row-major: what L_AD compares, formed from the run file's states, relation kind and causality.
    pub teacher_relations: Vec<f32>,
    pub student_relations: Vec<f32>,
    /// How those relations are formed, in words (states, relation kind, causality, relation heads).
    #[serde(default)]
    pub relation_form: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum TrainEvent {
    StageStarted {
        stage: Stage,
        total_steps: usize,
        start_step: usize,
    },
    Step(StepMetrics),
    Snapshot(Box<Snapshot>),
    Checkpoint {
        stage: Stage,
        step: usize,
        path: String,
    },
    StageFinished {
        stage: Stage,
    },
    /// The run is done; `student` is where it wrote the student (`None`: a run that keeps nothing, the browser's).
    Finished {
        student: Option<String>,
    },
    Failed {
        message: String,
    },
    /// Stage 2's corpus is being tokenized into its token cache.
    Tokenizing(CacheProgress),
    /// Something the user should know about how the run computes (said once, e.g. a reference-path fallback).
    Notice {
        message: String,
    },
}
