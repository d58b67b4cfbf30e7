//! Where a Translate column's job runs: natively on a thread of its own, keeping the column's last model loaded
//! for the next translation; in the browser in the page's worker (`crate::web`), which keeps its own models.

use std::sync::mpsc::{Receiver, channel};

use super::translate_panel::Update;
use crate::generate::TranslationRequest;

#[cfg(not(target_arch = "wasm32"))]
type Cache = std::sync::Arc<std::sync::Mutex<Option<(String, crate::generate::Loaded)>>>;

/// The jobs of one column.
#[derive(Default)]
pub struct Jobs {
    #[cfg(not(target_arch = "wasm32"))]
    cache: Cache,
}

impl Jobs {
    /// Translates `request` with the model of `dir`; updates arrive through the receiver, each with a repaint.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn start(&self, title: &str, dir: &str, request: TranslationRequest, ctx: &egui::Context) -> Receiver<Update> {
        let (sender, updates) = channel();
        let (ctx, cache, dir) = (ctx.clone(), self.cache.clone(), dir.to_string());
        super::background::spawn_job(format!("translate-{title}"), move || {
            let send = |update| {
                let _ = sender.send(update);
                ctx.request_repaint();
            };
            // The button waits for a column's job to finish, so the lock is never contended; a poisoned one
            // (an earlier job panicked) only loses the cached model.
            let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            send(
                match translate(&mut cache, &dir, &request, |text| send(Update::Text(text.into()))) {
                    Ok(done) => done,
                    Err(message) => Update::Failed(format!("{dir}: {message}")),
                },
            );
        });
        updates
    }

    /// Hands `request` to the page's worker, which fetches the model at the URL `dir` the first time.
    #[cfg(target_arch = "wasm32")]
    pub fn start(&self, _title: &str, dir: &str, request: TranslationRequest, ctx: &egui::Context) -> Receiver<Update> {
        use crate::web::protocol::FromWorker;
        let (sender, updates) = channel();
        let ctx = ctx.clone();
        crate::web::translate(dir, request, move |event| {
            let update = match event {
                FromWorker::Text { text, .. } => Update::Text(text),
                FromWorker::Done {
                    text,
                    tokens,
                    seconds,
                    engine,
                    ..
                } => Update::Done {
                    text,
                    tokens,
                    seconds,
                    engine,
                },
                FromWorker::Failed { message, .. } => Update::Failed(message),
                other @ (FromWorker::Train { .. } | FromWorker::Trained { .. } | FromWorker::Probed { .. }) => {
                    Update::Failed(format!("the translation worker answered {other:?}"))
                }
                FromWorker::Ready => return,
            };
            let _ = sender.send(update);
            ctx.request_repaint();
        });
        updates
    }
}

/// Loads the model of `dir` unless it is the cached one, and translates.
#[cfg(not(target_arch = "wasm32"))]
fn translate(
    cache: &mut Option<(String, crate::generate::Loaded)>,
    dir: &str,
    request: &TranslationRequest,
    on_text: impl FnMut(&str),
) -> crate::error::Result<Update> {
    use crate::backend::BackendKind;
    use crate::generate::{Engine, Loaded};
    if cache.as_ref().is_none_or(|(cached, _)| cached != dir) {
        *cache = None;
        let loaded = Loaded::open(std::path::Path::new(dir), None, Engine::Auto, BackendKind::Flex)?;
        *cache = Some((dir.to_string(), loaded));
    }
    let loaded = &cache.as_ref().expect("loaded above").1;
    let (translation, seconds) = request.run(loaded, on_text)?;
    Ok(Update::Done {
        text: translation.text,
        tokens: translation.tokens,
        seconds,
        engine: loaded.engine.to_string(),
    })
}
