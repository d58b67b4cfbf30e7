//! BitDistill Studio: BitNet Distillation of Tencent's HY-MT1.5 translation model into a 1.58-bit student.
//!
//! This crate holds the model core (the `HunYuanDenseV1` architecture in burn, checkpoint loading, generation,
//! HY-MT's chat and translation prompts); the backend is picked at run time through burn's `Device`.

pub mod atomic;
pub mod backend;
pub mod checkpoint;
pub mod compare;
pub mod data;
pub mod demo;
pub mod distill;
#[cfg(not(target_arch = "wasm32"))]
pub mod doctor;
pub mod error;
pub mod eval;
pub mod export;
pub mod generate;
pub mod gui;
pub mod infer;
pub mod kernels;
pub mod model;
pub mod prompt;
pub mod quant;
pub mod report;
pub mod ternary;
pub mod tokenizer;
pub mod train;
pub mod web;

pub use error::{Error, Result};
