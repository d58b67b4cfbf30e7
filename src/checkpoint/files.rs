//! Where a model directory's files come from: a folder on disk, or bytes already in memory. The browser has no
//! filesystem: it fetches the very files of a model directory over HTTP (or gets them from the file picker)
//! and hands them over by name, so one loader serves the CLI, the desktop app and the web page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::safetensors_file::SafetensorsFile;
use crate::error::{Error, Result};

/// A model directory's files, by file name.
#[derive(Clone, Debug)]
pub enum ModelFiles {
    Dir(PathBuf),
    /// Files held in memory; `label` (a URL or the picked folder's name) names them in errors.
    Memory {
        label: PathBuf,
        files: BTreeMap<String, Arc<[u8]>>,
    },
}

impl ModelFiles {
    pub fn dir(dir: impl Into<PathBuf>) -> Self {
        Self::Dir(dir.into())
    }

    pub fn memory(label: impl Into<PathBuf>, files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        Self::Memory {
            label: label.into(),
            files: files.into_iter().map(|(name, bytes)| (name, bytes.into())).collect(),
        }
    }

    /// The directory, or the label of in-memory files.
    pub fn root(&self) -> &Path {
        match self {
            Self::Dir(dir) => dir,
            Self::Memory { label, .. } => label,
        }
    }

    /// Where file `name` is (or would be), for messages.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        match self {
            Self::Dir(dir) => dir.join(name).exists(),
            Self::Memory { files, .. } => files.contains_key(name),
        }
    }

    pub fn read(&self, name: &str) -> Result<Arc<[u8]>> {
        match self {
            Self::Dir(dir) => {
                let path = dir.join(name);
                std::fs::read(&path).map(Into::into).map_err(|e| Error::io(path, e))
            }
            Self::Memory { files, .. } => files.get(name).cloned().ok_or_else(|| self.missing(name)),
        }
    }

    pub fn read_string(&self, name: &str) -> Result<String> {
        let bytes = self.read(name)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::config(self.path(name), "the file is not UTF-8 text"))
    }

    /// `name` as a safetensors file: memory-mapped from a folder, shared from memory.
    pub fn safetensors(&self, name: &str) -> Result<SafetensorsFile> {
        match self {
            Self::Dir(dir) => SafetensorsFile::open(&dir.join(name)),
            Self::Memory { files, .. } => {
                let bytes = files.get(name).cloned().ok_or_else(|| self.missing(name))?;
                SafetensorsFile::from_bytes(self.path(name), bytes)
            }
        }
    }

    fn missing(&self, name: &str) -> Error {
        Error::io(
            self.path(name),
            std::io::Error::new(std::io::ErrorKind::NotFound, "not among the model's files"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_files_read_back_and_missing_ones_are_named() {
        let files = ModelFiles::memory("models/teacher", [("config.json".to_string(), b"{}".to_vec())]);
        assert!(files.contains("config.json"));
        assert!(!files.contains("model.safetensors"));
        assert_eq!(files.read_string("config.json").unwrap(), "{}");
        let error = files.read("model.safetensors").unwrap_err().to_string();
        assert!(error.contains("models/teacher/model.safetensors"), "{error}");
    }
}
