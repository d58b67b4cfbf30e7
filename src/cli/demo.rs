//! `bitdistill demo`: the embedded default job. `--headless` runs it in the terminal.

use std::io::Write;
use std::path::PathBuf;

use bitdistill::backend::BackendKind;
use bitdistill::demo::{Budget, DemoOptions, assets_dir, run_demo};
use bitdistill::train::{StepRate, TrainEvent, describe_tokenizing};

#[derive(clap::Args)]
pub struct Args {
    /// Run in the terminal; without it the demo opens in the desktop app.
    #[arg(long)]
    headless: bool,
    /// Where the run, the student and the report go.
    #[arg(long, default_value = "runs/demo")]
    out: PathBuf,
    /// The bundled assets (default: $BITDISTILL_ASSETS, or this checkout's assets/).
    #[arg(long)]
    assets: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    #[command(flatten)]
    budget: Budget,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if !args.headless {
        return super::gui::open(super::gui::Args::default(), true);
    }
    let options = DemoOptions {
        assets: args.assets.unwrap_or_else(assets_dir),
        out: args.out,
        backend: args.backend,
        budget: args.budget,
    };
    let mut stderr = std::io::stderr();
    let mut rate = StepRate::default();
    let report = run_demo(&options, &mut |event| {
        let _ = match &event {
            TrainEvent::Step(m) => {
                rate.observe(m);
                write!(
                    stderr,
                    "\r{}  loss {:.3}  ce {:.3}  {:.0} tok/s   ",
                    rate.describe(m),
                    m.loss,
                    m.ce,
                    m.tokens_per_s
                )
            }
            TrainEvent::StageFinished { stage } => writeln!(stderr, "\n{stage:?} done"),
            TrainEvent::Tokenizing(progress) => write!(stderr, "\r{}   ", describe_tokenizing(progress)),
            TrainEvent::Notice { message } => writeln!(stderr, "\nnote: {message}"),
            TrainEvent::Finished { .. } => writeln!(stderr, "evaluating teacher and student ..."),
            _ => Ok(()),
        };
    })?;
    println!("{}", report.markdown());
    println!("report, plots and student in {}", options.out.display());
    Ok(())
}
