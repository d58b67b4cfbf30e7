//! Writes a model as a Hugging Face checkpoint directory (the layout [`super::Checkpoint`] reads).

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use half::bf16;
use safetensors::tensor::{Dtype, TensorView};

use super::{CONFIG_FILE, INDEX_FILE, SINGLE_FILE};
use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::model::{HunYuan, HunYuanConfig, hf_name};

/// Storage dtype of written weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveDtype {
    F32,
    Bf16,
}

/// One weight as stored: HF name, shape, little-endian bytes.
struct StoredTensor {
    name: String,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

struct Collect {
    dtype: SaveDtype,
    /// Module path of the parameter being visited (`layers`, `0`, `self_attn`, `q_proj`, `weight`).
    path: Vec<String>,
    tensors: Vec<StoredTensor>,
}

impl ModuleVisitor for Collect {
    // Enum variants (`Projection::Dense`/`Ternary`) are not part of the tensor's name.
    fn enter_module(&mut self, name: &str, container_type: &str) {
        if !container_type.starts_with("Enum:") {
            self.path.push(name.to_string());
        }
    }

    fn exit_module(&mut self, _name: &str, container_type: &str) {
        if !container_type.starts_with("Enum:") {
            self.path.pop();
        }
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let values = tensor.to_data().try_into_vec_as::<f32>().expect("f32 tensor data");
        let bytes = match self.dtype {
            SaveDtype::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            SaveDtype::Bf16 => values.iter().flat_map(|v| bf16::from_f32(*v).to_le_bytes()).collect(),
        };
        self.tensors.push(StoredTensor {
            name: hf_name(&self.path.join(".")),
            shape: tensor.dims().to_vec(),
            bytes,
        });
    }
}

/// Writes `config.json` (in the release's `rope_scaling` layout, or `rope_parameters` when asked) and the
/// weights into `dir`, as one `model.safetensors` or, when `max_shard_bytes` is given, as shards with an index.
/// Every file is written atomically.
pub fn save_checkpoint(
    model: &HunYuan,
    config: &HunYuanConfig,
    dir: &Path,
    dtype: SaveDtype,
    rope_parameters_layout: bool,
    max_shard_bytes: Option<usize>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut collect = Collect {
        dtype,
        path: Vec::new(),
        tensors: Vec::new(),
    };
    model.visit(&mut collect);

    let shards = split_shards(collect.tensors, max_shard_bytes.unwrap_or(usize::MAX));
    if shards.len() == 1 {
        write_safetensors(&dir.join(SINGLE_FILE), &shards[0], dtype)?;
    } else {
        let mut weight_map = BTreeMap::new();
        for (i, shard) in shards.iter().enumerate() {
            let name = format!("model-{:05}-of-{:05}.safetensors", i + 1, shards.len());
            write_safetensors(&dir.join(&name), shard, dtype)?;
            weight_map.extend(shard.iter().map(|t| (t.name.clone(), name.clone())));
        }
        let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
        write_atomic(&dir.join(INDEX_FILE), index.to_string().as_bytes())?;
    }
    let config_json = serde_json::to_string_pretty(&config.to_hf_json(rope_parameters_layout))
        .map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&dir.join(CONFIG_FILE), config_json.as_bytes())
}

fn split_shards(tensors: Vec<StoredTensor>, max_bytes: usize) -> Vec<Vec<StoredTensor>> {
    let mut shards: Vec<Vec<StoredTensor>> = vec![Vec::new()];
    let mut size = 0;
    for tensor in tensors {
        if size > 0 && size + tensor.bytes.len() > max_bytes {
            shards.push(Vec::new());
            size = 0;
        }
        size += tensor.bytes.len();
        shards.last_mut().unwrap().push(tensor);
    }
    shards
}

fn write_safetensors(path: &Path, tensors: &[StoredTensor], dtype: SaveDtype) -> Result<()> {
    let dtype = match dtype {
        SaveDtype::F32 => Dtype::F32,
        SaveDtype::Bf16 => Dtype::BF16,
    };
    let views = tensors
        .iter()
        .map(|t| {
            let view = TensorView::new(dtype, t.shape.clone(), &t.bytes).map_err(|e| Error::Safetensors {
                path: path.to_path_buf(),
                message: format!("tensor `{}`: {e}", t.name),
            })?;
            Ok((t.name.clone(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, None).map_err(|e| Error::Safetensors {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}
