//! `bitdistill`: the command-line front of BitDistill Studio; in the browser (wasm32), the app itself.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> anyhow::Result<()> {
    use clap::Parser;
    cli::Cli::parse().run()
}

/// In the page: the app in the canvas of `web/index.html`. In the page's worker (no window) nothing starts
/// here: `web/worker.js` calls [`worker_main`].
#[cfg(target_arch = "wasm32")]
fn main() {
    use wasm_bindgen::JsCast;
    if js_sys::global().dyn_ref::<web_sys::Window>().is_some() {
        bitdistill::gui::start_web("bitdistill_canvas");
    }
}

/// The worker's entry, exported to `web/worker.js`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn worker_main() {
    bitdistill::web::worker_main();
}
