//! The page's side of the worker: starts `worker.js` once, sends it jobs as JSON text, and hands each answer
//! to the job's listener. What is sent before the worker says [`FromWorker::Ready`] waits in a queue.

use std::cell::RefCell;
use std::collections::HashMap;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::protocol::{FromWorker, ToWorker};
use crate::generate::TranslationRequest;

type Listener = Box<dyn FnMut(FromWorker)>;

struct Client {
    worker: web_sys::Worker,
    ready: bool,
    queued: Vec<String>,
    listeners: HashMap<u64, Listener>,
    next_job: u64,
}

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// Starts the worker; the answers arrive in [`receive`].
fn start() -> Result<Client, String> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options("./worker.js", &options)
        .map_err(|e| format!("starting the page's worker (worker.js): {e:?}"))?;
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|event: web_sys::MessageEvent| {
        if let Some(text) = event.data().as_string() {
            receive(&text);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    Ok(Client {
        worker,
        ready: false,
        queued: Vec::new(),
        listeners: HashMap::new(),
        next_job: 1,
    })
}

fn receive(text: &str) {
    let message = match serde_json::from_str::<FromWorker>(text) {
        Ok(message) => message,
        Err(error) => {
            web_sys::console::error_1(&format!("bitdistill: bad worker message {text}: {error}").into());
            return;
        }
    };
    let Some(job) = message.job() else {
        CLIENT.with(|client| {
            if let Some(client) = client.borrow_mut().as_mut() {
                client.ready = true;
                for queued in std::mem::take(&mut client.queued) {
                    let _ = client.worker.post_message(&JsValue::from_str(&queued));
                }
            }
        });
        return;
    };
    // The listener runs outside the borrow: it may start another job.
    let listener = CLIENT.with(|client| client.borrow_mut().as_mut()?.listeners.remove(&job));
    let Some(mut listener) = listener else { return };
    let last = message.is_final();
    listener(message);
    if !last {
        CLIENT.with(|client| {
            if let Some(client) = client.borrow_mut().as_mut() {
                client.listeners.insert(job, listener);
            }
        });
    }
}

/// Translates with the model directory at URL `model` in the worker; `on_event` sees every answer of the job.
pub fn translate(model: &str, request: TranslationRequest, mut on_event: impl FnMut(FromWorker) + 'static) {
    let sent = CLIENT.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(start()?);
        }
        let client = cell.as_mut().expect("started above");
        let job = client.next_job;
        client.next_job += 1;
        let text = serde_json::to_string(&ToWorker::Translate {
            job,
            model: model.to_string(),
            request,
        })
        .expect("worker messages serialize");
        match client.ready {
            true => client
                .worker
                .post_message(&JsValue::from_str(&text))
                .map_err(|e| format!("posting to the worker: {e:?}"))?,
            false => client.queued.push(text),
        }
        Ok::<_, String>(job)
    });
    match sent {
        Ok(job) => CLIENT.with(|client| {
            if let Some(client) = client.borrow_mut().as_mut() {
                client.listeners.insert(job, Box::new(on_event));
            }
        }),
        Err(message) => on_event(FromWorker::Failed { job: 0, message }),
    }
}
