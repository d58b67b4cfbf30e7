//! Stage-2 corpus: monolingual documents tokenized, joined with end-of-sequence tokens and cut into
//! fixed-length blocks (the usual LM packing). The token stream lives in memory (the browser, small corpora)
//! or in an on-disk [`TokenCache`](super::TokenCache) read a block at a time.

use std::path::Path;

use super::batch::Example;
use super::files::DataFiles;
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Reads the documents of a corpus file (every format of [`for_each_document`](super::for_each_document));
/// errors name the file and line.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_documents(path: &Path) -> Result<Vec<String>> {
    let mut documents = Vec::new();
    super::documents::for_each_document(path, DEFAULT_TEXT_FIELD, |document| {
        documents.push(document.to_string());
        Ok(())
    })?;
    Ok(documents)
}

/// The JSON field (and Parquet column) that holds a document unless the run file names another.
pub const DEFAULT_TEXT_FIELD: &str = "text";

/// The document of line `number` of `path`: the line itself, or its JSON object's string `field`; `None` for
/// a blank line.
pub(super) fn document_of_line(
    path: &Path,
    number: usize,
    line: &str,
    jsonl: bool,
    field: &str,
) -> Result<Option<String>> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    if !jsonl {
        return Ok(Some(line.to_string()));
    }
    let bad = |what: String| Error::Invalid(format!("{}:{number}: {what}", path.display()));
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("malformed JSON line: {e}")))?;
    value[field]
        .as_str()
        .map(|text| Some(text.to_string()))
        .ok_or_else(|| bad(format!("JSON line has no string field `{field}`")))
}

/// The token stream that blocks are cut from.
pub enum TokenStream {
    Memory(Vec<u32>),
    #[cfg(not(target_arch = "wasm32"))]
    Cache(super::TokenCache),
}

impl TokenStream {
    pub fn tokens(&self) -> u64 {
        match self {
            Self::Memory(ids) => ids.len() as u64,
            #[cfg(not(target_arch = "wasm32"))]
            Self::Cache(cache) => cache.tokens(),
        }
    }

    fn read(&self, start: u64, len: usize) -> Vec<u32> {
        match self {
            Self::Memory(ids) => ids[start as usize..start as usize + len].to_vec(),
            #[cfg(not(target_arch = "wasm32"))]
            Self::Cache(cache) => cache.read(start, len),
        }
    }
}

/// A token stream cut into consecutive blocks of `block_len + 1` tokens (inputs and shifted targets, every
/// position trained); the tail shorter than a block is dropped.
pub struct PackedBlocks {
    stream: TokenStream,
    block_len: usize,
}

impl PackedBlocks {
    /// The blocks of `stream`; `source` names the corpus in the error when not even one block fits.
    pub fn new(stream: TokenStream, block_len: usize, source: &str) -> Result<Self> {
        if stream.tokens() < block_len as u64 + 1 {
            return Err(Error::Invalid(format!(
                "{source}: only {} tokens, fewer than one block of {} tokens",
                stream.tokens(),
                block_len + 1
            )));
        }
        Ok(Self { stream, block_len })
    }

    pub fn len(&self) -> usize {
        (self.stream.tokens() / (self.block_len as u64 + 1)) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stream(&self) -> &TokenStream {
        &self.stream
    }

    /// Block `index`: tokens `index·(L+1) .. (index+1)·(L+1)`.
    pub fn example(&self, index: usize) -> Example {
        let width = self.block_len + 1;
        Example {
            tokens: self.stream.read((index * width) as u64, width),
            trained: vec![true; self.block_len],
        }
    }
}

/// The names of `files`, joined, for messages.
pub fn file_list(files: &[&Path]) -> String {
    files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Packs `files` in memory into blocks of `block_len + 1` tokens; `field` names the JSON field (and Parquet
/// column) of the text.
pub fn pack_corpus(
    files: &[&Path],
    data: &DataFiles,
    tokenizer: &Tokenizer,
    eos: u32,
    block_len: usize,
    field: &str,
) -> Result<PackedBlocks> {
    let mut stream = Vec::new();
    for path in files {
        let before = stream.len();
        let mut push = |document: &str| -> Result<()> {
            stream.extend(tokenizer.encode(document)?);
            stream.push(eos);
            Ok(())
        };
        match data {
            #[cfg(not(target_arch = "wasm32"))]
            DataFiles::Disk => super::documents::for_each_document(path, field, push)?,
            _ => {
                let jsonl = path.extension().is_some_and(|e| e == "jsonl");
                for (index, line) in data.read_text(path)?.lines().enumerate() {
                    if let Some(document) = document_of_line(path, index + 1, line, jsonl, field)? {
                        push(&document)?;
                    }
                }
            }
        }
        if stream.len() == before {
            return Err(Error::Invalid(format!("{}: the corpus is empty", path.display())));
        }
    }
    PackedBlocks::new(TokenStream::Memory(stream), block_len, &file_list(files))
}
