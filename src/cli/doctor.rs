//! `bitdistill doctor`: what this machine offers, and with a run file whether the run fits and what to change.

use std::path::PathBuf;

use bitdistill::backend::BackendKind;
use bitdistill::doctor::{
    DeviceFacts, RunEstimate, SystemFacts, burn_default_adapter, estimate_run, resident_bytes, stage3_longest,
    wgpu_adapters,
};
use bitdistill::model::HunYuanConfig;
use bitdistill::tokenizer::{TOKENIZER_FILE, Tokenizer};
use bitdistill::train::RunConfig;

#[derive(clap::Args)]
pub struct Args {
    /// A run file to estimate: the memory its steps need against what this machine has.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

const MIB: f64 = (1 << 20) as f64;

/// Whether the run's peak fits what its backend offers, and what to change if not.
#[derive(serde::Serialize)]
struct Verdict {
    fits: bool,
    /// Bytes the backend may use: available RAM on the CPU (and a software wgpu device), else unknown.
    available: Option<u64>,
    advice: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Before anything is loaded: the baseline of the estimate.
    let baseline = resident_bytes().unwrap_or(0);
    let config = args.config.as_deref().map(RunConfig::from_file).transpose()?;
    let system = SystemFacts::gather(config.as_ref().map_or(std::path::Path::new("."), |c| c.out.as_path()));
    let devices = wgpu_adapters();
    let default_device = burn_default_adapter();
    let mut estimate = None;
    let mut verdict = None;
    if let Some(config) = &config {
        let model = HunYuanConfig::from_file(&config.teacher.join("config.json"))?;
        let tokenizer = Tokenizer::from_file(&config.teacher.join(TOKENIZER_FILE))?;
        let stage3_len = stage3_longest(config, &tokenizer)?;
        let run = estimate_run(config, &model, stage3_len, baseline);
        verdict = Some(judge(
            config,
            &model,
            stage3_len,
            baseline,
            &run,
            &system,
            default_device.as_ref(),
        ));
        estimate = Some(run);
    }
    if args.json {
        let report = serde_json::json!({"system": system, "wgpu_adapters": devices, "wgpu_default": default_device, "estimate": estimate, "verdict": verdict});
        println!("{report}");
        return Ok(());
    }
    print_system(&system, &devices, default_device.as_ref());
    if let (Some(run), Some(verdict)) = (&estimate, &verdict) {
        print_estimate(run, verdict);
    }
    Ok(())
}

fn judge(
    config: &RunConfig,
    model: &HunYuanConfig,
    stage3_len: usize,
    baseline: u64,
    run: &RunEstimate,
    system: &SystemFacts,
    device: Option<&DeviceFacts>,
) -> Verdict {
    let Some(peak) = run.peak() else {
        return Verdict {
            fits: true,
            available: system.ram_available_bytes,
            advice: vec!["the run file trains nothing (no Stage 2 tokens, no Stage 3 steps)".into()],
        };
    };
    let mut advice = Vec::new();
    let mut fits = true;
    // A CPU-type adapter (lavapipe, SwiftShader) allocates in RAM.
    let in_ram = config.backend != BackendKind::Wgpu || device.is_some_and(|d| d.device_type == "Cpu");
    let available = in_ram.then_some(system.ram_available_bytes).flatten();
    if let Some(available) = available
        && peak.total > available
    {
        fits = false;
        let fitting = (1..config.optim.batch_size).rev().find(|&batch| {
            let mut smaller = config.clone();
            smaller.optim.batch_size = batch;
            estimate_run(&smaller, model, stage3_len, baseline)
                .peak()
                .is_none_or(|e| e.total <= available)
        });
        advice.push(format!(
            "the peak ({:.0} MiB) exceeds the {:.0} MiB available",
            peak.total as f64 / MIB,
            available as f64 / MIB
        ));
        advice.push(match fitting {
            Some(batch) => format!(
                "set optim.batch_size = {batch} and optim.grad_accum = {} to keep about the same batch per step",
                config.optim.batch_size.div_ceil(batch) * config.optim.grad_accum
            ),
            None => "even a batch of 1 does not fit: lower stage3.max_len or stage2.block_len, or use a machine \
                     with more memory"
                .into(),
        });
    }
    if config.backend == BackendKind::Wgpu {
        match device {
            None => {
                fits = false;
                advice.push("backend = \"wgpu\" but wgpu finds no adapter: use backend = \"flex\"".into());
            }
            Some(d) if peak.largest_buffer > d.max_buffer_size.min(d.max_storage_buffer_binding_size) => {
                fits = false;
                advice.push(format!(
                    "{} ({:.0} MiB) is larger than {} allows in one buffer ({:.0} MiB): lower optim.batch_size or \
                     the sequence length",
                    peak.largest_buffer_is,
                    peak.largest_buffer as f64 / MIB,
                    d.name,
                    d.max_buffer_size.min(d.max_storage_buffer_binding_size) as f64 / MIB
                ));
            }
            Some(_) if !in_ram => advice
                .push("wgpu does not report the GPU's memory: compare the peak with the card's memory yourself".into()),
            Some(_) => {}
        }
    }
    // Checkpoints: the student and AdamW's moments in f32, `keep` of them, plus the finished student.
    let checkpoint = 12 * model.param_breakdown().total() as u64;
    let disk = checkpoint * (config.checkpoint.keep as u64 + 1);
    if let Some(free) = system.disk_free_bytes
        && disk > free
    {
        fits = false;
        advice.push(format!(
            "checkpoints need about {:.0} MiB in {}, {:.0} MiB are free: lower checkpoint.keep",
            disk as f64 / MIB,
            config.out.display(),
            free as f64 / MIB
        ));
    }
    Verdict {
        fits,
        available,
        advice,
    }
}

fn print_system(s: &SystemFacts, devices: &[DeviceFacts], default_device: Option<&DeviceFacts>) {
    let mib = |b: Option<u64>| b.map_or("unknown".to_string(), |b| format!("{:.0} MiB", b as f64 / MIB));
    println!(
        "bitdistill {} (burn {}, wgpu {})",
        s.crate_version, s.burn_version, s.wgpu_version
    );
    println!(
        "CPU: {}, {} logical cores, {} worker threads",
        s.cpu, s.logical_cores, s.threads
    );
    println!(
        "  SIMD: {}; ternary kernel path: {}",
        if s.simd.is_empty() {
            "none".to_string()
        } else {
            s.simd.join(", ")
        },
        s.ternary_kernel
    );
    println!(
        "RAM: {} total, {} available; disk free where the run writes: {}",
        mib(s.ram_total_bytes),
        mib(s.ram_available_bytes),
        mib(s.disk_free_bytes)
    );
    println!("burn backends: flex (CPU, default), ndarray (CPU), wgpu:");
    if devices.is_empty() {
        println!("  no wgpu adapter (no Vulkan/Metal/DX12 driver found)");
    }
    if let Some(d) = default_device {
        println!("  backend = \"wgpu\" runs on: {} ({})", d.name, d.backend);
    }
    for d in devices {
        println!(
            "  {} ({}, {}, driver {}): max buffer {:.0} MiB, max storage binding {:.0} MiB",
            d.name,
            d.backend,
            d.device_type,
            d.driver,
            d.max_buffer_size as f64 / MIB,
            d.max_storage_buffer_binding_size as f64 / MIB
        );
    }
}

fn print_estimate(run: &RunEstimate, verdict: &Verdict) {
    println!(
        "memory estimate (batch {}, Stage 2 length {}, Stage 3 longest pair {}):",
        run.batch, run.stage2_len, run.stage3_len
    );
    for (name, e) in [("Stage 2", &run.stage2), ("Stage 3", &run.stage3)] {
        let Some(e) = e else { continue };
        let m = |b: u64| b as f64 / MIB;
        println!(
            "  {name}: {:.0} MiB = process {:.0} + runtime {:.0} + teacher {:.0} + student {:.0} + AdamW {:.0} + \
             gradients {:.0} + activations {:.0} + logits {:.0} + relations {:.0}; largest buffer {:.0} MiB ({})",
            m(e.total),
            m(e.baseline),
            m(e.runtime),
            m(e.teacher),
            m(e.student),
            m(e.optimizer),
            m(e.gradients),
            m(e.activations),
            m(e.logits),
            m(e.relations),
            m(e.largest_buffer),
            e.largest_buffer_is
        );
    }
    println!("verdict: {}", if verdict.fits { "fits" } else { "will not fit" });
    for line in &verdict.advice {
        println!("  - {line}");
    }
}
