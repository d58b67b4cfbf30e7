//! Training: the run file, the loop, its events, checkpoints and snapshots.

mod activation_probe;
mod checkpoint;
mod config;
mod data;
mod events;
mod files;
mod grads;
mod progress;
mod schedule;
mod shards;
mod snapshot;
mod trainer;

pub use crate::backend::read_scalar;
pub use activation_probe::{ActivationErrors, ProbeModel};
pub use checkpoint::{TrainState, complete_checkpoints};
pub use config::{
    CheckpointSection, Method, OptimSection, RunConfig, SnapshotSection, Stage2Section, Stage3Section, StudentSection,
};
#[cfg(not(target_arch = "wasm32"))]
pub use data::stage2_cache;
pub use events::{LayerQuantStats, Snapshot, Stage, StepMetrics, TrainEvent};
pub use files::RunFiles;
pub use grads::{clip_global_norm, global_norm};
pub use progress::{StepRate, describe_tokenizing, short_duration};
pub use schedule::cosine_with_warmup;
pub use snapshot::{HISTOGRAM_BINS, HISTOGRAM_RANGE, attention_input_errors, layer_weight_stats};
pub use trainer::{RunControl, RunOutcome, run, run_with};
