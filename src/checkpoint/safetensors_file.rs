//! One `.safetensors` file, memory-mapped (or held in memory in the browser), whose tensors are decoded to f32
//! one at a time.
//!
//! Mapping instead of reading keeps loading the real 1.8B checkpoint near one f32 copy of the model: each
//! tensor is widened when asked for and the mapped pages are only the kernel's cache.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::TensorData;
use half::{bf16, f16};
use memmap2::Mmap;
use safetensors::tensor::{Dtype, Metadata, SafeTensors, TensorInfo};

use crate::error::{Error, Result};

/// The file's bytes: mapped from disk, or shared from memory (a fetched file has nowhere to be mapped from).
enum FileBytes {
    Mapped(Mmap),
    Shared(Arc<[u8]>),
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Mapped(map) => map,
            Self::Shared(bytes) => bytes,
        }
    }
}

pub struct SafetensorsFile {
    path: PathBuf,
    bytes: FileBytes,
    metadata: Metadata,
    /// Byte offset of the data section (8-byte length + JSON header).
    data_start: usize,
}

impl SafetensorsFile {
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the map is read-only and lives as long as this value; a checkpoint rewritten underneath a
        // running load is outside what any loader can guard against.
        let mmap = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        Self::parse(path.to_path_buf(), FileBytes::Mapped(mmap))
    }

    /// A file already in memory; `path` names it in errors.
    pub fn from_bytes(path: PathBuf, bytes: Arc<[u8]>) -> Result<Self> {
        Self::parse(path, FileBytes::Shared(bytes))
    }

    fn parse(path: PathBuf, bytes: FileBytes) -> Result<Self> {
        let (header_len, metadata) = SafeTensors::read_metadata(&bytes).map_err(|e| Error::Safetensors {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Self {
            path,
            bytes,
            metadata,
            data_start: 8 + header_len,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names of every tensor in the file.
    pub fn names(&self) -> Vec<String> {
        self.metadata.tensors().into_keys().collect()
    }

    /// Shape and dtype name of `name`, if present.
    pub fn describe(&self, name: &str) -> Option<(Vec<usize>, String)> {
        self.metadata
            .info(name)
            .map(|info| (info.shape.clone(), format!("{:?}", info.dtype)))
    }

    fn info(&self, name: &str) -> Result<&TensorInfo> {
        self.metadata.info(name).ok_or_else(|| Error::MissingTensor {
            path: self.path.clone(),
            name: name.to_string(),
        })
    }

    fn check_shape(&self, name: &str, info: &TensorInfo, expected: &[usize]) -> Result<()> {
        if expected != info.shape.as_slice() {
            return Err(Error::ShapeMismatch {
                path: self.path.clone(),
                name: name.to_string(),
                expected: expected.to_vec(),
                found: info.shape.clone(),
            });
        }
        Ok(())
    }

    fn bytes(&self, info: &TensorInfo) -> &[u8] {
        let (begin, end) = info.data_offsets;
        &self.bytes[self.data_start + begin..self.data_start + end]
    }

    /// Decodes `name` to f32, checking its shape against `expected` when given.
    pub fn read_f32(&self, name: &str, expected: Option<&[usize]>) -> Result<TensorData> {
        let info = self.info(name)?;
        if let Some(expected) = expected {
            self.check_shape(name, info, expected)?;
        }
        let values = decode_f32(self.bytes(info), info.dtype).ok_or_else(|| Error::UnsupportedDtype {
            path: self.path.clone(),
            name: name.to_string(),
            dtype: format!("{:?} (expected BF16, F16, F32 or F64)", info.dtype),
        })?;
        Ok(TensorData::new(values, info.shape.clone()))
    }

    /// The stored bytes of `name`, which must have exactly `dtype` and `shape` (packed exports).
    pub fn read_raw(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&[u8]> {
        let info = self.info(name)?;
        if info.dtype != dtype {
            return Err(Error::UnsupportedDtype {
                path: self.path.clone(),
                name: name.to_string(),
                dtype: format!("{:?} (this layout stores it as {dtype:?})", info.dtype),
            });
        }
        self.check_shape(name, info, shape)?;
        Ok(self.bytes(info))
    }

    /// Whether the file holds `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.metadata.info(name).is_some()
    }

    /// Reads an integer tensor (I64 or I32) such as `input_ids`.
    pub fn read_i64(&self, name: &str) -> Result<(Vec<i64>, Vec<usize>)> {
        let info = self.info(name)?;
        let bytes = self.bytes(info);
        let values = match info.dtype {
            Dtype::I64 => bytes
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                .collect(),
            Dtype::I32 => bytes
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes(b.try_into().unwrap()) as i64)
                .collect(),
            other => {
                return Err(Error::UnsupportedDtype {
                    path: self.path.clone(),
                    name: name.to_string(),
                    dtype: format!("{other:?} (expected an integer tensor, I64 or I32)"),
                });
            }
        };
        Ok((values, info.shape.clone()))
    }
}

/// Little-endian bytes of a float dtype, widened to f32; `None` for any other dtype.
fn decode_f32(bytes: &[u8], dtype: Dtype) -> Option<Vec<f32>> {
    let values = match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
            .collect(),
        _ => return None,
    };
    Some(values)
}
