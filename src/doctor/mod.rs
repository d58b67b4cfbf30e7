//! `bitdistill doctor`: can this machine run that job? The compute devices and their limits, the CPU and its
//! SIMD paths, memory and disk, versions; with a run file, the memory its steps need against what there is,
//! and what to change when it does not fit.

mod devices;
mod estimate;
mod run;
mod system;

pub use devices::{DeviceFacts, burn_default_adapter, wgpu_adapters};
pub use estimate::{MemoryEstimate, StepShape, estimate_step, per_token_layer_floats};
pub use run::{RunEstimate, estimate_run, stage3_longest};
pub use system::{BURN_VERSION, SystemFacts, resident_bytes};
