//! `bitdistill distill`: runs a run file headless, with a progress line and `out/metrics.jsonl`.

use std::io::Write;
use std::path::PathBuf;

use bitdistill::report::{METRICS_FILE, MetricsLog};
use bitdistill::train::{RunConfig, RunControl, RunOutcome, StepRate, TrainEvent, describe_tokenizing, run};

#[derive(clap::Args)]
pub struct Args {
    /// The run file (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Continue from the newest complete checkpoint in `out/checkpoints`.
    #[arg(long)]
    resume: bool,
}

pub fn run_distill(args: Args) -> anyhow::Result<()> {
    let config = RunConfig::from_file(&args.config)?;
    let mut metrics = MetricsLog::append(&config.out.join(METRICS_FILE))?;
    let mut stderr = std::io::stderr();
    let mut rate = StepRate::default();
    let mut log = |event: TrainEvent| {
        metrics.record(&event);
        let _ = match &event {
            TrainEvent::Step(m) => {
                rate.observe(m);
                write!(
                    stderr,
                    "\r{}  loss {:.4}  ce {:.4}  lr {:.2e}  |g| {:.3}  {:.0} tok/s   ",
                    rate.describe(m),
                    m.loss,
                    m.ce,
                    m.lr,
                    m.grad_norm,
                    m.tokens_per_s
                )
            }
            TrainEvent::StageFinished { stage } => writeln!(stderr, "\n{stage:?} done"),
            TrainEvent::Tokenizing(progress) => write!(stderr, "\r{}   ", describe_tokenizing(progress)),
            TrainEvent::Notice { message } => writeln!(stderr, "\nnote: {message}"),
            TrainEvent::Failed { message } => writeln!(stderr, "\n{message}"),
            _ => Ok(()),
        };
    };
    match run(&config, args.resume, &RunControl::default(), &mut log)? {
        RunOutcome::Finished(dir) => println!("model written to {}", dir.display()),
        RunOutcome::Stopped => println!("stopped; continue with --resume"),
        RunOutcome::FinishedUnwritten => println!("finished; nothing written"),
    }
    Ok(())
}
