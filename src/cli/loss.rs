//! `bitdistill loss`: the three unweighted Stage-3 terms of one batch file, computed once by the trainer's own
//! objective, with the run file's defaults for every setting not given.

use std::path::PathBuf;

use anyhow::Context;
use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use bitdistill::distill::{
    LossPositions, RelationKind, RelationReduction, RelationStates, check_compatible, check_relation_heads,
    read_loss_inputs,
};
use bitdistill::kernels::Kernels;
use bitdistill::train::Stage3Section;
use burn::tensor::Tensor;

use super::loaded::TeacherStudentArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    models: TeacherStudentArgs,
    /// safetensors file: `input_ids` [B, T] (I64/I32), optional `attention_mask` [B, T], `labels_mask` [B, T].
    #[arg(long)]
    inputs: PathBuf,
    /// Distilled layer, 0-based (default: as the run file, L−4 for L ≥ 8 layers, else the last).
    #[arg(long)]
    layer: Option<usize>,
    /// Relation heads r (default 32); must divide the query and key/value widths.
    #[arg(long)]
    relation_heads: Option<usize>,
    /// Logits-distillation temperature τ (default 5).
    #[arg(long)]
    tau: Option<f64>,
    #[arg(long, value_enum)]
    relation_states: Option<RelationStates>,
    #[arg(long, value_enum)]
    relation: Option<RelationKind>,
    #[arg(long, value_enum)]
    relation_positions: Option<LossPositions>,
    /// Relate positions only to earlier ones (default: every pair).
    #[arg(long)]
    causal: bool,
    #[arg(long, value_enum)]
    relation_reduction: Option<RelationReduction>,
    #[arg(long, value_enum)]
    logits_positions: Option<LossPositions>,
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    #[arg(long, value_enum, default_value_t = Kernels::Fused)]
    kernels: Kernels,
    /// Print one JSON object `{"ce", "logits_kd", "attention_kd"}`.
    #[arg(long)]
    json: bool,
}

impl Args {
    /// The run file's Stage-3 defaults with this command's settings on top.
    fn stage3(&self) -> Stage3Section {
        let defaults = Stage3Section::default();
        Stage3Section {
            layer: self.layer,
            relation_heads: self.relation_heads.unwrap_or(defaults.relation_heads),
            tau: self.tau.unwrap_or(defaults.tau),
            relation_states: self.relation_states.unwrap_or(defaults.relation_states),
            relation: self.relation.unwrap_or(defaults.relation),
            relation_positions: self.relation_positions.unwrap_or(defaults.relation_positions),
            causal: self.causal,
            relation_reduction: self.relation_reduction.unwrap_or(defaults.relation_reduction),
            logits_positions: self.logits_positions.unwrap_or(defaults.logits_positions),
            ..defaults
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let device = args.backend.device();
    let mut teacher_checkpoint = Checkpoint::open(&args.models.teacher)?;
    let mut student_checkpoint = Checkpoint::open(&args.models.student)?;
    let config = teacher_checkpoint.config.clone();
    anyhow::ensure!(
        config.student.is_none(),
        "{}: this is a student; --teacher takes the full-precision model",
        args.models.teacher.display()
    );
    check_compatible(&config, &student_checkpoint.config, &args.models.student)?;
    let stage3 = args.stage3();
    anyhow::ensure!(stage3.tau > 0.0, "--tau must be positive");
    let layers = config.num_hidden_layers;
    if let Some(layer) = args.layer.filter(|&l| l >= layers) {
        anyhow::bail!("--layer {layer} is beyond this model's layers 0..={}", layers - 1);
    }
    check_relation_heads(&config, stage3.relation_heads)
        .map_err(|message| anyhow::anyhow!("{}: {message}", args.models.teacher.join("config.json").display()))?;
    let objective = stage3.objective(layers, args.kernels);

    let batch = read_loss_inputs(&args.inputs, config.vocab_size, &device)?;
    let teacher = teacher_checkpoint.load_model(&device)?;
    let student = student_checkpoint.load_model(&device)?.with_kernels(args.kernels);
    let terms = objective.terms(&student, Some(&teacher), &batch, true);
    let value = |t: Tensor<1>| -> anyhow::Result<f64> {
        Ok(t.into_data().try_into_vec_as::<f32>().ok().context("reading a loss")?[0] as f64)
    };
    let ce = value(terms.ce)?;
    let logits_kd = value(terms.logits_kd.context("the logits term was computed")?)?;
    let attention_kd = value(terms.attention_kd.context("the relation term was computed")?)?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"ce": ce, "logits_kd": logits_kd, "attention_kd": attention_kd})
        );
        return Ok(());
    }
    let r = &objective.relation;
    println!("ce            {ce:.6}");
    println!(
        "logits_kd     {logits_kd:.6}   (τ {}, {:?} positions)",
        objective.tau, objective.logits_positions
    );
    println!(
        "attention_kd  {attention_kd:.6}   (layer {}, r {}, {:?} states, {:?}, {:?} positions, causal {}, {:?} reduction)",
        objective.layer,
        r.heads,
        objective.relation_states,
        r.kind,
        objective.relation_positions,
        r.causal,
        r.reduction
    );
    Ok(())
}
