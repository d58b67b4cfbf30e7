//! The browser build's plumbing: the page hands its models' work to a worker running the same wasm module
//! (`worker.rs`, started by `web/worker.js`), talking in JSON messages (`protocol.rs`); models come over HTTP
//! (`fetch.rs`). Only the protocol is compiled natively, for its tests.

pub mod protocol;

#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
pub use client::{WorkerClient, train, translate};
#[cfg(target_arch = "wasm32")]
pub use fetch::{fetch_bytes, fetch_model};
#[cfg(target_arch = "wasm32")]
pub use worker::worker_main;
