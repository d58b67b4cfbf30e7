//! The browser entry (wasm32): the same app on eframe's web runner, drawn into the page's canvas (see
//! `web/index.html`; built with Trunk). In the browser there is no filesystem and no threads without
//! cross-origin isolation, so background jobs run inline (see `background`) and opening files reports an error.

use eframe::wasm_bindgen::JsCast as _;

use super::app::{Settings, StudioApp};

/// Starts the app in the `<canvas>` with id `canvas_id`.
pub fn start_web(canvas_id: &'static str) {
    wasm_bindgen_futures::spawn_local(async move {
        let canvas = eframe::web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(canvas_id))
            .and_then(|element| element.dyn_into::<eframe::web_sys::HtmlCanvasElement>().ok())
            .unwrap_or_else(|| panic!("the page has no <canvas id=\"{canvas_id}\">"));
        let started = eframe::WebRunner::new()
            .start(
                canvas,
                eframe::WebOptions::default(),
                Box::new(|cc| {
                    super::fonts::install_fonts(&cc.egui_ctx);
                    let settings = cc
                        .storage
                        .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                        .unwrap_or_else(|| Settings::demo(std::path::Path::new("assets")));
                    Ok(Box::new(StudioApp::new(settings, None)))
                }),
            )
            .await;
        if let Err(error) = started {
            eframe::web_sys::console::error_1(&error);
        }
    });
}
