//! `bitdistill bench kernels`: each WGSL kernel against its composed tensor-op reference on the wgpu device, in
//! one run: the max abs difference, the milliseconds of each (shader compilation and autotuning in an untimed
//! warm-up, the device synced), and their ratio. `--memory` adds the peak resident memory of the relation KL's
//! forward + backward per path, each in its own process (on lavapipe, device memory is host memory).

use std::process::Command;
use std::time::Instant;

use bitdistill::backend::BackendKind;
use bitdistill::distill::{RelationKind, RelationOptions, RelationReduction, relation_kl};
use bitdistill::kernels::{Kernels, fused, int8_ste, reference_ternary_matmul, ternary_ste};
use bitdistill::quant::int8_codes;
use burn::tensor::{Device, Distribution, Tensor};

use super::train::peak_rss_mib;

#[derive(clap::Args)]
pub struct KernelsArgs {
    /// Also time the relation KL at T = 2048 (slow on a CPU Vulkan driver).
    #[arg(long)]
    long: bool,
    /// Peak memory of the relation KL per path at T = 512 and 2048, each in its own process.
    #[arg(long)]
    memory: bool,
    /// Only these kernels (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<KernelGroup>,
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    #[arg(long, default_value_t = 5)]
    iters: usize,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct MemoryCaseArgs {
    #[arg(long)]
    len: usize,
    #[arg(long, value_enum)]
    kernels: Kernels,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum KernelGroup {
    TernaryQuant,
    ActQuant,
    RelationKl,
    TernaryMatmul,
}

/// HY-MT1.5-1.8B's hidden width, and its relation heads at the distilled layer.
const HIDDEN: usize = 2048;
const RELATION_HEADS: usize = 16;

struct Row {
    kernel: &'static str,
    shape: String,
    max_abs_err: f64,
    /// `max_abs_err` over the reference's max |value|.
    max_rel_err: f64,
    fused_ms: f64,
    reference_ms: f64,
}

/// (max |a − b|, that over max |b|).
fn differences<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> (f64, f64) {
    let scale = b.clone().abs().max().into_scalar::<f32>() as f64;
    let error = (a - b).abs().max().into_scalar::<f32>() as f64;
    (error, error / scale.max(f64::MIN_POSITIVE))
}

/// Milliseconds per call of `work`, after an untimed warm-up, with the device synced.
fn time<T>(device: &Device, args: &KernelsArgs, work: impl Fn() -> T) -> anyhow::Result<f64> {
    let run = |count: usize| -> anyhow::Result<f64> {
        let started = Instant::now();
        for _ in 0..count {
            drop(work());
        }
        device.sync().map_err(|e| anyhow::anyhow!("device sync: {e:?}"))?;
        Ok(started.elapsed().as_secs_f64())
    };
    run(args.warmup)?;
    Ok(1e3 * run(args.iters)? / args.iters as f64)
}

fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// One row: `fused` and `reference` (the same function by each path, called once for the error, then timed).
fn compare<const D: usize>(
    kernel: &'static str,
    shape: String,
    device: &Device,
    args: &KernelsArgs,
    fused: impl Fn() -> Tensor<D>,
    reference: impl Fn() -> Tensor<D>,
) -> anyhow::Result<Row> {
    let (max_abs_err, max_rel_err) = differences(fused(), reference());
    Ok(Row {
        kernel,
        shape,
        max_abs_err,
        max_rel_err,
        fused_ms: time(device, args, &fused)?,
        reference_ms: time(device, args, &reference)?,
    })
}

fn ternary_rows(device: &Device, args: &KernelsArgs) -> anyhow::Result<Vec<Row>> {
    [[300, 257], [HIDDEN, HIDDEN], [3 * HIDDEN, HIDDEN]]
        .into_iter()
        .map(|shape| {
            let w = random(shape, device);
            let quantize = |kernels| ternary_ste(w.clone(), 1.0, kernels);
            let (fused, reference) = (|| quantize(Kernels::Fused), || quantize(Kernels::Reference));
            compare("ternary_quant", format!("{shape:?}"), device, args, fused, reference)
        })
        .collect()
}

fn activation_rows(device: &Device, args: &KernelsArgs) -> anyhow::Result<Vec<Row>> {
    [[37, 300], [512, HIDDEN], [512, 3 * HIDDEN]]
        .into_iter()
        .map(|shape| {
            let x = random(shape, device);
            let quantize = |kernels| int8_ste(x.clone(), 1.0, kernels);
            let (fused, reference) = (|| quantize(Kernels::Fused), || quantize(Kernels::Reference));
            compare("act_quant", format!("{shape:?}"), device, args, fused, reference)
        })
        .collect()
}

/// The relation KL of a student `[1, len, 2048]` against a teacher, forward and backward, on `device`
/// (autodiff); returns the loss and the student's gradient.
fn relation_step(
    student: &Tensor<3>,
    teacher: &Tensor<3>,
    mask: &Tensor<2>,
    heads: usize,
    kernels: Kernels,
) -> (Tensor<1>, Tensor<3>) {
    let student = student.clone().require_grad();
    // The run file's defaults (the official code's conventions).
    let options = RelationOptions {
        heads,
        kind: RelationKind::Cosine,
        causal: false,
        reduction: RelationReduction::Official,
        kernels,
    };
    let loss = relation_kl(student.clone(), teacher.clone(), mask.clone(), &options);
    let grads = loss.clone().backward();
    (loss.detach(), student.grad(&grads).expect("student gradient"))
}

fn relation_rows(device: &Device, args: &KernelsArgs) -> anyhow::Result<Vec<Row>> {
    let device = device.clone().autodiff();
    let mut shapes = vec![(2, 70, 64, 4), (1, 512, HIDDEN, RELATION_HEADS)];
    if args.long {
        shapes.push((1, 2048, HIDDEN, RELATION_HEADS));
    }
    let mut rows = Vec::new();
    for (batch, len, width, heads) in shapes {
        let (student, teacher) = (
            random([batch, len, width], &device),
            random([batch, len, width], &device),
        );
        let mask = Tensor::<2>::ones([batch, len], &device);
        let step = |kernels| relation_step(&student, &teacher, &mask, heads, kernels);
        let ((fused_loss, fused_grad), (reference_loss, reference_grad)) =
            (step(Kernels::Fused), step(Kernels::Reference));
        let shape = format!("[{batch}, {len}, {width}] r={heads} causal, fwd+bwd");
        let (max_abs_err, max_rel_err) = differences(fused_loss, reference_loss);
        rows.push(Row {
            kernel: "relation_kl",
            shape: shape.clone(),
            max_abs_err,
            max_rel_err,
            fused_ms: time(&device, args, || step(Kernels::Fused))?,
            reference_ms: time(&device, args, || step(Kernels::Reference))?,
        });
        let (max_abs_err, max_rel_err) = differences(fused_grad, reference_grad);
        rows.push(Row {
            kernel: "relation_kl_grad",
            shape,
            max_abs_err,
            max_rel_err,
            fused_ms: f64::NAN,
            reference_ms: f64::NAN,
        });
    }
    Ok(rows)
}

fn matmul_rows(device: &Device, args: &KernelsArgs) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (tokens, out_features) in [(1, 3 * HIDDEN), (512, HIDDEN), (512, 3 * HIDDEN)] {
        let (x, w) = (random([tokens, HIDDEN], device), random([out_features, HIDDEN], device));
        let (x_codes, x_scales) = int8_codes(x);
        // The kernel's own codes and Δ on both sides: the matmuls alone are compared.
        let (x_codes, w_codes) = (x_codes.int(), fused::ternary_codes(w.clone()));
        let (packed, delta) = (fused::ternary_pack(w.clone()), fused::absmean(w));
        let fused = || fused::ternary_matmul(x_codes.clone(), x_scales.clone(), packed.clone(), delta.clone());
        let reference = || reference_ternary_matmul(x_codes.clone(), x_scales.clone(), w_codes.clone(), delta.clone());
        let shape = format!("[{tokens}, {HIDDEN}] x [{out_features}, {HIDDEN}]^T");
        rows.push(compare("ternary_matmul", shape, device, args, fused, reference)?);
    }
    Ok(rows)
}

pub fn kernels(args: KernelsArgs) -> anyhow::Result<()> {
    let device = BackendKind::Wgpu.device();
    type Rows = fn(&Device, &KernelsArgs) -> anyhow::Result<Vec<Row>>;
    let groups: [(KernelGroup, Rows); 4] = [
        (KernelGroup::TernaryQuant, ternary_rows),
        (KernelGroup::ActQuant, activation_rows),
        (KernelGroup::RelationKl, relation_rows),
        (KernelGroup::TernaryMatmul, matmul_rows),
    ];
    for (name, group) in groups {
        if !args.only.is_empty() && !args.only.contains(&name) {
            continue;
        }
        for row in group(&device, &args)? {
            if args.json {
                let json = serde_json::json!({"kernel": row.kernel, "shape": row.shape, "max_abs_err": row.max_abs_err,
                    "max_rel_err": row.max_rel_err, "fused_ms": finite(row.fused_ms), "reference_ms": finite(row.reference_ms)});
                println!("{json}");
            } else {
                let timing = match row.fused_ms.is_finite() {
                    true => format!(
                        "fused {:>9.3} ms  reference {:>9.3} ms  ×{:.2}",
                        row.fused_ms,
                        row.reference_ms,
                        row.reference_ms / row.fused_ms
                    ),
                    false => "(timed with the row above)".to_string(),
                };
                println!(
                    "{:<17} {:<42} max|Δ| {:>9.2e} (rel {:>8.1e})  {timing}",
                    row.kernel, row.shape, row.max_abs_err, row.max_rel_err
                );
            }
        }
    }
    if args.memory {
        memory_rows(&args)?;
    }
    Ok(())
}

fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

fn memory_rows(args: &KernelsArgs) -> anyhow::Result<()> {
    for len in [512, 2048] {
        // A path that fails (lavapipe cannot allocate the reference's 256 MiB matrices at T = 2048) is NaN.
        let mut peaks = Vec::new();
        for kernels in ["fused", "reference"] {
            let output = Command::new(std::env::current_exe()?)
                .args([
                    "bench",
                    "kernels-memory-case",
                    "--len",
                    &len.to_string(),
                    "--kernels",
                    kernels,
                ])
                .output()?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            if !output.status.success() {
                let reason = stderr
                    .lines()
                    .find(|l| l.contains("can't allocate"))
                    .unwrap_or("failed");
                eprintln!("relation_kl memory T = {len}, {kernels}: {}", reason.trim());
            }
            peaks.push(
                String::from_utf8(output.stdout)?
                    .trim()
                    .parse::<f64>()
                    .unwrap_or(f64::NAN),
            );
        }
        // One [B, r, T, T] f32 relation matrix, for scale.
        let matrix_mib = (RELATION_HEADS * len * len * 4) as f64 / (1 << 20) as f64;
        if args.json {
            let row = serde_json::json!({"kernel": "relation_kl_memory", "shape": format!("[1, {len}, {HIDDEN}] r={RELATION_HEADS}"),
                "fused_peak_rss_mib": peaks[0], "reference_peak_rss_mib": peaks[1], "relation_matrix_mib": matrix_mib});
            println!("{row}");
        } else {
            println!(
                "relation_kl memory [1, {len}, {HIDDEN}] r={RELATION_HEADS} fwd+bwd: peak RSS fused {:.0} MiB, reference {:.0} MiB (saved {:.0} MiB; one [r, T, T] matrix is {matrix_mib:.0} MiB)",
                peaks[0],
                peaks[1],
                peaks[1] - peaks[0]
            );
        }
    }
    Ok(())
}

/// One path of `--memory`, run in its own process: prints its peak RSS in MiB.
pub fn memory_case(args: MemoryCaseArgs) -> anyhow::Result<()> {
    let device = BackendKind::Wgpu.device().autodiff();
    let student = random([1, args.len, HIDDEN], &device);
    let teacher = random([1, args.len, HIDDEN], &device);
    let mask = Tensor::<2>::ones([1, args.len], &device);
    let (loss, grad) = relation_step(&student, &teacher, &mask, RELATION_HEADS, args.kernels);
    let (loss, grad_sum) = (loss.into_scalar::<f32>(), grad.sum().into_scalar::<f32>());
    anyhow::ensure!(
        loss.is_finite() && grad_sum.is_finite(),
        "relation KL {loss}, gradient sum {grad_sum}"
    );
    println!("{}", peak_rss_mib().unwrap_or(f64::NAN));
    Ok(())
}
