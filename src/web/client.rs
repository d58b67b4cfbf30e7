//! The page's side of its workers: each is `worker.js` started once, sent jobs as JSON text, its answers handed
//! to the job's listener. What is sent before a worker says [`FromWorker::Ready`] waits in a queue. One worker
//! holds the page's models (translation, the activation probe); each training run gets a worker of its own, which
//! stopping the run ends.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::protocol::{FromWorker, ToWorker};
use crate::generate::TranslationRequest;
use crate::train::RunConfig;

type Listener = Box<dyn FnMut(FromWorker)>;

struct Inner {
    worker: web_sys::Worker,
    ready: bool,
    queued: Vec<String>,
    listeners: HashMap<u64, Listener>,
    next_job: u64,
    /// Kept alive while the worker may call it; it holds only a weak link back here.
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Drop for Inner {
    /// A worker nobody listens to any more has nothing left to do.
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.terminate();
    }
}

/// A started worker.
#[derive(Clone)]
pub struct WorkerClient(Rc<RefCell<Inner>>);

impl WorkerClient {
    fn start() -> Result<Self, String> {
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options("./worker.js", &options)
            .map_err(|e| format!("starting a worker of the page (worker.js): {e:?}"))?;
        let client = Rc::new_cyclic(|weak: &Weak<RefCell<Inner>>| {
            let weak = weak.clone();
            let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                if let (Some(text), Some(inner)) = (event.data().as_string(), weak.upgrade()) {
                    WorkerClient(inner).receive(&text);
                }
            });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            RefCell::new(Inner {
                worker,
                ready: false,
                queued: Vec::new(),
                listeners: HashMap::new(),
                next_job: 1,
                _on_message: on_message,
            })
        });
        Ok(Self(client))
    }

    fn receive(&self, text: &str) {
        let message = match serde_json::from_str::<FromWorker>(text) {
            Ok(message) => message,
            Err(error) => {
                web_sys::console::error_1(&format!("bitdistill: bad worker message {text}: {error}").into());
                return;
            }
        };
        let Some(job) = message.job() else {
            let mut inner = self.0.borrow_mut();
            inner.ready = true;
            for queued in std::mem::take(&mut inner.queued) {
                let _ = inner.worker.post_message(&JsValue::from_str(&queued));
            }
            return;
        };
        // The listener runs outside the borrow: it may start another job, or stop this worker.
        let Some(mut listener) = self.0.borrow_mut().listeners.remove(&job) else {
            return;
        };
        let last = message.is_final();
        listener(message);
        if !last {
            self.0.borrow_mut().listeners.insert(job, listener);
        }
    }

    /// Sends the job `ask(job number)` makes; `on_event` sees every answer of it.
    fn send(&self, ask: impl FnOnce(u64) -> ToWorker, mut on_event: impl FnMut(FromWorker) + 'static) {
        let mut inner = self.0.borrow_mut();
        let job = inner.next_job;
        inner.next_job += 1;
        let text = serde_json::to_string(&ask(job)).expect("worker messages serialize");
        if inner.ready {
            if let Err(e) = inner.worker.post_message(&JsValue::from_str(&text)) {
                drop(inner);
                on_event(FromWorker::Failed {
                    job,
                    message: format!("posting to the worker: {e:?}"),
                });
                return;
            }
        } else {
            inner.queued.push(text);
        }
        inner.listeners.insert(job, Box::new(on_event));
    }

    /// Ends the worker at once, whatever it is doing; its jobs get no further answers.
    pub fn terminate(&self) {
        let mut inner = self.0.borrow_mut();
        inner.worker.set_onmessage(None);
        inner.worker.terminate();
        inner.listeners.clear();
    }
}

thread_local! {
    static MODELS: RefCell<Option<WorkerClient>> = const { RefCell::new(None) };
}

/// Sends a job to the worker that holds the page's models, started the first time.
fn send_to_models(ask: impl FnOnce(u64) -> ToWorker, mut on_event: impl FnMut(FromWorker) + 'static) {
    let client = MODELS.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(WorkerClient::start()?);
        }
        Ok::<_, String>(cell.clone().expect("started above"))
    });
    match client {
        Ok(client) => client.send(ask, on_event),
        Err(message) => on_event(FromWorker::Failed { job: 0, message }),
    }
}

/// Translates with the model directory at URL `model`; `on_event` sees every answer of the job.
pub fn translate(model: &str, request: TranslationRequest, on_event: impl FnMut(FromWorker) + 'static) {
    let model = model.to_string();
    send_to_models(move |job| ToWorker::Translate { job, model, request }, on_event);
}

/// Measures the int8 error of `sentence`'s activations with the model directory at URL `model`.
pub fn probe(model: &str, sentence: &str, on_event: impl FnMut(FromWorker) + 'static) {
    let (model, sentence) = (model.to_string(), sentence.to_string());
    send_to_models(move |job| ToWorker::Probe { job, model, sentence }, on_event);
}

/// Trains `config` in a worker of its own; `on_event` sees every answer. The returned client stops the run
/// ([`WorkerClient::terminate`]).
pub fn train(config: RunConfig, on_event: impl FnMut(FromWorker) + 'static) -> Result<WorkerClient, String> {
    let client = WorkerClient::start()?;
    let config = Box::new(config);
    client.send(move |job| ToWorker::Train { job, config }, on_event);
    Ok(client)
}
