//! Building a token cache: documents streamed from the corpus files, tokenized a chunk at a time on every
//! core (order kept), written to shards in a `.partial` folder that is renamed into place when complete.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use web_time::Instant;

use super::{CacheIndex, CacheKey, INDEX_FILE, KeyedFile, LAYOUT_VERSION, ShardEntry, TokenCache, fnv1a};
use crate::data::CacheProgress;
use crate::data::documents::for_each_document_in;
use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// Tokens per shard file: 2^26 ids, 256 MiB.
const SHARD_TOKENS: u64 = 1 << 26;
/// Text gathered before a chunk is tokenized in parallel: large enough to keep every core busy, small
/// enough that memory stays flat.
const CHUNK_BYTES: usize = 4 << 20;
/// Seconds between progress reports.
const REPORT_EVERY: f64 = 0.25;

/// What a cache is made from.
pub struct CacheSource<'a> {
    pub files: Vec<PathBuf>,
    /// The JSON field or Parquet column holding the text.
    pub text_field: &'a str,
    pub tokenizer: &'a Tokenizer,
    /// The bytes of `tokenizer.json` (for the key).
    pub tokenizer_bytes: &'a [u8],
    pub eos: u32,
}

impl CacheSource<'_> {
    fn key(&self) -> Result<CacheKey> {
        let files = self
            .files
            .iter()
            .map(|path| {
                let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
                let modified = meta.modified().map_err(|e| Error::io(path, e))?;
                Ok(KeyedFile {
                    path: std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?,
                    bytes: meta.len(),
                    modified_ns: modified
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos()),
                })
            })
            .collect::<Result<_>>()?;
        Ok(CacheKey {
            layout: LAYOUT_VERSION,
            files,
            tokenizer: format!("{:016x}", fnv1a(self.tokenizer_bytes)),
            eos: self.eos,
            text_field: self.text_field.to_string(),
        })
    }
}

/// The cache in `dir` when it was made from `source`, else a new one built there (`progress` is told
/// along the way). The flag says whether it was built.
pub fn open_or_build(
    dir: &Path,
    source: &CacheSource,
    progress: &mut dyn FnMut(&CacheProgress),
) -> Result<(TokenCache, bool)> {
    open_or_build_sharded(dir, source, SHARD_TOKENS, progress)
}

pub(super) fn open_or_build_sharded(
    dir: &Path,
    source: &CacheSource,
    shard_tokens: u64,
    progress: &mut dyn FnMut(&CacheProgress),
) -> Result<(TokenCache, bool)> {
    let key = source.key()?;
    if let Ok(cache) = TokenCache::open(dir)
        && cache.index().key == key
    {
        return Ok((cache, false));
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or("token-cache".into());
    let partial = dir.with_file_name(format!("{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| Error::io(&partial, e))?;
    }
    std::fs::create_dir_all(&partial).map_err(|e| Error::io(&partial, e))?;
    let index = write_shards(&partial, source, key, shard_tokens, progress)?;
    crate::atomic::write_atomic(
        &partial.join(INDEX_FILE),
        &serde_json::to_vec_pretty(&index).expect("plain data"),
    )?;
    replace_dir(&partial, dir)?;
    Ok((TokenCache::open(dir)?, true))
}

/// Moves the complete `partial` folder to `dir`, replacing an older cache there.
fn replace_dir(partial: &Path, dir: &Path) -> Result<()> {
    let stale = partial.with_extension("stale");
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&stale);
        std::fs::rename(dir, &stale).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::rename(partial, dir).map_err(|e| Error::io(dir, e))?;
    if stale.exists() {
        std::fs::remove_dir_all(&stale).map_err(|e| Error::io(&stale, e))?;
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(parent, e))?;
    }
    Ok(())
}

/// Shard files of at most `shard_tokens` ids, opened on the first id they get.
struct ShardWriter<'a> {
    dir: &'a Path,
    shard_tokens: u64,
    current: Option<(BufWriter<File>, PathBuf)>,
    shards: Vec<ShardEntry>,
}

impl ShardWriter<'_> {
    fn push(&mut self, ids: &[u32]) -> Result<()> {
        let mut ids = ids;
        while !ids.is_empty() {
            if self.current.is_none() {
                let file = format!("tokens-{:05}.u32", self.shards.len());
                let path = self.dir.join(&file);
                let handle = File::create(&path).map_err(|e| Error::io(&path, e))?;
                self.current = Some((BufWriter::with_capacity(1 << 20, handle), path));
                self.shards.push(ShardEntry { file, tokens: 0 });
            }
            let entry = self.shards.last_mut().expect("opened above");
            let take = ((self.shard_tokens - entry.tokens) as usize).min(ids.len());
            let (writer, path) = self.current.as_mut().expect("opened above");
            let bytes: Vec<u8> = ids[..take].iter().flat_map(|id| id.to_le_bytes()).collect();
            writer.write_all(&bytes).map_err(|e| Error::io(&*path, e))?;
            entry.tokens += take as u64;
            ids = &ids[take..];
            if entry.tokens == self.shard_tokens {
                self.close()?;
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some((writer, path)) = self.current.take() {
            let file = writer.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
            file.sync_all().map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }
}

/// Reads through a file while counting the bytes read, for the progress of compressed streams.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn write_shards(
    dir: &Path,
    source: &CacheSource,
    key: CacheKey,
    shard_tokens: u64,
    progress: &mut dyn FnMut(&CacheProgress),
) -> Result<CacheIndex> {
    let started = Instant::now();
    let mut writer = ShardWriter {
        dir,
        shard_tokens,
        current: None,
        shards: Vec::new(),
    };
    let mut state = CacheProgress {
        bytes_total: key.files.iter().map(|f| f.bytes).sum(),
        ..CacheProgress::default()
    };
    let mut last_report = 0.0;
    let mut files_done = 0;
    for (path, keyed) in source.files.iter().zip(&key.files) {
        let documents_before = state.documents;
        let read = Arc::new(AtomicU64::new(0));
        let counted = |file: File| Counted {
            inner: file,
            read: Arc::clone(&read),
        };
        let mut pending: Vec<String> = Vec::new();
        let mut pending_bytes = 0;
        let mut flush = |pending: &mut Vec<String>, state: &mut CacheProgress| -> Result<()> {
            let encoded: Vec<Vec<u32>> = pending
                .par_iter()
                .map(|document| source.tokenizer.encode(document))
                .collect::<Result<_>>()
                .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
            for mut ids in encoded {
                ids.push(source.eos);
                state.tokens += ids.len() as u64;
                writer.push(&ids)?;
            }
            state.documents += pending.len() as u64;
            pending.clear();
            Ok(())
        };
        let documents = for_each_document_in(path, source.text_field, counted, |document| {
            pending_bytes += document.len();
            pending.push(document.to_string());
            if pending_bytes >= CHUNK_BYTES {
                pending_bytes = 0;
                flush(&mut pending, &mut state)?;
                state.seconds = started.elapsed().as_secs_f64();
                state.bytes_read = files_done + read.load(Ordering::Relaxed);
                if state.seconds - last_report >= REPORT_EVERY {
                    last_report = state.seconds;
                    progress(&state);
                }
            }
            Ok(())
        });
        documents?;
        flush(&mut pending, &mut state)?;
        if state.documents == documents_before {
            return Err(Error::Invalid(format!("{}: the corpus is empty", path.display())));
        }
        files_done += keyed.bytes;
        state.bytes_read = files_done;
        state.seconds = started.elapsed().as_secs_f64();
        progress(&state);
    }
    writer.close()?;
    Ok(CacheIndex {
        key,
        shards: writer.shards,
        tokens: state.tokens,
        documents: state.documents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataFiles, TokenStream, pack_corpus};

    /// A scratch folder with a corpus of `documents` lines per file, and the bundled teacher's tokenizer.
    fn setup(name: &str, documents: usize) -> (PathBuf, Vec<PathBuf>, Vec<u8>, Tokenizer) {
        let dir = scratch(name);
        let files = corpus(&dir, documents);
        let bytes =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/tiny-hymt/tokenizer.json")).unwrap();
        let tokenizer = Tokenizer::from_bytes(&bytes, Path::new("tokenizer.json")).unwrap();
        (dir, files, bytes, tokenizer)
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bitdistill-token-cache-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Two corpus files of `documents` lines each (a text file and a zstd JSON-lines file).
    fn corpus(dir: &Path, documents: usize) -> Vec<PathBuf> {
        let line = |i: usize| format!("Document {i}: the file was saved and the window closed ({}).", i * 7);
        let text: String = (0..documents).map(|i| line(i) + "\n").collect();
        let jsonl: String = (0..documents)
            .map(|i| format!("{}\n", serde_json::json!({ "text": line(1000 + i) })))
            .collect();
        let (a, b) = (dir.join("a.txt"), dir.join("b.jsonl.zst"));
        std::fs::write(&a, text).unwrap();
        std::fs::write(&b, zstd::encode_all(jsonl.as_bytes(), 1).unwrap()).unwrap();
        vec![a, b]
    }

    fn source_of<'a>(files: &[PathBuf], bytes: &'a [u8], tokenizer: &'a Tokenizer, eos: u32) -> CacheSource<'a> {
        CacheSource {
            files: files.to_vec(),
            text_field: "text",
            tokenizer,
            tokenizer_bytes: bytes,
            eos,
        }
    }

    fn build(dir: &Path, source: &CacheSource, shard_tokens: u64) -> (TokenCache, bool, Vec<CacheProgress>) {
        let mut reports = Vec::new();
        let (cache, built) = open_or_build_sharded(dir, source, shard_tokens, &mut |p| reports.push(*p)).unwrap();
        (cache, built, reports)
    }

    #[test]
    fn the_cache_holds_the_stream_that_packing_in_memory_makes() {
        let (dir, files, bytes, tokenizer) = setup("stream", 300);
        let source = source_of(&files, &bytes, &tokenizer, 2);
        // Shards of 1000 tokens: many boundaries, and blocks that straddle them.
        let (cache, built, reports) = build(&dir.join("cache"), &source, 1000);
        assert!(built);
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let memory = pack_corpus(&paths, &DataFiles::Disk, &tokenizer, 2, 16, "text").unwrap();
        let TokenStream::Memory(expected) = memory.stream() else {
            unreachable!()
        };
        assert_eq!(cache.tokens(), expected.len() as u64);
        assert_eq!(cache.index().documents, 600);
        assert!(cache.index().shards.len() > 5);
        assert!(cache.index().shards.iter().rev().skip(1).all(|s| s.tokens == 1000));
        // Every read, including those across shard boundaries, equals the in-memory stream.
        for (start, len) in [
            (0, 17),
            (990, 17),
            (999, 1),
            (1000, 3000),
            (expected.len() as u64 - 5, 5),
        ] {
            assert_eq!(
                cache.read(start, len),
                expected[start as usize..start as usize + len],
                "at {start}"
            );
        }
        assert_eq!(cache.read(0, expected.len()), *expected);
        // Progress ends with everything read.
        let last = reports.last().unwrap();
        assert_eq!(
            (last.bytes_read, last.tokens, last.documents),
            (last.bytes_total, cache.tokens(), 600)
        );
        assert!(reports.windows(2).all(|w| w[0].bytes_read <= w[1].bytes_read));
    }

    #[test]
    fn the_cache_is_reused_until_corpus_or_tokenizer_change_and_never_taken_half_built() {
        let (dir, files, bytes, tokenizer) = setup("reuse", 20);
        let cache_dir = dir.join("cache");
        let source = source_of(&files, &bytes, &tokenizer, 2);
        let (first, built, _) = build(&cache_dir, &source, 1 << 20);
        assert!(built);
        let tokens = first.tokens();
        drop(first);
        assert!(!build(&cache_dir, &source, 1 << 20).1, "unchanged: reused");

        // Another tokenizer file (one byte more) or end-of-sequence id: rebuilt.
        let mut other_bytes = bytes.clone();
        other_bytes.push(b'\n');
        assert!(build(&cache_dir, &source_of(&files, &other_bytes, &tokenizer, 2), 1 << 20).1);
        let source = source_of(&files, &bytes, &tokenizer, 3);
        assert!(build(&cache_dir, &source, 1 << 20).1);
        // A corpus file that grows: rebuilt with the new tokens.
        let mut text = std::fs::read_to_string(&files[0]).unwrap();
        text.push_str("One more document.\n");
        std::fs::write(&files[0], text).unwrap();
        let (grown, built, _) = build(&cache_dir, &source, 1 << 20);
        assert!(built && grown.tokens() > tokens);
        drop(grown);

        // A build killed halfway leaves only `cache.partial`, which the next build discards.
        let partial = dir.join("cache.partial");
        std::fs::create_dir_all(&partial).unwrap();
        std::fs::write(partial.join("tokens-00000.u32"), [1, 2, 3]).unwrap();
        assert!(
            !build(&cache_dir, &source, 1 << 20).1,
            "the complete cache is still the one used"
        );
        // A truncated shard is refused by name, and the next build replaces the cache.
        let shard = cache_dir.join("tokens-00000.u32");
        let length = std::fs::metadata(&shard).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&shard)
            .unwrap()
            .set_len(length - 4)
            .unwrap();
        let error = TokenCache::open(&cache_dir).err().unwrap().to_string();
        assert!(
            error.contains("tokens-00000.u32") && error.contains("delete the cache"),
            "{error}"
        );
        let (rebuilt, built, _) = build(&cache_dir, &source, 1 << 20);
        assert!(built && rebuilt.tokens() * 4 == length);
        assert!(!partial.exists() && !dir.join("cache.stale").exists());
    }
}
