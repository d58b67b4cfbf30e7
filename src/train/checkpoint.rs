//! Training checkpoints: student weights and optimizer state in burn's format (which keeps parameter ids, so
//! the AdamW moments find their parameters again) plus the trainer's position. A checkpoint is written into
//! `NAME.partial/`, every file fsynced, then the folder is renamed: a crash leaves the last one whole.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::events::Stage;
use crate::atomic::write_atomic;
use crate::error::{Error, Result};

pub const MODEL_FILE: &str = "model.bpk";
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
pub const STATE_FILE: &str = "state.json";

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub stage: Stage,
    /// Optimizer steps completed in `stage`.
    pub step: usize,
    /// Examples consumed in `stage` (the sampler's position).
    pub position: usize,
    pub seed: u64,
}

/// A checkpoint folder's name sorts in training order.
fn folder_name(state: &TrainState) -> String {
    let stage = match state.stage {
        Stage::Pretrain => 2,
        Stage::Distill => 3,
    };
    format!("stage{stage}-step{:07}", state.step)
}

/// Writes a checkpoint under `root` and keeps the `keep` most recent ones.
pub fn write_checkpoint(
    root: &Path,
    state: &TrainState,
    model: &[u8],
    optimizer: &[u8],
    keep: usize,
) -> Result<PathBuf> {
    let name = folder_name(state);
    let partial = root.join(format!("{name}.partial"));
    let done = root.join(&name);
    std::fs::create_dir_all(&partial).map_err(|e| Error::io(&partial, e))?;
    write_atomic(&partial.join(MODEL_FILE), model)?;
    write_atomic(&partial.join(OPTIMIZER_FILE), optimizer)?;
    let json = serde_json::to_vec_pretty(state).map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&partial.join(STATE_FILE), &json)?;
    if done.exists() {
        std::fs::remove_dir_all(&done).map_err(|e| Error::io(&done, e))?;
    }
    std::fs::rename(&partial, &done).map_err(|e| Error::io(&done, e))?;
    std::fs::File::open(root)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(root, e))?;
    for old in complete_checkpoints(root)?.into_iter().rev().skip(keep.max(1)) {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    Ok(done)
}

/// Complete checkpoint folders under `root`, oldest first (`.partial` leftovers of a crash are ignored).
pub fn complete_checkpoints(root: &Path) -> Result<Vec<PathBuf>> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| Error::io(root, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.join(STATE_FILE).exists() && p.extension().is_none_or(|e| e != "partial"))
        .collect();
    found.sort();
    Ok(found)
}

/// Reads a checkpoint's state and raw model and optimizer bytes.
pub fn read_checkpoint(dir: &Path) -> Result<(TrainState, Vec<u8>, Vec<u8>)> {
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| Error::io(dir.join(name), e));
    let state: TrainState = serde_json::from_slice(&read(STATE_FILE)?).map_err(|source| Error::Json {
        path: dir.join(STATE_FILE),
        source,
    })?;
    Ok((state, read(MODEL_FILE)?, read(OPTIMIZER_FILE)?))
}
