//! The browser build's plumbing: the page hands its models' work to a worker running the same wasm module
//! (`worker.rs`, started by `web/worker.js`), talking in JSON messages (`protocol.rs`); models come over HTTP
//! (`fetch.rs`) or from the folder picker (`picker.rs`, `picked.rs`). Only the protocol and the picked
//! addresses are compiled natively, for their tests.

pub mod picked;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod picker;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
pub use client::{WorkerClient, probe, train, translate};
#[cfg(target_arch = "wasm32")]
pub use fetch::{fetch_bytes, fetch_model};
#[cfg(target_arch = "wasm32")]
pub use picker::pick_model_folder;
#[cfg(target_arch = "wasm32")]
pub use worker::worker_main;
