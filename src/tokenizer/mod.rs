//! `tokenizer.json` (byte-level BPE) through the `tokenizers` crate, with HY-MT's chat tokens.

mod train;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::prompt::{ASSISTANT, BOS, END_OF_REPLY, END_OF_SYSTEM, USER};

pub use train::train_byte_level_bpe;

pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Ids of the chat template's special tokens, looked up by name in the tokenizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatTokenIds {
    pub bos: u32,
    pub end_of_system: u32,
    pub user: u32,
    pub assistant: u32,
    pub end_of_reply: u32,
}

/// A loaded tokenizer and its chat token ids.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    pub chat: ChatTokenIds,
}

impl Tokenizer {
    /// Loads `tokenizer.json`; fails, naming the file, if it lacks one of HY-MT's chat tokens.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses the bytes of a `tokenizer.json`; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let inner = tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| Error::Tokenizer {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let id = |token: &str| {
            inner.token_to_id(token).ok_or_else(|| Error::Tokenizer {
                path: path.to_path_buf(),
                message: format!("missing special token `{token}` of HY-MT's chat template"),
            })
        };
        let chat = ChatTokenIds {
            bos: id(BOS)?,
            end_of_system: id(END_OF_SYSTEM)?,
            user: id(USER)?,
            assistant: id(ASSISTANT)?,
            end_of_reply: id(END_OF_REPLY)?,
        };
        Ok(Self {
            inner,
            path: path.to_path_buf(),
            chat,
        })
    }

    /// Plain text to ids, without any special token added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self.inner.encode(text, false).map_err(|e| self.error(e))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Ids to text, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, true).map_err(|e| self.error(e))
    }

    /// Each id decoded on its own: the token labels of the app's heatmaps and probes.
    pub fn pieces(&self, ids: &[u32]) -> Vec<String> {
        ids.iter().map(|&id| self.decode(&[id]).unwrap_or_default()).collect()
    }

    /// The ids of [`crate::prompt::render_chat`]'s text, with the special tokens placed by id.
    pub fn encode_chat(&self, system: Option<&str>, prompt: &str) -> Result<Vec<u32>> {
        let mut ids = vec![self.chat.bos];
        if let Some(system) = system {
            ids.extend(self.encode(system)?);
            ids.push(self.chat.end_of_system);
        }
        ids.push(self.chat.user);
        ids.extend(self.encode(prompt)?);
        ids.push(self.chat.assistant);
        Ok(ids)
    }

    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    fn error(&self, e: tokenizers::Error) -> Error {
        Error::Tokenizer {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}
