//! What `ablate` and `sweep` share: each unit of work keeps its result in `result.json` (so an interrupted job
//! continues where it stopped) and the job rewrites its `NAME.{json,md}` table after every unit.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// The result kept in `dir/result.json`, or `compute`d and kept there.
pub fn kept_result<T: Serialize + DeserializeOwned>(dir: &Path, compute: impl FnOnce() -> Result<T>) -> Result<T> {
    let file = dir.join("result.json");
    if let Ok(bytes) = std::fs::read(&file) {
        return serde_json::from_slice(&bytes).map_err(|source| Error::Json { path: file, source });
    }
    let result = compute()?;
    let json = serde_json::to_vec_pretty(&result).map_err(|e| Error::Invalid(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_atomic(&file, &json)?;
    Ok(result)
}

/// Writes `out/NAME.json` (the results) and `out/NAME.md` (their table).
pub fn write_tables<T: Serialize>(out: &Path, name: &str, results: &[T], markdown: &str) -> Result<()> {
    let json = serde_json::to_vec_pretty(results).map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&out.join(format!("{name}.json")), &json)?;
    write_atomic(&out.join(format!("{name}.md")), markdown.as_bytes())
}

/// The last two cells of a table row: optimizer steps and wall time as "1 min 05 s".
pub fn steps_and_wall_cells(steps: usize, wall_seconds: f64) -> String {
    let wall = wall_seconds.round() as u64;
    format!(" {steps} | {} min {:02} s |\n", wall / 60, wall % 60)
}
