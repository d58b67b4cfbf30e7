//! Stage-2 documents read as a stream, one at a time, so a corpus of any size passes through constant memory:
//! text (`.txt`, a document per line), JSON lines (`.jsonl`, a string field per line), either compressed with
//! gzip (`.gz`) or Zstandard (`.zst`), and Parquet (`.parquet`, a string column; the format FALCON RefinedWeb
//! ships in). Corpus entries may be globs (`data/*.parquet`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::corpus::document_of_line;
use super::parquet_column::for_each_string;
use crate::error::{Error, Result};

/// How the documents of a file are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentFormat {
    /// A document per line.
    Text,
    /// A JSON object per line; the document is its string field.
    Jsonl,
    /// A Parquet file; the documents are a string column.
    Parquet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The format and compression of `path`, from its name (`.jsonl.zst`, `.txt.gz`, `.parquet`, ...).
pub fn format_of(path: &Path) -> Result<(DocumentFormat, Compression)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let (inner, compression) = if let Some(inner) = name.strip_suffix(".gz") {
        (inner, Compression::Gzip)
    } else if let Some(inner) = name.strip_suffix(".zst").or_else(|| name.strip_suffix(".zstd")) {
        (inner, Compression::Zstd)
    } else {
        (name.as_str(), Compression::None)
    };
    let format = if inner.ends_with(".txt") {
        DocumentFormat::Text
    } else if inner.ends_with(".jsonl") {
        DocumentFormat::Jsonl
    } else if inner.ends_with(".parquet") && compression == Compression::None {
        DocumentFormat::Parquet
    } else {
        return Err(Error::Invalid(format!(
            "{}: unknown corpus format (expected .txt, .jsonl, either with .gz or .zst, or .parquet)",
            path.display()
        )));
    };
    Ok((format, compression))
}

/// The files of the corpus entries, each a path or a glob, in the order given (a glob's matches sorted);
/// a glob that matches nothing, or a file that does not exist, is an error naming it.
pub fn expand_corpus(entries: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in entries {
        let pattern = entry.to_string_lossy();
        if !pattern.contains(['*', '?', '[']) {
            if !entry.is_file() {
                return Err(Error::Invalid(format!("{} does not exist", entry.display())));
            }
            files.push(entry.clone());
            continue;
        }
        let bad = |what: String| Error::Invalid(format!("corpus glob `{pattern}`: {what}"));
        let mut matched: Vec<PathBuf> = glob::glob(&pattern)
            .map_err(|e| bad(e.to_string()))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| bad(e.to_string()))?;
        matched.retain(|p| p.is_file());
        if matched.is_empty() {
            return Err(bad("matches no file".into()));
        }
        matched.sort();
        files.extend(matched);
    }
    Ok(files)
}

/// Calls `visit` with every non-empty document of `path` in file order. `field` names the JSON field of
/// `.jsonl` files and the column of Parquet files. Errors name the file and line (or row).
pub fn for_each_document(path: &Path, field: &str, visit: impl FnMut(&str) -> Result<()>) -> Result<()> {
    for_each_document_in(path, field, |file| file, visit)
}

/// [`for_each_document`] reading text and JSON-lines files through `wrap(file)` (which may count the bytes
/// read); Parquet files are read by the `parquet` crate directly.
pub fn for_each_document_in<R: Read + 'static>(
    path: &Path,
    field: &str,
    wrap: impl FnOnce(File) -> R,
    mut visit: impl FnMut(&str) -> Result<()>,
) -> Result<()> {
    let (format, compression) = format_of(path)?;
    if format == DocumentFormat::Parquet {
        return for_each_string(path, field, visit);
    }
    let file = wrap(File::open(path).map_err(|e| Error::io(path, e))?);
    let reader: Box<dyn Read> = match compression {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file))),
        Compression::Zstd => Box::new(zstd::Decoder::new(file).map_err(|e| Error::io(path, e))?),
    };
    let mut lines = BufReader::with_capacity(1 << 20, reader);
    let mut line = String::new();
    for number in 1.. {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(Error::Invalid(format!(
                    "{}:{number}: the line is not UTF-8 text",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::io(path, e)),
        }
        let text = line.trim_end_matches(['\n', '\r']);
        if let Some(document) = document_of_line(path, number, text, format == DocumentFormat::Jsonl, field)? {
            visit(&document)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bitdistill-documents-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn documents(path: &Path, field: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for_each_document(path, field, |d| {
            out.push(d.to_string());
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn formats_follow_the_name() {
        let of = |name: &str| format_of(Path::new(name)).ok();
        assert_eq!(of("a.txt"), Some((DocumentFormat::Text, Compression::None)));
        assert_eq!(of("a.JSONL.gz"), Some((DocumentFormat::Jsonl, Compression::Gzip)));
        assert_eq!(of("x/a.txt.zst"), Some((DocumentFormat::Text, Compression::Zstd)));
        assert_eq!(
            of("train-00000-of-00002.parquet"),
            Some((DocumentFormat::Parquet, Compression::None))
        );
        let error = format_of(Path::new("corpus/a.csv")).unwrap_err().to_string();
        assert!(error.contains("corpus/a.csv") && error.contains(".parquet"), "{error}");
        assert!(of("a.parquet.gz").is_none(), "Parquet compresses inside the file");
    }

    #[test]
    fn compressed_text_and_json_lines_give_the_plain_documents() {
        let dir = scratch("compressed");
        let jsonl = "{\"text\": \"first doc\"}\n\n{\"text\": \"second\", \"id\": 2}\n";
        let text = "one line\r\nanother\n";
        let gz = dir.join("c.jsonl.gz");
        let mut encoder = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        encoder.write_all(jsonl.as_bytes()).unwrap();
        encoder.finish().unwrap();
        let zst = dir.join("c.txt.zst");
        std::fs::write(&zst, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        assert_eq!(documents(&gz, "text").unwrap(), ["first doc", "second"]);
        assert_eq!(documents(&zst, "text").unwrap(), ["one line", "another"]);
        // Another field name; a line without it names the file and line.
        let other = dir.join("o.jsonl");
        std::fs::write(&other, "{\"content\": \"a\"}\n{\"text\": \"b\"}\n").unwrap();
        assert_eq!(
            documents(&other, "content").unwrap_err().to_string(),
            format!("{}:2: JSON line has no string field `content`", other.display())
        );
        // A corrupt gzip stream is an error naming the file, not a panic.
        let corrupt = dir.join("bad.txt.gz");
        std::fs::write(&corrupt, b"\x1f\x8b\x08\x00garbage").unwrap();
        assert!(
            documents(&corrupt, "text")
                .unwrap_err()
                .to_string()
                .contains("bad.txt.gz")
        );
    }

    #[test]
    fn parquet_files_give_their_named_column() {
        let path = scratch("parquet").join("train-00000-of-00001.parquet");
        crate::data::parquet_column::write::strings(
            &path,
            "message schema { required binary content (UTF8); required binary url (UTF8); }",
            &[vec!["Ein Dokument.", "Noch eins."], vec!["a", "b"]],
        );
        assert_eq!(documents(&path, "content").unwrap(), ["Ein Dokument.", "Noch eins."]);
    }

    #[test]
    fn globs_expand_sorted_and_must_match() {
        let dir = scratch("globs");
        for name in ["b.txt", "a.txt", "c.jsonl"] {
            std::fs::write(dir.join(name), "x\n").unwrap();
        }
        let files = expand_corpus(&[dir.join("*.txt"), dir.join("c.jsonl")]).unwrap();
        assert_eq!(files, [dir.join("a.txt"), dir.join("b.txt"), dir.join("c.jsonl")]);
        let none = expand_corpus(&[dir.join("*.parquet")]).unwrap_err().to_string();
        assert!(none.contains("*.parquet") && none.contains("matches no file"), "{none}");
        let missing = expand_corpus(&[dir.join("d.txt")]).unwrap_err().to_string();
        assert!(missing.contains("d.txt"), "{missing}");
    }
}
