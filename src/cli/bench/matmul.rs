//! `bitdistill bench matmul`: square f32 matmul throughput (TFLOP/s) per backend. The untimed warm-up runs
//! wgpu's autotuning and shader compilation, and every timed batch ends with a device sync, so the time is the
//! kernels' own.

use std::time::Instant;

use bitdistill::backend::BackendKind;
use burn::tensor::{Distribution, Tensor};

#[derive(clap::Args)]
pub struct MatmulArgs {
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [BackendKind::Ndarray, BackendKind::Flex, BackendKind::Wgpu])]
    backends: Vec<BackendKind>,
    /// Matrix sizes n (n×n times n×n).
    #[arg(long, value_delimiter = ',', default_values_t = [1024, 2048, 4096])]
    sizes: Vec<usize>,
    /// Untimed products first (autotuning, pipeline creation).
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    #[arg(long, default_value_t = 10)]
    iters: usize,
    #[arg(long)]
    json: bool,
}

pub fn matmul(args: MatmulArgs) -> anyhow::Result<()> {
    for &n in &args.sizes {
        let mut ndarray_tflops = None;
        for &backend in &args.backends {
            let device = backend.device();
            let a = Tensor::<2>::random([n, n], Distribution::Normal(0.0, 1.0), &device);
            let b = Tensor::<2>::random([n, n], Distribution::Normal(0.0, 1.0), &device);
            let run = |count: usize| -> anyhow::Result<f64> {
                let started = Instant::now();
                for _ in 0..count {
                    drop(a.clone().matmul(b.clone()));
                }
                device.sync().map_err(|e| anyhow::anyhow!("device sync: {e:?}"))?;
                Ok(started.elapsed().as_secs_f64())
            };
            run(args.warmup)?;
            let seconds = run(args.iters)?;
            let tflops = 2.0 * (n as f64).powi(3) * args.iters as f64 / seconds / 1e12;
            if backend == BackendKind::Ndarray {
                ndarray_tflops = Some(tflops);
            }
            let ratio = ndarray_tflops.map(|base| tflops / base);
            if args.json {
                let row = serde_json::json!({"bench": "matmul", "backend": backend, "n": n, "iters": args.iters,
                    "ms_per_matmul": 1e3 * seconds / args.iters as f64, "tflops": tflops, "vs_ndarray": ratio});
                println!("{row}");
            } else {
                let ratio = ratio.map_or(String::new(), |r| format!("  ×{r:.1} vs ndarray"));
                println!(
                    "n = {n:<6} {:<8} {:>9.3} ms/matmul {tflops:>8.3} TFLOP/s{ratio}",
                    format!("{backend:?}"),
                    1e3 * seconds / args.iters as f64
                );
            }
        }
    }
    Ok(())
}
