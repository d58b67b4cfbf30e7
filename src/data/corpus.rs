//! Stage-2 corpus: monolingual text (`.txt`, one document per line) or JSONL (`{"text": ...}` per line),
//! tokenized, joined with end-of-sequence tokens and cut into fixed-length blocks (the usual LM packing).

use std::path::Path;

use super::batch::Example;
use super::files::DataFiles;
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Reads the documents of a text or JSONL file; errors name the file and line.
pub fn read_documents(path: &Path) -> Result<Vec<String>> {
    parse_documents(path, &DataFiles::Disk.read_text(path)?)
}

/// The documents of `text`, the contents of `path` (whose extension says whether it is JSONL).
fn parse_documents(path: &Path, text: &str) -> Result<Vec<String>> {
    let jsonl = path.extension().is_some_and(|e| e == "jsonl");
    let mut documents = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let text = if jsonl {
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| Error::Invalid(format!("{}:{}: malformed JSON line: {e}", path.display(), number + 1)))?;
            value["text"].as_str().map(str::to_string).ok_or_else(|| {
                Error::Invalid(format!(
                    "{}:{}: JSON line has no string field `text`",
                    path.display(),
                    number + 1
                ))
            })?
        } else {
            line.to_string()
        };
        documents.push(text);
    }
    Ok(documents)
}

/// Packs `files` into blocks of `block_len + 1` tokens (inputs and shifted targets), every position trained.
pub fn pack_corpus(
    files: &[&Path],
    data: &DataFiles,
    tokenizer: &Tokenizer,
    eos: u32,
    block_len: usize,
) -> Result<Vec<Example>> {
    let mut stream = Vec::new();
    for path in files {
        let documents = parse_documents(path, &data.read_text(path)?)?;
        if documents.is_empty() {
            return Err(Error::Invalid(format!("{}: the corpus is empty", path.display())));
        }
        for document in documents {
            stream.extend(tokenizer.encode(&document)?);
            stream.push(eos);
        }
    }
    let blocks: Vec<Example> = stream
        .chunks_exact(block_len + 1)
        .map(|block| Example {
            tokens: block.to_vec(),
            trained: vec![true; block_len],
        })
        .collect();
    if blocks.is_empty() {
        let names: Vec<_> = files.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Invalid(format!(
            "{}: only {} tokens, fewer than one block of {} tokens",
            names.join(", "),
            stream.len(),
            block_len + 1
        )));
    }
    Ok(blocks)
}
