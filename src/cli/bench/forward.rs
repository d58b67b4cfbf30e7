//! `bitdistill bench forward`: prefill tokens/s on each backend, with the ratio to NdArray.

use std::path::PathBuf;
use std::time::Instant;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use bitdistill::model::{HunYuan, HunYuanConfig, RandomWeights};

use super::eighth_width_config;
use burn::tensor::{Device, Int, Tensor, TensorData};

#[derive(clap::Args)]
pub struct ForwardArgs {
    /// A checkpoint directory to include (e.g. ../shared/fixtures/hymt-tiny-a).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [BackendKind::Ndarray, BackendKind::Flex, BackendKind::Wgpu])]
    backends: Vec<BackendKind>,
    /// Tokens per sequence.
    #[arg(long, default_value_t = 128)]
    seq: usize,
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Timed repetitions after one untimed warm-up (which also runs wgpu's matmul autotuning).
    #[arg(long, default_value_t = 3)]
    iters: usize,
    #[arg(long)]
    json: bool,
}

pub fn forward(args: ForwardArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for &backend in &args.backends {
        let device = backend.device();
        let mut models: Vec<(String, HunYuanConfig, HunYuan)> = Vec::new();
        if let Some(dir) = &args.model {
            let mut checkpoint = Checkpoint::open(dir)?;
            let model = checkpoint.load_model(&device)?;
            models.push((dir.display().to_string(), checkpoint.config.clone(), model));
        }
        let config = eighth_width_config();
        let model = HunYuan::from_source(&config, &mut RandomWeights::new(0, 0.02), &device)?;
        models.push(("hy-mt-1.8b-width/8 (random)".into(), config, model));
        for (name, config, model) in &models {
            let tokens_per_s = time_forward(model, config, &device, args.batch, args.seq, args.iters);
            rows.push((name.clone(), backend, tokens_per_s));
        }
    }
    for (name, backend, tokens_per_s) in &rows {
        let baseline = rows
            .iter()
            .find(|(n, b, _)| n == name && *b == BackendKind::Ndarray)
            .map(|row| row.2);
        let ratio = baseline.map(|b| tokens_per_s / b);
        // Every sequence is `seq` real tokens: no padding.
        let threads = rayon::current_num_threads();
        if args.json {
            let json = serde_json::json!({"bench": "forward", "model": name, "backend": backend,
                "batch": args.batch, "seq": args.seq, "tokens_per_s": tokens_per_s, "vs_ndarray": ratio,
                "threads": threads, "padding_share": 0.0});
            println!("{json}");
        } else {
            let ratio = ratio.map_or(String::new(), |r| format!("  ×{r:.2} vs ndarray"));
            let backend = format!("{backend:?}");
            println!(
                "{name:<40} {backend:<8} {tokens_per_s:>10.1} tokens/s{ratio}  ({threads} CPU threads, no padding)"
            );
        }
    }
    Ok(())
}

fn time_forward(
    model: &HunYuan,
    config: &HunYuanConfig,
    device: &Device,
    batch: usize,
    seq: usize,
    iters: usize,
) -> f64 {
    let ids: Vec<i64> = (0..batch * seq)
        .map(|i| (i * 7919 % config.vocab_size) as i64)
        .collect();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, seq]), device);
    let run = || {
        let logits = model.logits(ids.clone());
        device.sync().expect("device sync");
        drop(logits);
    };
    run();
    let start = Instant::now();
    for _ in 0..iters {
        run();
    }
    (batch * seq * iters) as f64 / start.elapsed().as_secs_f64()
}
