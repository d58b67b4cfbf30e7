//! `bitdistill sweep`: a grid of Stage-3 settings, each trained from one shared Stage 2 and scored on dev pairs.

use std::io::Write;
use std::path::PathBuf;

use bitdistill::backend::BackendKind;
use bitdistill::demo::{Budget, DEMO_RUN_FILE, SweepAxis, SweepOptions, assets_dir, run_sweep, sweep_markdown};
use bitdistill::train::{StepRate, TrainEvent};

#[derive(clap::Args)]
pub struct Args {
    /// A setting and its values, e.g. `--set stage3.gamma=1e2,1e3,1e4 --set stage3.lambda=1,10` (keys:
    /// stage3.gamma, stage3.lambda, stage3.tau, stage3.layer, stage3.relation_heads, stage3.steps, and optim.lr,
    /// Stage 3's learning rate); the grid is every combination.
    #[arg(long = "set", required = true)]
    axes: Vec<SweepAxis>,
    /// Dev pairs the points are scored on (.jsonl with source_lang/target_lang); never the test split.
    #[arg(long)]
    dev: PathBuf,
    /// The BitDistill run file every point starts from (default: the demo's).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where Stage 2, each point's run and `sweep.{md,json}` go; points already finished there are not run again.
    #[arg(long, default_value = "runs/sweep")]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    #[command(flatten)]
    budget: Budget,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let options = SweepOptions {
        run_file: args.config.unwrap_or_else(|| assets_dir().join(DEMO_RUN_FILE)),
        out: args.out,
        backend: args.backend,
        axes: args.axes,
        budget: args.budget,
        dev: args.dev,
    };
    let mut stderr = std::io::stderr();
    let mut rate = StepRate::default();
    let results = run_sweep(&options, &mut |point, event| {
        if let TrainEvent::Step(m) = &event {
            rate.observe(m);
            let _ = write!(
                stderr,
                "\r{point}: {}  loss {:.3}  ce {:.3}  {:.0} tok/s   ",
                rate.describe(m),
                m.loss,
                m.ce,
                m.tokens_per_s
            );
        }
    })?;
    let _ = writeln!(stderr);
    println!("{}", sweep_markdown(&results));
    println!("table and runs in {}", options.out.display());
    Ok(())
}
