//! `bitdistill ablate`: the paper's ablation on the demo's data (or any BitDistill run file).

use std::io::Write;
use std::path::PathBuf;

use bitdistill::backend::BackendKind;
use bitdistill::demo::{AblationOptions, AblationRow, Budget, ablation_markdown, assets_dir, run_ablation};
use bitdistill::train::{StepRate, TrainEvent};

#[derive(clap::Args)]
pub struct Args {
    /// Where each row's run and `ablation.{md,json}` go; rows already finished there are not run again.
    #[arg(long, default_value = "runs/ablate")]
    out: PathBuf,
    /// The BitDistill run file the rows are derived from (default: the demo's).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Held-out pairs (default: the demo's test split).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Rows to run, in order (default: all seven).
    #[arg(long, value_enum, value_delimiter = ',')]
    rows: Vec<AblationRow>,
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    #[command(flatten)]
    budget: Budget,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut options = AblationOptions::demo(&assets_dir(), args.out);
    if let Some(config) = args.config {
        options.run_file = config;
    }
    if let Some(test) = args.test {
        options.test = test;
    }
    if !args.rows.is_empty() {
        options.rows = args.rows;
    }
    options.backend = args.backend;
    options.budget = args.budget;
    let mut stderr = std::io::stderr();
    let mut rate = StepRate::default();
    let results = run_ablation(&options, &mut |row, event| {
        if let TrainEvent::Step(m) = &event {
            rate.observe(m);
            let _ = write!(
                stderr,
                "\r{}: {}  loss {:.3}  ce {:.3}   ",
                row.label(),
                rate.describe(m),
                m.loss,
                m.ce
            );
        }
    })?;
    println!("{}", ablation_markdown(&results));
    println!("table and runs in {}", options.out.display());
    Ok(())
}
