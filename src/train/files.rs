//! What a run reads and whether it writes: the teacher's model files and the stages' data files, from the disk
//! (the CLI, the desktop app) or from memory (the browser fetches them over HTTP), and whether checkpoints and
//! the finished student are written under the run file's `out` (the browser has no filesystem: its runs keep
//! nothing and cannot be resumed).

use super::config::RunConfig;
use crate::checkpoint::ModelFiles;
use crate::data::DataFiles;

#[derive(Clone, Debug)]
pub struct RunFiles {
    pub teacher: ModelFiles,
    pub data: DataFiles,
    /// Write checkpoints (so `--resume` works) and the student directory under `out`.
    pub writes_out: bool,
}

impl RunFiles {
    /// Everything on disk where the run file says: what `bitdistill distill` and the desktop app run.
    pub fn disk(config: &RunConfig) -> Self {
        Self {
            teacher: ModelFiles::dir(&config.teacher),
            data: DataFiles::Disk,
            writes_out: true,
        }
    }
}
