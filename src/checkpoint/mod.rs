//! Checkpoint directories exactly as Hugging Face ships them: `config.json` plus `model.safetensors` or a
//! sharded `model.safetensors.index.json`, weights in bf16, f16 or f32.

mod files;
mod safetensors_file;
mod save;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, TensorData};
use serde::Deserialize;

pub use files::ModelFiles;
pub use safetensors_file::SafetensorsFile;
pub use save::{SaveDtype, save_checkpoint};

use crate::error::{Error, Result};
use crate::model::{HunYuan, HunYuanConfig, WeightSource, hf_name};

pub const CONFIG_FILE: &str = "config.json";
pub const SINGLE_FILE: &str = "model.safetensors";
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// The `config.json` of a model directory's files.
pub fn read_config(files: &ModelFiles) -> Result<HunYuanConfig> {
    HunYuanConfig::from_json_str(&files.read_string(CONFIG_FILE)?, &files.path(CONFIG_FILE))
}

/// An opened checkpoint: its config and its weight files, mapped but not yet decoded.
pub struct Checkpoint {
    pub dir: PathBuf,
    pub config: HunYuanConfig,
    files: Vec<SafetensorsFile>,
    /// HF tensor name → index into `files`.
    location: HashMap<String, usize>,
}

#[derive(Deserialize)]
struct ShardIndex {
    weight_map: HashMap<String, String>,
}

impl Checkpoint {
    /// Opens `dir` with its default weights (`model.safetensors`, else the sharded index).
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with_weights(dir, None)
    }

    /// Opens `dir` reading the weights from `weights` (a `.safetensors` file or a shard index inside `dir`).
    pub fn open_with_weights(dir: &Path, weights: Option<&str>) -> Result<Self> {
        Self::from_files(&ModelFiles::dir(dir), weights)
    }

    /// Opens a model directory's `files` (on disk or in memory), as [`Checkpoint::open_with_weights`].
    pub fn from_files(files: &ModelFiles, weights: Option<&str>) -> Result<Self> {
        let config = read_config(files)?;
        let weights = match weights {
            Some(name) => name,
            None if files.contains(SINGLE_FILE) => SINGLE_FILE,
            None if files.contains(INDEX_FILE) => INDEX_FILE,
            None => {
                return Err(Error::config(
                    files.root(),
                    format!("no weights: neither {SINGLE_FILE} nor {INDEX_FILE} is in this directory"),
                ));
            }
        };
        let (files_read, location) = if weights.ends_with(".json") {
            open_shards(files, weights)?
        } else {
            let file = files.safetensors(weights)?;
            let location = file.names().into_iter().map(|name| (name, 0)).collect();
            (vec![file], location)
        };
        Ok(Self {
            dir: files.root().to_path_buf(),
            config,
            files: files_read,
            location,
        })
    }

    /// Builds the model on `device`, decoding one tensor at a time.
    pub fn load_model(&mut self, device: &Device) -> Result<HunYuan> {
        if let Some(packing) = self.config.student.as_ref().and_then(|s| s.packing) {
            return Err(Error::config(
                self.dir.join(CONFIG_FILE),
                format!(
                    "a packed {} export runs on the ternary CPU engine (crate::infer), not as a burn model",
                    packing.format.name()
                ),
            ));
        }
        let config = self.config.clone();
        HunYuan::from_source(&config, self, device)
    }

    /// `(HF name, shape, dtype)` of every stored tensor, sorted by name.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>, String)> {
        let mut out: Vec<_> = self
            .location
            .iter()
            .filter_map(|(name, &file)| {
                let (shape, dtype) = self.files[file].describe(name)?;
                Some((name.clone(), shape, dtype))
            })
            .collect();
        out.sort();
        out
    }

    /// The file that holds tensor `name` (for error messages), or the first weight file.
    fn file_of(&self, name: &str) -> &SafetensorsFile {
        &self.files[self.location.get(name).copied().unwrap_or(0)]
    }
}

impl Checkpoint {
    /// Decodes the tensor with HF name `name` to f32, checking its shape.
    pub fn read_f32(&self, name: &str, shape: &[usize]) -> Result<TensorData> {
        self.file_of(name).read_f32(name, Some(shape))
    }
}

impl WeightSource for Checkpoint {
    fn weight(&mut self, path: &str, shape: &[usize]) -> Result<TensorData> {
        self.read_f32(&hf_name(path), shape)
    }
}

fn open_shards(files: &ModelFiles, index_name: &str) -> Result<(Vec<SafetensorsFile>, HashMap<String, usize>)> {
    let text = files.read_string(index_name)?;
    let index: ShardIndex = serde_json::from_str(&text).map_err(|source| Error::Json {
        path: files.path(index_name),
        source,
    })?;
    let mut shard_names: Vec<&String> = index.weight_map.values().collect();
    shard_names.sort();
    shard_names.dedup();
    let files = shard_names
        .iter()
        .map(|name| files.safetensors(name))
        .collect::<Result<Vec<_>>>()?;
    let location = index
        .weight_map
        .iter()
        .map(|(tensor, shard)| (tensor.clone(), shard_names.binary_search(&shard).unwrap()))
        .collect();
    Ok((files, location))
}
