//! The browser entry (wasm32): the same app on eframe's web runner, drawn into the page's canvas (see
//! `web/index.html`; built by `web/build.sh`), on the models the site serves under `models/`. Translations run
//! in the page's worker (`crate::web`); `?selftest=...` starts the automated check of `selftest.rs`.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;

use super::app::{Settings, StudioApp};
use super::selftest::{SelfTest, SelfTestRun};

/// The page's title once a self-test has reported (what automated checks wait for).
const SELFTEST_DONE_TITLE: &str = "bitdistill-selftest-done";

/// Starts the app in the `<canvas>` with id `canvas_id`.
pub fn start_web(canvas_id: &'static str) {
    wasm_bindgen_futures::spawn_local(async move {
        let window = web_sys::window().expect("the app runs in a window");
        let canvas = window
            .document()
            .and_then(|document| document.get_element_by_id(canvas_id))
            .and_then(|element| element.dyn_into::<web_sys::HtmlCanvasElement>().ok())
            .unwrap_or_else(|| panic!("the page has no <canvas id=\"{canvas_id}\">"));
        let selftest = SelfTest::from_query(&window.location().search().unwrap_or_default());
        let started = eframe::WebRunner::new()
            .start(
                canvas,
                eframe::WebOptions::default(),
                Box::new(move |cc| {
                    super::fonts::install_fonts(&cc.egui_ctx);
                    let saved = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY));
                    let mut app;
                    match selftest {
                        Ok(None) => app = StudioApp::new(saved.unwrap_or_else(Settings::web), None),
                        Ok(Some(test)) => {
                            // A self-test runs on the bundled models, whatever a visitor saved before.
                            app = StudioApp::new(Settings::web(), None);
                            app.selftest = Some(SelfTestRun::new(test, report_selftest));
                        }
                        Err(message) => {
                            app = StudioApp::new(Settings::web(), None);
                            report_selftest(serde_json::json!({ "errors": [message] }));
                        }
                    }
                    Ok(Box::new(app))
                }),
            )
            .await;
        if let Err(error) = started {
            web_sys::console::error_1(&error);
        }
    });
}

/// Logs `bitdistill-selftest {...}`, sets `window.bitdistillSelftest` to the object, then the page's title.
fn report_selftest(result: serde_json::Value) {
    let text = result.to_string();
    web_sys::console::log_1(&format!("bitdistill-selftest {text}").into());
    if let Some(window) = web_sys::window() {
        let object = js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL);
        let _ = js_sys::Reflect::set(&window, &"bitdistillSelftest".into(), &object);
        if let Some(document) = window.document() {
            document.set_title(SELFTEST_DONE_TITLE);
        }
    }
}
