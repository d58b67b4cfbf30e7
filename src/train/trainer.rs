//! The training loop: AdamW with a cosine schedule, global-norm clipping, gradient accumulation over micro-batches
//! (each computed in parallel shards), seeded data order, periodic snapshots and atomic checkpoints; every step
//! is reported as a [`TrainEvent`].

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsAccumulator, ModuleOptimizer};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use web_time::Instant;

use super::checkpoint::{TrainState, complete_checkpoints, read_checkpoint, write_checkpoint};
use super::config::{Method, RunConfig};
use super::data::{document_separator, stage_examples, stage_steps};
use super::events::{Stage, StepMetrics, TrainEvent};
use super::files::RunFiles;
use super::grads::clip_global_norm;
use super::schedule::cosine_with_warmup;
use super::shards::{LossValues, Replica, ShardedPass};
use super::snapshot::take_snapshot;
use crate::checkpoint::{Checkpoint, SaveDtype, save_checkpoint};
use crate::data::{Example, TokenBatch};
use crate::distill::{Stage3Objective, check_compatible, check_relation_heads, student_from_teacher};
use crate::error::{Error, Result};
use crate::generate::tokenizer_of;
use crate::kernels::runs_kernels;
use crate::model::{HunYuan, HunYuanConfig, SublnPlacement};
use crate::quant::warmup_blend;
use crate::tokenizer::{TOKENIZER_FILE, Tokenizer};

/// Lets another thread steer a run between optimizer steps: stop (the trainer checkpoints and returns), pause,
/// resume, or take single steps while paused.
#[derive(Clone, Debug, Default)]
pub struct RunControl {
    stop: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    /// Steps a paused run may still take (the GUI's step button).
    single_steps: Arc<AtomicUsize>,
}

impl RunControl {
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn pause(&self) {
        self.paused.store(true, Ordering::Relaxed);
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::Relaxed);
    }

    /// While paused: lets exactly one more optimizer step run.
    pub fn step_once(&self) {
        self.single_steps.fetch_add(1, Ordering::Relaxed);
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Blocks while paused, until resumed, stopped, or granted a single step.
    fn wait_while_paused(&self) {
        while self.is_paused() && !self.stopped() {
            let granted = self
                .single_steps
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
            if granted.is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    /// All stages done; the student directory.
    Finished(PathBuf),
    /// All stages done by a run that writes nothing ([`RunFiles::writes_out`] off: the browser's).
    FinishedUnwritten,
    /// Stopped on request after checkpointing; `--resume` continues.
    Stopped,
}

struct Run<'a> {
    config: &'a RunConfig,
    files: &'a RunFiles,
    objective: Stage3Objective,
    device: Device,
    /// The devices a step runs on, the main one (`device`) first, each with the teacher.
    replicas: Vec<Replica>,
    tokenizer: Tokenizer,
    student_config: HunYuanConfig,
    emit: &'a mut dyn FnMut(TrainEvent),
}

/// Runs (or, with `resume`, continues) the run file's stages on the files it names and writes the student to
/// `out/student`.
pub fn run(
    config: &RunConfig,
    resume: bool,
    control: &RunControl,
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<RunOutcome> {
    run_with(config, &RunFiles::disk(config), resume, control, emit)
}

/// [`run`] on `files`: the teacher and data handed over (from disk or memory), writing under `out` only where
/// `files.writes_out` says so.
pub fn run_with(
    config: &RunConfig,
    files: &RunFiles,
    resume: bool,
    control: &RunControl,
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<RunOutcome> {
    let devices = config.devices();
    let device = devices[0].device().autodiff();
    let mut teacher_checkpoint = Checkpoint::from_files(&files.teacher, None)?;
    let teacher = teacher_checkpoint.load_model(&device)?.no_grad();
    let replicas: Vec<Replica> = devices
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let on = spec.device().autodiff();
            Replica {
                teacher: match index {
                    0 => teacher.clone(),
                    _ => teacher.clone().to_device(&on).no_grad(),
                },
                device: on,
                shards: config.optim.shards_on(spec.backend),
            }
        })
        .collect();
    let tokenizer = tokenizer_of(&files.teacher)?.ok_or_else(|| {
        Error::config(
            files.teacher.path(TOKENIZER_FILE),
            "the teacher has no tokenizer, which a run needs",
        )
    })?;
    let layers = teacher_checkpoint.config.num_hidden_layers;
    if let Some(layer) = config.stage3.layer.filter(|&l| l >= layers) {
        return Err(Error::config(
            files.teacher.path("config.json"),
            format!(
                "the run file's `stage3.layer` is {layer}, but this model's layers are 0..={}",
                layers - 1
            ),
        ));
    }

    let objective = config.stage3.objective(layers, config.kernels);
    // r is only used (and so only checked) when Stage 3 distils relations.
    let distills_relations =
        config.method == Method::Bitdistill && config.stage3.steps > 0 && config.stage3.gamma > 0.0;
    if distills_relations {
        check_relation_heads(&teacher_checkpoint.config, config.stage3.relation_heads)
            .map_err(|message| Error::config(files.teacher.path("config.json"), format!("the run file's {message}")))?;
    }

    let subln = match config.method {
        Method::Bitdistill => config.student.subln,
        Method::BitnetSft | Method::FullPrecision => SublnPlacement::None,
    };
    let provenance = serde_json::json!({"teacher": config.teacher, "method": config.method});
    let (student_config, student) = match &config.student.init {
        // Full precision trains the teacher checkpoint itself; the frozen copy above is its starting point.
        _ if config.method == Method::FullPrecision => (
            teacher_checkpoint.config.clone(),
            teacher_checkpoint.load_model(&device)?,
        ),
        Some(dir) => {
            let mut checkpoint = Checkpoint::open(dir)?;
            check_compatible(&teacher_checkpoint.config, &checkpoint.config, dir)?;
            if checkpoint.config.student.is_none() {
                return Err(Error::config(
                    dir.join("config.json"),
                    "not a student: it has no `bitdistill` section",
                ));
            }
            let model = checkpoint.load_model(&device)?;
            (checkpoint.config.clone(), model)
        }
        None => student_from_teacher(&files.teacher, subln, provenance, &device)?,
    };
    let mut student = student.with_kernels(config.kernels);

    let checkpoints = config.out.join("checkpoints");
    let mut resumed: Option<(TrainState, Vec<u8>)> = None;
    if resume
        && files.writes_out
        && let Some(latest) = complete_checkpoints(&checkpoints)?.pop()
    {
        let (state, model_bytes, optimizer_bytes) = read_checkpoint(&latest)?;
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(model_bytes))
            .map_err(|e| Error::Invalid(format!("{}: {e}", latest.display())))?;
        student = student.load_record(record);
        resumed = Some((state, optimizer_bytes));
    }

    let mut run = Run {
        config,
        files,
        objective,
        device,
        replicas,
        tokenizer,
        student_config,
        emit,
    };
    let mut stages = Vec::new();
    if config.method != Method::BitnetSft && stage_steps(Stage::Pretrain, config) > 0 {
        stages.push(Stage::Pretrain);
    }
    if stage_steps(Stage::Distill, config) > 0 {
        stages.push(Stage::Distill);
    }
    for stage in stages {
        let start = match &resumed {
            Some((state, _)) if state.stage > stage => continue,
            Some((state, optimizer)) if state.stage == stage => Some((state.clone(), optimizer.clone())),
            _ => None,
        };
        let (model, stopped) = run.stage(stage, student, start, control, &checkpoints)?;
        student = model;
        if stopped {
            return Ok(RunOutcome::Stopped);
        }
    }

    if !files.writes_out {
        (run.emit)(TrainEvent::Finished { student: None });
        return Ok(RunOutcome::FinishedUnwritten);
    }
    let student_dir = config.out.join(if config.method == Method::FullPrecision {
        "model"
    } else {
        "student"
    });
    save_checkpoint(&student, &run.student_config, &student_dir, SaveDtype::F32, false, None)?;
    let tokenizer_path = student_dir.join(TOKENIZER_FILE);
    crate::atomic::write_atomic(&tokenizer_path, &files.teacher.read(TOKENIZER_FILE)?)?;
    (run.emit)(TrainEvent::Finished {
        student: Some(student_dir.display().to_string()),
    });
    Ok(RunOutcome::Finished(student_dir))
}

impl Run<'_> {
    fn stage(
        &mut self,
        stage: Stage,
        mut student: HunYuan,
        resume: Option<(TrainState, Vec<u8>)>,
        control: &RunControl,
        checkpoints: &std::path::Path,
    ) -> Result<(HunYuan, bool)> {
        let config = self.config;
        let eos = document_separator(&self.student_config, &self.tokenizer);
        let examples = stage_examples(stage, config, self.files, &self.tokenizer, eos, &mut *self.emit)?;
        let total_steps = stage_steps(stage, config);
        let mut sampler = examples.sampler(config.seed ^ (stage as u64 + 1), config);
        let mut optimizer: ModuleOptimizer = AdamWConfig::new().with_weight_decay(config.optim.weight_decay).init();
        let mut state = TrainState {
            stage,
            step: 0,
            position: 0,
            seed: config.seed,
        };
        if let Some((saved, optimizer_bytes)) = resume {
            optimizer = optimizer
                .from_bytes(Bytes::from_bytes_vec(optimizer_bytes))
                .map_err(|e| Error::Invalid(format!("optimizer state of {}: {e}", checkpoints.display())))?;
            state = saved;
        }
        (self.emit)(TrainEvent::StageStarted {
            stage,
            total_steps,
            start_step: state.step,
        });

        let distilling = stage == Stage::Distill && config.method == Method::Bitdistill;
        if distilling && config.stage3.gamma > 0.0 {
            self.say_when_relations_are_not_fused();
        }
        let probe = self.tokenizer.encode(&config.snapshot.probe)?;
        let pieces = self.tokenizer.pieces(&probe);
        let mut last_good: Option<PathBuf> = None;

        while state.step < total_steps {
            control.wait_while_paused();
            if control.stopped() {
                if self.files.writes_out {
                    self.checkpoint(&student, &optimizer, &state, checkpoints)?;
                }
                return Ok((student, true));
            }
            let started = Instant::now();
            let blend = warmup_blend(state.step, config.student.quant_warmup_steps);
            if config.student.quant_warmup_steps > 0 {
                student = student.with_quant_blend(blend);
            }
            let pass = ShardedPass {
                objective: &self.objective,
                replicas: &self.replicas,
                distilling,
                relations: config.stage3.gamma > 0.0,
                vocab_chunk: config.optim.vocab_chunk,
            };
            let mut accumulator = GradientsAccumulator::new();
            let mut losses = LossValues::default();
            let (mut tokens, mut real_tokens) = (0, 0);
            for _ in 0..config.optim.grad_accum {
                let batch: Vec<Cow<Example>> = (0..config.optim.batch_size)
                    .map(|i| examples.get(sampler.index(state.position + i)))
                    .collect();
                state.position += batch.len();
                let batch: Vec<&Example> = batch.iter().map(|e| e.as_ref()).collect();
                let batch = TokenBatch::from_examples(&batch, self.student_config.pad_token_id);
                tokens += batch.batch * batch.len;
                real_tokens += batch.real_tokens();
                let (shard_grads, values) = pass.run(&student, &batch, 1.0 / config.optim.grad_accum as f64)?;
                if !values.total.is_finite() {
                    let kept = last_good
                        .as_ref()
                        .map_or("none yet".into(), |p| p.display().to_string());
                    let message = format!(
                        "{stage:?} step {}: the loss is {}; stopping (last good checkpoint: {kept})",
                        state.step + 1,
                        values.total
                    );
                    (self.emit)(TrainEvent::Failed {
                        message: message.clone(),
                    });
                    return Err(Error::Invalid(message));
                }
                losses += values;
                for grads in shard_grads {
                    accumulator.accumulate(&student, grads);
                }
            }
            let mut grads = accumulator.grads();
            let grad_norm = clip_global_norm(&student, &mut grads, config.optim.grad_clip)?;
            let lr = cosine_with_warmup(state.step, total_steps, config.optim.warmup_steps, config.optim.lr);
            student = optimizer.step(lr, student, grads);
            state.step += 1;

            (self.emit)(TrainEvent::Step(StepMetrics {
                stage,
                step: state.step,
                total_steps,
                loss: losses.total,
                ce: losses.ce,
                logits_kd: (distilling && config.stage3.lambda > 0.0).then_some(losses.logits_kd),
                attention_kd: (distilling && config.stage3.gamma > 0.0).then_some(losses.attention_kd),
                lr,
                grad_norm,
                tokens_per_s: tokens as f64 / started.elapsed().as_secs_f64(),
                padding_share: 1.0 - real_tokens as f64 / tokens.max(1) as f64,
                quant_blend: blend,
            }));
            let due = |every: usize| every > 0 && state.step.is_multiple_of(every);
            if due(config.snapshot.every) {
                let snapshot = take_snapshot(
                    stage,
                    state.step,
                    &self.replicas[0].teacher,
                    &student,
                    &probe,
                    pieces.clone(),
                    &self.objective,
                    distilling && config.stage3.gamma > 0.0,
                    &self.device,
                );
                (self.emit)(TrainEvent::Snapshot(Box::new(snapshot)));
            }
            if self.files.writes_out && (due(config.checkpoint.every) || state.step == total_steps) {
                last_good = Some(self.checkpoint(&student, &optimizer, &state, checkpoints)?);
            }
        }
        (self.emit)(TrainEvent::StageFinished { stage });
        Ok((student, false))
    }

    /// Tells the user once when the fused kernels were asked for but the relation term takes the reference
    /// path for this run file's settings.
    fn say_when_relations_are_not_fused(&mut self) {
        if self.config.kernels != crate::kernels::Kernels::Fused || !runs_kernels(&self.device) {
            return;
        }
        let widths = [self.student_config.q_dim(), self.student_config.kv_dim()];
        if let Some(reason) = widths.iter().find_map(|&w| self.objective.relation.unfused_reason(w)) {
            (self.emit)(TrainEvent::Notice {
                message: format!("the attention-relation term takes the reference path: {reason}"),
            });
        }
    }

    fn checkpoint(
        &mut self,
        student: &HunYuan,
        optimizer: &ModuleOptimizer,
        state: &TrainState,
        root: &std::path::Path,
    ) -> Result<PathBuf> {
        let invalid = |e: burn::store::RecordError| Error::Invalid(format!("serializing a checkpoint: {e}"));
        let model = student.clone().into_record().into_bytes().map_err(invalid)?;
        let optim = optimizer.into_bytes().map_err(invalid)?;
        let path = write_checkpoint(root, state, &model, &optim, self.config.checkpoint.keep)?;
        (self.emit)(TrainEvent::Checkpoint {
            stage: state.stage,
            step: state.step,
            path: path.display().to_string(),
        });
        Ok(path)
    }
}
