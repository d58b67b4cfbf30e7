//! `bitdistill bench dot`: the ternary × int8 inner product, each path this CPU runs (`ternary::dot_paths`), on
//! one thread over a weight matrix of HY-MT1.5-1.8B's shapes in the 2-bit kernel layout: packed GB/s and the ratio
//! to the portable loop, measured in one run; then each tile path (`ternary::tile_paths`): four rows against one
//! token (decode) and against four tokens (prefill), in packed GB/s per token. Every path's sums are checked
//! equal before timing.

use std::time::Instant;

use bitdistill::ternary::{Int8Activations, TILE_ROWS, TILE_TOKENS, TilePath, dot_paths, pack, tile_paths};
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
    tiles(&args, &packed, row_bytes, &mut rng)
}

/// The tile paths over the same matrix: per token, bytes of weights multiplied per second.
fn tiles(args: &DotArgs, packed: &[u8], row_bytes: usize, rng: &mut StdRng) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.rows.is_multiple_of(TILE_ROWS),
        "--rows must be a multiple of {TILE_ROWS} for the tiles"
    );
    let x: Vec<f32> = (0..TILE_TOKENS * args.cols)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let x = Int8Activations::quantize(&x, TILE_TOKENS, args.cols);
    let groups: Vec<[&[u8]; TILE_ROWS]> = packed
        .chunks_exact(TILE_ROWS * row_bytes)
        .map(|g| std::array::from_fn(|i| &g[i * row_bytes..(i + 1) * row_bytes]))
        .collect();
    let xs: [&[i8]; TILE_TOKENS] = std::array::from_fn(|t| x.token(t));
    let paths = tile_paths();
    let reference = paths.last().expect("the row-at-a-time path is always listed");
    let block_sums = |path: &TilePath| -> Vec<[[i32; TILE_TOKENS]; TILE_ROWS]> {
        groups.iter().map(|rows| (path.block)(rows, &xs)).collect()
    };
    let row_sums =
        |path: &TilePath| -> Vec<[i32; TILE_ROWS]> { groups.iter().map(|rows| (path.rows)(rows, xs[0])).collect() };
    let (want_block, want_rows) = (block_sums(reference), row_sums(reference));
    for path in paths {
        anyhow::ensure!(
            block_sums(path) == want_block && row_sums(path) == want_rows,
            "the {} tile path's sums differ from the row-at-a-time path's",
            path.name
        );
        let time = |run: &dyn Fn()| {
            let started = Instant::now();
            for _ in 0..args.iters {
                run();
            }
            started.elapsed().as_secs_f64() / args.iters as f64
        };
        let one = time(&|| {
            std::hint::black_box(row_sums(path));
        });
        let four = time(&|| {
            std::hint::black_box(block_sums(path));
        });
        let gbps = |seconds: f64, tokens: usize| (packed.len() * tokens) as f64 / seconds / 1e9;
        if args.json {
            let row = serde_json::json!({"bench": "tile", "path": path.name, "rows": args.rows, "cols": args.cols,
                "one_token_gb_per_s": gbps(one, 1), "four_tokens_gb_per_s": gbps(four, TILE_TOKENS)});
            println!("{row}");
        } else {
            println!(
                "{:>5}x{:<5} tiles {:<13} 4 rows × 1 token {:>7.2} GB/s, 4 rows × 4 tokens {:>7.2} GB/s per token",
                args.rows,
                args.cols,
                path.name,
                gbps(one, 1),
                gbps(four, TILE_TOKENS)
            );
        }
    }
    Ok(())
}
