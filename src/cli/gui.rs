//! `bitdistill gui` (and `bitdistill` with no arguments): the desktop app, opened on the embedded demo.

use std::path::PathBuf;

use bitdistill::demo::assets_dir;
use bitdistill::gui::{GuiOptions, run_gui};

#[derive(clap::Args, Default)]
pub struct Args {
    /// Train the demo for a few steps, save a PNG of every panel into this folder, and exit.
    #[arg(long)]
    screenshot_dir: Option<PathBuf>,
    /// Stage-3 steps of the screenshot run.
    #[arg(long, default_value_t = 3)]
    screenshot_steps: usize,
    /// The bundled assets (default: $BITDISTILL_ASSETS, or this checkout's assets/).
    #[arg(long)]
    assets: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    open(args, false)
}

/// `start_demo`: begin the demo's distillation as soon as the window is up.
pub fn open(args: Args, start_demo: bool) -> anyhow::Result<()> {
    if let Some(dir) = &args.screenshot_dir {
        std::fs::create_dir_all(dir)?;
    }
    run_gui(GuiOptions {
        assets: args.assets.unwrap_or_else(assets_dir),
        screenshot_dir: args.screenshot_dir,
        screenshot_steps: args.screenshot_steps.max(1),
        start_demo,
    })
    .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}
