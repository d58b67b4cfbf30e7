//! The Stage-2 token cache: a corpus tokenized once into shards of little-endian u32 ids (documents joined
//! by end-of-sequence tokens, as [`pack_corpus`](super::pack_corpus) joins them in memory) with an
//! `index.json` naming the shards and the key they were made from. Training memory-maps the shards and reads
//! one block at a time, so memory stays constant in the corpus size.
//!
//! The cache is reused while its key holds: the same files (path, size, modification time), the same
//! tokenizer (a hash of `tokenizer.json`), end-of-sequence id and text field. It is written into a sibling
//! `.partial` folder and renamed into place when complete, so a build killed halfway is never taken as a cache.

mod build;

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use serde::{Deserialize, Serialize};

pub use build::{CacheSource, open_or_build};

use crate::error::{Error, Result};

/// The index's file name inside a cache folder.
pub const INDEX_FILE: &str = "index.json";

/// Version of the layout; a cache of another version is rebuilt.
const LAYOUT_VERSION: u32 = 1;

/// One corpus file as the key sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedFile {
    pub path: PathBuf,
    pub bytes: u64,
    pub modified_ns: u128,
}

/// What a cache was made from; a cache is reused only when the key is equal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    pub layout: u32,
    pub files: Vec<KeyedFile>,
    /// FNV-1a 64 of `tokenizer.json`, hex.
    pub tokenizer: String,
    pub eos: u32,
    pub text_field: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    pub file: String,
    pub tokens: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheIndex {
    pub key: CacheKey,
    pub shards: Vec<ShardEntry>,
    pub tokens: u64,
    pub documents: u64,
}

/// An open cache: its index and memory-mapped shards.
pub struct TokenCache {
    dir: PathBuf,
    index: CacheIndex,
    shards: Vec<Mmap>,
    /// Global id of each shard's first token.
    starts: Vec<u64>,
}

impl TokenCache {
    /// Opens the cache in `dir`, checking that every shard holds the tokens the index says.
    pub fn open(dir: &Path) -> Result<Self> {
        let index_path = dir.join(INDEX_FILE);
        let text = std::fs::read_to_string(&index_path).map_err(|e| Error::io(&index_path, e))?;
        let index: CacheIndex = serde_json::from_str(&text)
            .map_err(|e| Error::Invalid(format!("{}: not a token-cache index: {e}", index_path.display())))?;
        let mut shards = Vec::with_capacity(index.shards.len());
        let mut starts = Vec::with_capacity(index.shards.len());
        let mut start = 0;
        for entry in &index.shards {
            let path = dir.join(&entry.file);
            let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
            // SAFETY: the shards are written once, before the folder is renamed into place, and never
            // modified afterwards; a file truncated behind our back is caught by the length check below only
            // at open time, which is the usual contract of read-only memory maps.
            let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(&path, e))?;
            if map.len() as u64 != entry.tokens * 4 {
                return Err(Error::Invalid(format!(
                    "{}: {} bytes, but the index says {} tokens ({} bytes); delete the cache to rebuild it",
                    path.display(),
                    map.len(),
                    entry.tokens,
                    entry.tokens * 4
                )));
            }
            shards.push(map);
            starts.push(start);
            start += entry.tokens;
        }
        if start != index.tokens {
            return Err(Error::Invalid(format!(
                "{}: the shards hold {start} tokens, the index says {}",
                index_path.display(),
                index.tokens
            )));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            index,
            shards,
            starts,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index(&self) -> &CacheIndex {
        &self.index
    }

    /// Tokens in the cache.
    pub fn tokens(&self) -> u64 {
        self.index.tokens
    }

    /// Tokens `start .. start + len`, across shard boundaries.
    ///
    /// # Panics
    /// When the range passes the end of the cache.
    pub fn read(&self, start: u64, len: usize) -> Vec<u32> {
        assert!(
            start + len as u64 <= self.tokens(),
            "tokens {start}+{len} past the cache's {}",
            self.tokens()
        );
        let mut out = Vec::with_capacity(len);
        let mut shard = self.starts.partition_point(|&s| s <= start) - 1;
        let mut at = start;
        while out.len() < len {
            let offset = (at - self.starts[shard]) as usize;
            let available = self.index.shards[shard].tokens as usize - offset;
            let take = available.min(len - out.len());
            let bytes = &self.shards[shard][offset * 4..(offset + take) * 4];
            out.extend(
                bytes
                    .chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            at += take as u64;
            shard += 1;
        }
        out
    }
}

/// FNV-1a, 64 bits: a fast fingerprint of the tokenizer file (change detection, not security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_vectors() {
        // From the FNV reference test suite (Fowler, Noll & Vo).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
