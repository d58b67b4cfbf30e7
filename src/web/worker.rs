//! The page's worker: the same wasm module, started by `web/worker.js`, holding the models and running the
//! translations, the activation probe and training runs, so that the page's thread only draws. It answers each [`ToWorker`] with [`FromWorker`]s.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::fetch::{fetch_bytes, fetch_model};
use super::protocol::{FromWorker, ToWorker};
use crate::backend::BackendKind;
use crate::data::DataFiles;
use crate::generate::{Engine, Loaded, TranslationRequest};
use crate::train::{ProbeModel, RunConfig, RunControl, RunFiles, RunOutcome, run_with};

thread_local! {
    /// Models by URL, loaded on first use.
    static MODELS: RefCell<HashMap<String, Rc<Loaded>>> = RefCell::new(HashMap::new());
    /// The activation probe's model, by URL (one at a time: the Quantize panel probes the model it shows).
    static PROBED: RefCell<Option<Rc<ProbeModel>>> = const { RefCell::new(None) };
}

fn scope() -> web_sys::DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    let text = serde_json::to_string(message).expect("worker messages serialize");
    if let Err(error) = scope().post_message(&JsValue::from_str(&text)) {
        web_sys::console::error_2(&"bitdistill worker: posting failed".into(), &error);
    }
}

/// Starts listening: the binary's exported `worker_main`, which `web/worker.js` calls once the module is
/// initialised.
pub fn worker_main() {
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|event: web_sys::MessageEvent| {
        let Some(text) = event.data().as_string() else { return };
        match serde_json::from_str::<ToWorker>(&text) {
            Ok(message) => wasm_bindgen_futures::spawn_local(handle(message)),
            Err(error) => web_sys::console::error_1(&format!("bitdistill worker: bad message {text}: {error}").into()),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Ready);
}

async fn handle(message: ToWorker) {
    let (job, answer) = match message {
        ToWorker::Translate { job, model, request } => (job, translate(job, &model, &request).await),
        ToWorker::Train { job, config } => (job, train(job, &config).await),
        ToWorker::Probe { job, model, sentence } => (job, probe(job, &model, &sentence).await),
    };
    post(&answer.unwrap_or_else(|message| FromWorker::Failed { job, message }));
}

/// Fetches the run's teacher and data files, then trains, posting every event. The steps run back to back in
/// this worker (the page draws meanwhile); the page stops a run by ending the worker.
async fn train(job: u64, config: &RunConfig) -> Result<FromWorker, String> {
    let teacher = fetch_model(&config.teacher.to_string_lossy()).await?;
    let mut data = Vec::new();
    let corpus = config.stage2.corpus.iter().filter(|_| config.stage2.tokens > 0);
    for path in corpus.chain(config.stage3.pairs.iter().filter(|_| config.stage3.steps > 0)) {
        let url = path.to_string_lossy();
        let bytes = fetch_bytes(&url)
            .await?
            .ok_or_else(|| format!("{url}: not found (404)"))?;
        data.push((path.clone(), bytes));
    }
    let files = RunFiles {
        teacher,
        data: DataFiles::memory(data),
        writes_out: false,
    };
    let outcome = run_with(config, &files, false, &RunControl::default(), &mut |event| {
        post(&FromWorker::Train { job, event })
    })
    .map_err(|e| e.to_string())?;
    match outcome {
        RunOutcome::FinishedUnwritten => Ok(FromWorker::Trained { job }),
        other => Err(format!("the run ended as {other:?}")),
    }
}

async fn probe(job: u64, url: &str, sentence: &str) -> Result<FromWorker, String> {
    let cached = PROBED
        .with(|cell| cell.borrow().clone())
        .filter(|model| model.root() == Path::new(url));
    let model = match cached {
        Some(model) => model,
        None => {
            let files = fetch_model(url).await?;
            let model = Rc::new(ProbeModel::from_files(&files).map_err(|e| e.to_string())?);
            PROBED.with(|cell| *cell.borrow_mut() = Some(model.clone()));
            model
        }
    };
    let result = model.measure(sentence).map_err(|e| e.to_string())?;
    Ok(FromWorker::Probed { job, result })
}

async fn translate(job: u64, url: &str, request: &TranslationRequest) -> Result<FromWorker, String> {
    let loaded = model(url).await?;
    let (translation, seconds) = request
        .run(&loaded, |text| {
            post(&FromWorker::Text {
                job,
                text: text.to_string(),
            })
        })
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(FromWorker::Done {
        job,
        text: translation.text,
        tokens: translation.tokens,
        seconds,
        engine: loaded.engine.to_string(),
    })
}

/// The model at `url`, fetched and loaded the first time. Both run on the CPU engine, as the CLI's
/// `--engine native` does: a packed student on the ternary × int8 kernel, a teacher on f32 projections.
async fn model(url: &str) -> Result<Rc<Loaded>, String> {
    if let Some(loaded) = MODELS.with(|models| models.borrow().get(url).cloned()) {
        return Ok(loaded);
    }
    let files = fetch_model(url).await?;
    let loaded =
        Rc::new(Loaded::from_files(&files, None, Engine::Native, BackendKind::Flex).map_err(|e| e.to_string())?);
    MODELS.with(|models| models.borrow_mut().insert(url.to_string(), loaded.clone()));
    Ok(loaded)
}
