//! Where the stages' data files are read from: the disk (the CLI, the desktop app) or bytes already in memory,
//! keyed by the path the run file gives (the browser, which fetches them over HTTP and has no filesystem).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

#[derive(Clone, Debug, Default)]
pub enum DataFiles {
    #[default]
    Disk,
    Memory(BTreeMap<PathBuf, Arc<[u8]>>),
}

impl DataFiles {
    pub fn memory(files: impl IntoIterator<Item = (PathBuf, Vec<u8>)>) -> Self {
        Self::Memory(files.into_iter().map(|(path, bytes)| (path, bytes.into())).collect())
    }

    /// The file at `path` as UTF-8 text; errors name the path.
    pub fn read_text(&self, path: &Path) -> Result<String> {
        let bytes = match self {
            Self::Disk => return std::fs::read_to_string(path).map_err(|e| Error::io(path, e)),
            Self::Memory(files) => files
                .get(path)
                .ok_or_else(|| Error::Invalid(format!("{}: not among the files handed to this run", path.display())))?,
        };
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::config(path, "the file is not UTF-8 text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_files_are_found_by_their_path_and_must_be_text() {
        let files = DataFiles::memory([
            (PathBuf::from("data/pairs.tsv"), b"Open\tAbra\n".to_vec()),
            (PathBuf::from("data/bad.txt"), vec![0xff, 0xfe]),
        ]);
        assert_eq!(files.read_text(Path::new("data/pairs.tsv")).unwrap(), "Open\tAbra\n");
        let missing = files.read_text(Path::new("data/other.tsv")).unwrap_err().to_string();
        assert!(missing.contains("data/other.tsv"), "{missing}");
        let bad = files.read_text(Path::new("data/bad.txt")).unwrap_err().to_string();
        assert!(bad.contains("data/bad.txt") && bad.contains("UTF-8"), "{bad}");
        let absent = DataFiles::Disk
            .read_text(Path::new("/nonexistent/pairs.tsv"))
            .unwrap_err();
        assert!(absent.to_string().contains("/nonexistent/pairs.tsv"));
    }
}
