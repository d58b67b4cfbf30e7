//! The run file: a TOML document describing one distillation. Every field has a documented default except
//! `teacher`, `out` and the data files of the stages that run; unknown keys are errors.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::{BackendKind, DeviceSpec};
use crate::distill::{
    LossPositions, RelationKind, RelationOptions, RelationReduction, RelationStates, Stage3Objective,
};
use crate::error::{Error, Result};
use crate::kernels::Kernels;
use crate::model::SublnPlacement;

/// What is trained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Stage 1 (SubLN + BitLinear), Stage 2 (continued pre-training), Stage 3 (CE + λ·LD + γ·AD).
    #[default]
    Bitdistill,
    /// The paper's baseline: BitLinear without SubLN, no Stage 2, Stage 3 with cross-entropy only.
    BitnetSft,
    /// Plain full-precision training of `teacher` itself (Stage 2 and Stage 3 with cross-entropy): how this
    /// project trains its own small teachers.
    FullPrecision,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Full-precision teacher checkpoint directory (needs `tokenizer.json`).
    pub teacher: PathBuf,
    /// Output directory: checkpoints/, metrics.jsonl, and the result: student/ (or model/ for full-precision).
    pub out: PathBuf,
    /// `bitdistill` (default), `bitnet-sft` or `full-precision`.
    #[serde(default)]
    pub method: Method,
    /// `flex` (default: burn's Flex CPU backend), `ndarray` or `wgpu`.
    #[serde(default)]
    pub backend: BackendKind,
    /// Data parallelism over devices in one process (train/shards.rs): one student replica per device, each on
    /// its share of every micro-batch, the gradients moved to the first device (of `backend`) and summed there,
    /// one optimizer step. Entries: `flex`, `ndarray`, `wgpu`, `wgpu:N`. Empty (default): `backend`'s device alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceSpec>,
    /// Seed of data order and sampling (default 0).
    #[serde(default)]
    pub seed: u64,
    /// `fused` (default: the WGSL kernels of shaders/ on the wgpu backend, the reference on ndarray) or
    /// `reference` (composed tensor operations everywhere).
    #[serde(default)]
    pub kernels: Kernels,
    #[serde(default)]
    pub student: StudentSection,
    #[serde(default)]
    pub stage2: Stage2Section,
    #[serde(default)]
    pub stage3: Stage3Section,
    #[serde(default)]
    pub optim: OptimSection,
    #[serde(default)]
    pub checkpoint: CheckpointSection,
    #[serde(default)]
    pub snapshot: SnapshotSection,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StudentSection {
    /// Start from this student directory (made by `bitdistill student init`) instead of building the Stage-1
    /// student from the teacher; its shapes must match the teacher's.
    pub init: Option<PathBuf>,
    /// SubLN placement, `paper` (default: on the inputs of o_proj and down_proj), `all` or `none`.
    pub subln: SublnPlacement,
    /// Steps over which the quantization blend λ rises from 0 to 1 (default 0: quantized from the start).
    pub quant_warmup_steps: usize,
}

impl Default for StudentSection {
    fn default() -> Self {
        Self {
            init: None,
            subln: SublnPlacement::Paper,
            quant_warmup_steps: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Stage2Section {
    /// Monolingual corpus files or globs: `.txt` (a document per line), `.jsonl` (a JSON object per line),
    /// either also as `.gz` or `.zst`, and `.parquet`.
    pub corpus: Vec<PathBuf>,
    /// The JSON field of `.jsonl` lines and the column of Parquet files that holds the text (default `text`).
    pub text_field: String,
    /// Token cache folder: the corpus is tokenized into it once and trained from it with constant memory,
    /// reused while corpus and tokenizer are unchanged (default `out/token-cache`).
    pub cache: Option<PathBuf>,
    /// Tokens to train on (default 0: Stage 2 is skipped).
    pub tokens: usize,
    /// Tokens per packed block (default 128).
    pub block_len: usize,
}

impl Default for Stage2Section {
    fn default() -> Self {
        Self {
            corpus: Vec::new(),
            text_field: crate::data::DEFAULT_TEXT_FIELD.into(),
            cache: None,
            tokens: 0,
            block_len: 128,
        }
    }
}

impl Stage2Section {
    /// The folder of the token cache of a run writing into `out`.
    pub fn cache_dir(&self, out: &Path) -> PathBuf {
        self.cache.clone().unwrap_or_else(|| out.join("token-cache"))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Stage3Section {
    /// Translation pairs, `.jsonl` (`{"source", "target", "source_lang"?, "target_lang"?}`) or `.tsv`.
    pub pairs: Option<PathBuf>,
    /// Languages of pairs that do not name theirs (default `en` → `pt`).
    pub source_lang: String,
    pub target_lang: String,
    /// Optimizer steps (default 100; 0 skips Stage 3).
    pub steps: usize,
    /// Longest example in tokens (default 256).
    pub max_len: usize,
    /// Batches per pool whose examples are sorted by length before batching, so that a batch pads little
    /// (default 16; 0 or 1: every batch a plain random draw). Data order stays a seeded function of position.
    pub length_pool: usize,
    /// λ, weight of logits distillation (default 10, the paper's classification value; 1 for summarization).
    pub lambda: f64,
    /// γ, weight of attention-relation distillation (default 1e5; 1e3 for summarization).
    pub gamma: f64,
    /// τ, distillation temperature (default 5).
    pub tau: f64,
    /// Layer (0-based) whose Q/K/V relations are distilled (default: L−4 for L ≥ 8 layers, else the last).
    pub layer: Option<usize>,
    /// Relation heads r (default 32, the official `split_head_number`); must divide the query width and the
    /// key/value width.
    pub relation_heads: usize,
    /// `attention` (default, official: Q and K after RoPE and qk-norm, V as projected, as attention uses them)
    /// or `projections` (the raw q/k/v projection outputs).
    pub relation_states: RelationStates,
    /// `cosine` (default, official: L2-normalised head vectors, no 1/√d) or `scaled-dot` (`a aᵀ/√d_r`).
    pub relation: RelationKind,
    /// `all` (default, official: every real token is a query and a key) or `reply` (only the positions whose
    /// next token is a target).
    pub relation_positions: LossPositions,
    /// Relate positions only to earlier ones (default false, as the official code: every pair).
    pub causal: bool,
    /// `official` (default: probabilities clamped at 1e-8, mean over rows and relation heads, then ÷ r) or
    /// `mean` (exact probabilities, mean over rows and heads: r times larger).
    pub relation_reduction: RelationReduction,
    /// `all` (default, official: logits distillation over every real token) or `reply` (reply tokens only).
    pub logits_positions: LossPositions,
}

impl Default for Stage3Section {
    fn default() -> Self {
        Self {
            pairs: None,
            source_lang: "en".into(),
            target_lang: "pt".into(),
            steps: 100,
            max_len: 256,
            length_pool: 16,
            lambda: 10.0,
            gamma: 1e5,
            tau: 5.0,
            layer: None,
            relation_heads: 32,
            relation_states: RelationStates::Attention,
            relation: RelationKind::Cosine,
            relation_positions: LossPositions::All,
            causal: false,
            relation_reduction: RelationReduction::Official,
            logits_positions: LossPositions::All,
        }
    }
}

impl Stage3Section {
    /// The distilled layer: `layer`, else L−4 for models of 8 layers or more, else the last.
    pub fn distilled_layer(&self, layers: usize) -> usize {
        self.layer.unwrap_or(if layers >= 8 { layers - 4 } else { layers - 1 })
    }

    /// The objective these settings describe, for a model of `layers` layers.
    pub fn objective(&self, layers: usize, kernels: Kernels) -> Stage3Objective {
        Stage3Objective {
            lambda: self.lambda,
            gamma: self.gamma,
            tau: self.tau,
            layer: self.distilled_layer(layers),
            relation: RelationOptions {
                heads: self.relation_heads,
                kind: self.relation,
                causal: self.causal,
                reduction: self.relation_reduction,
                kernels,
            },
            relation_states: self.relation_states,
            relation_positions: self.relation_positions,
            logits_positions: self.logits_positions,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimSection {
    /// Peak learning rate of AdamW (default 1e-4).
    pub lr: f64,
    /// Linear warm-up steps before the cosine decay (default 10).
    pub warmup_steps: usize,
    /// Decoupled weight decay (default 0.01).
    pub weight_decay: f32,
    /// Clip the global gradient norm to this (default 1.0; 0 = off).
    pub grad_clip: f64,
    /// Micro-batches per optimizer step (default 1).
    pub grad_accum: usize,
    /// Sequences per micro-batch (default 8).
    pub batch_size: usize,
    /// Shards each micro-batch's rows are split into and computed side by side (data parallelism over the CPU
    /// cores; train/shards.rs). 0 (default) = one per CPU thread on the CPU backends, 1 on wgpu, where one
    /// queue runs every kernel anyway. The loss is the same either way up to float rounding; set a number to
    /// reproduce a run bit for bit on another machine.
    pub shards: usize,
    /// Positions per chunk of the vocabulary terms (CE and logits KD): the logits of one chunk exist at a time,
    /// forward and backward (distill/chunked.rs), which the full vocabulary needs at length 512. 0 (default):
    /// every position at once, the fastest where it fits.
    pub vocab_chunk: usize,
}

impl OptimSection {
    /// The shard count this run uses on `backend` (see [`Self::shards`]).
    pub fn shards_on(&self, backend: BackendKind) -> usize {
        match (self.shards, backend) {
            (0, BackendKind::Flex) => rayon::current_num_threads(),
            #[cfg(not(target_arch = "wasm32"))]
            (0, BackendKind::Ndarray) => rayon::current_num_threads(),
            #[cfg(not(target_arch = "wasm32"))]
            (0, BackendKind::Wgpu) => 1,
            (n, _) => n,
        }
    }
}

impl Default for OptimSection {
    fn default() -> Self {
        Self {
            lr: 1e-4,
            warmup_steps: 10,
            weight_decay: 0.01,
            grad_clip: 1.0,
            grad_accum: 1,
            batch_size: 8,
            shards: 0,
            vocab_chunk: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointSection {
    /// Write a checkpoint every this many optimizer steps (default 50; 0 = only at the end of a stage).
    pub every: usize,
    /// Keep this many most recent checkpoints (default 3).
    pub keep: usize,
}

impl Default for CheckpointSection {
    fn default() -> Self {
        Self { every: 50, keep: 3 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotSection {
    /// Emit weight histograms and attention maps every this many steps (default 25; 0 = never).
    pub every: usize,
    /// The sentence whose attention is drawn.
    pub probe: String,
}

impl Default for SnapshotSection {
    fn default() -> Self {
        Self {
            every: 25,
            probe: "The quick brown fox jumps over the lazy dog.".into(),
        }
    }
}

impl RunConfig {
    /// Parses a run file; relative paths in it are taken from the file's folder. Errors name the file and
    /// the key (unknown keys, wrong types) or the missing path.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config = Self::from_text(path, &text)?;
        config.validate_files(path)?;
        Ok(config)
    }

    /// Parses the text of the run file at `path` (a file or, in the browser, a URL path) and checks its values,
    /// not its files (which the browser fetches and checks as it does): relative paths are taken from the
    /// folder of `path`.
    pub fn from_text(path: &Path, text: &str) -> Result<Self> {
        let mut config: Self = toml::from_str(text).map_err(|e| Error::config(path, e.to_string().trim_end()))?;
        config.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        config.validate_values(path)?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.teacher);
        join(&mut self.out);
        self.student.init.iter_mut().for_each(join);
        self.stage2.corpus.iter_mut().for_each(join);
        self.stage2.cache.iter_mut().for_each(join);
        self.stage3.pairs.iter_mut().for_each(join);
    }

    /// The checks every run file passes (files exist, numbers in range); errors name `path` and the key.
    pub(crate) fn validate(&self, path: &Path) -> Result<()> {
        self.validate_files(path)?;
        self.validate_values(path)
    }

    /// The files the run reads exist.
    fn validate_files(&self, path: &Path) -> Result<()> {
        let missing =
            |key: &str, file: &Path| Error::config(path, format!("`{key}`: {} does not exist", file.display()));
        if !self.teacher.join("config.json").exists() {
            return Err(missing("teacher", &self.teacher.join("config.json")));
        }
        if let Some(init) = self.student.init.as_ref().filter(|d| !d.join("config.json").exists()) {
            return Err(missing("student.init", &init.join("config.json")));
        }
        if self.runs_stage2() {
            self.check_corpus(path)?;
        }
        if let Some(file) = self
            .stage3
            .pairs
            .as_ref()
            .filter(|f| self.stage3.steps > 0 && !f.exists())
        {
            return Err(missing("stage3.pairs", file));
        }
        Ok(())
    }

    /// Stage 2's corpus entries exist (globs match) and have a known format.
    #[cfg(not(target_arch = "wasm32"))]
    fn check_corpus(&self, path: &Path) -> Result<()> {
        let files = crate::data::expand_corpus(&self.stage2.corpus)
            .map_err(|e| Error::config(path, format!("`stage2.corpus`: {e}")))?;
        for file in files {
            crate::data::format_of(&file).map_err(|e| Error::config(path, format!("`stage2.corpus`: {e}")))?;
        }
        Ok(())
    }

    /// In the browser the corpus files are handed over by path; they are checked when read.
    #[cfg(target_arch = "wasm32")]
    fn check_corpus(&self, _path: &Path) -> Result<()> {
        Ok(())
    }

    /// The devices the run trains on, the main one first (`devices`, or `backend`'s device alone).
    pub fn devices(&self) -> Vec<DeviceSpec> {
        match self.devices.is_empty() {
            true => vec![DeviceSpec::default_of(self.backend)],
            false => self.devices.clone(),
        }
    }

    fn runs_stage2(&self) -> bool {
        self.stage2.tokens > 0 && self.method != Method::BitnetSft
    }

    /// Each stage that runs has its data, and the numbers are in range.
    fn validate_values(&self, path: &Path) -> Result<()> {
        if self.runs_stage2() && self.stage2.corpus.is_empty() {
            return Err(Error::config(
                path,
                "`stage2.corpus`: Stage 2 has tokens > 0 but no corpus files",
            ));
        }
        if self.stage3.steps > 0 && self.stage3.pairs.is_none() {
            return Err(Error::config(
                path,
                "`stage3.pairs`: Stage 3 has steps > 0 but no pairs file",
            ));
        }
        if let Some(main) = self.devices.first().filter(|d| d.backend != self.backend) {
            return Err(Error::config(
                path,
                format!(
                    "`devices`: the first device is the main one and must be of `backend` ({}), not `{main}`",
                    DeviceSpec::default_of(self.backend)
                ),
            ));
        }
        let counts = [
            ("optim.batch_size", self.optim.batch_size),
            ("optim.grad_accum", self.optim.grad_accum),
            ("stage2.block_len", self.stage2.block_len),
            ("stage3.relation_heads", self.stage3.relation_heads),
        ];
        if let Some((key, _)) = counts.iter().find(|(_, v)| *v == 0) {
            return Err(Error::config(path, format!("`{key}` must be at least 1")));
        }
        if !(self.stage3.tau > 0.0 && self.stage3.tau.is_finite()) {
            return Err(Error::config(path, "`stage3.tau` must be positive"));
        }
        // lr 0 is allowed: it measures the losses of a fixed student (tests/training.rs does).
        let weights = [
            ("optim.lr", self.optim.lr),
            ("stage3.lambda", self.stage3.lambda),
            ("stage3.gamma", self.stage3.gamma),
        ];
        if let Some((key, _)) = weights.iter().find(|(_, v)| !(*v >= 0.0 && v.is_finite())) {
            return Err(Error::config(path, format!("`{key}` must be zero or positive")));
        }
        Ok(())
    }
}
