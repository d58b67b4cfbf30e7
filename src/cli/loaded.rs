//! The model arguments every model subcommand shares; opening is the library's `Loaded::open`.

use std::path::PathBuf;

use bitdistill::backend::BackendKind;
use bitdistill::generate::{Engine, Loaded};

/// Where a subcommand reads its model from.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Checkpoint directory (config.json + model.safetensors or a sharded index), student or packed export.
    #[arg(long)]
    pub model: PathBuf,
    /// Weights file inside the directory, instead of model.safetensors / the index (burn engine).
    #[arg(long)]
    pub weights: Option<String>,
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    pub backend: BackendKind,
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,
}

impl ModelArgs {
    pub fn load(&self) -> anyhow::Result<Loaded> {
        Ok(Loaded::open(
            &self.model,
            self.weights.as_deref(),
            self.engine,
            self.backend,
        )?)
    }
}

/// A teacher and a student directory, for the commands that compare the two.
#[derive(clap::Args)]
pub struct TeacherStudentArgs {
    /// Full-precision teacher directory.
    #[arg(long)]
    pub teacher: PathBuf,
    /// Student directory (`student init`, a run's `student/`, or for `compare` a packed export too).
    #[arg(long)]
    pub student: PathBuf,
}
