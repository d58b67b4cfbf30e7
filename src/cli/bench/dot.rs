//! `bitdistill bench dot`: the ternary × int8 inner product, each path this CPU runs (`ternary::dot_paths`), on
//! one thread over a weight matrix of HY-MT1.5-1.8B's shapes in the 2-bit kernel layout: packed GB/s and the ratio
//! to the portable loop, measured in one run. Every path's sums are checked equal before timing.

use std::time::Instant;

use bitdistill::ternary::{Int8Activations, dot_paths, pack};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(clap::Args)]
pub struct DotArgs {
    /// Weight rows: 6144 is the MLP's gate/up projection, 2048 q/o, 512 k/v.
    #[arg(long, default_value_t = 6144)]
    rows: usize,
    /// Columns (the input width): 2048 is the hidden size, 6144 the MLP's down projection.
    #[arg(long, default_value_t = 2048)]
    cols: usize,
    /// Matrix-vector products timed per path, after one untimed.
    #[arg(long, default_value_t = 20)]
    iters: usize,
    #[arg(long)]
    json: bool,
}

pub fn dot(args: DotArgs) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(0);
    let codes: Vec<i8> = (0..args.rows * args.cols).map(|_| rng.random_range(-1i8..=1)).collect();
    let packed = pack::pack_kernel(&codes, args.rows, args.cols);
    let row_bytes = packed.len() / args.rows;
    let x: Vec<f32> = (0..args.cols).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let x = Int8Activations::quantize(&x, 1, args.cols);
    let paths = dot_paths();
    let sums = |dot: fn(&[u8], &[i8]) -> i32| -> Vec<i32> {
        packed.chunks_exact(row_bytes).map(|row| dot(row, x.token(0))).collect()
    };
    let portable = paths.last().expect("the portable path is always listed");
    let expected = sums(portable.dot);
    let mut rates = Vec::new();
    for path in &paths {
        anyhow::ensure!(
            sums(path.dot) == expected,
            "the {} path's sums differ from the portable loop's",
            path.name
        );
        let started = Instant::now();
        for _ in 0..args.iters {
            std::hint::black_box(sums(path.dot));
        }
        let seconds = started.elapsed().as_secs_f64() / args.iters as f64;
        rates.push((path.name, seconds, packed.len() as f64 / seconds / 1e9));
    }
    let portable_seconds = rates.last().expect("listed").1;
    for (name, seconds, gbps) in rates {
        let ratio = portable_seconds / seconds;
        if args.json {
            let row = serde_json::json!({"bench": "dot", "path": name, "rows": args.rows, "cols": args.cols,
                "us_per_matvec": 1e6 * seconds, "packed_gb_per_s": gbps, "vs_portable": ratio});
            println!("{row}");
        } else {
            println!(
                "{:>5}x{:<5} {name:<13} {:>9.1} µs/matvec {gbps:>7.2} GB/s packed  ×{ratio:.2} vs portable",
                args.rows,
                args.cols,
                1e6 * seconds
            );
        }
    }
    Ok(())
}
