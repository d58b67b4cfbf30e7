//! `bitdistill`: the command-line front of BitDistill Studio; in the browser (wasm32), the app itself.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> anyhow::Result<()> {
    use clap::Parser;
    cli::Cli::parse().run()
}

/// The canvas of `web/index.html`.
#[cfg(target_arch = "wasm32")]
fn main() {
    bitdistill::gui::start_web("bitdistill_canvas");
}
