//! The sequences `compare` reads, streamed from a file one line at a time: plain text (one document per line),
//! or JSONL with a `text` field or a translation pair (`source`, `target`, formatted as Stage 3 trains on it).
//! Each is an [`Example`]: next-token statistics count the positions it trains on (every position of a text,
//! the reply of a pair); the layer states cover every position.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::data::{Example, Pair, pair_example};
use crate::error::{Error, Result};
use crate::prompt::language;
use crate::tokenizer::Tokenizer;

/// The sequences of a corpus file, each cut to `max_len` tokens; lines that give fewer than two are skipped.
pub struct CorpusSequences<'a> {
    path: PathBuf,
    lines: std::io::Lines<BufReader<std::fs::File>>,
    line: usize,
    jsonl: bool,
    tokenizer: &'a Tokenizer,
    max_len: usize,
    /// Languages of pairs whose line does not give them (source, target).
    default_langs: (String, String),
    /// Bytes of the file, and of the lines read so far (for progress).
    pub total_bytes: u64,
    pub read_bytes: u64,
}

impl<'a> CorpusSequences<'a> {
    /// `default_langs`: the (source, target) languages of pairs whose line gives none.
    pub fn open(path: &Path, tokenizer: &'a Tokenizer, max_len: usize, default_langs: (&str, &str)) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let total_bytes = file.metadata().map_err(|e| Error::io(path, e))?.len();
        Ok(Self {
            path: path.to_path_buf(),
            lines: BufReader::new(file).lines(),
            line: 0,
            jsonl: path.extension().is_some_and(|e| e == "jsonl"),
            tokenizer,
            max_len: max_len.max(2),
            default_langs: (default_langs.0.to_string(), default_langs.1.to_string()),
            total_bytes,
            read_bytes: 0,
        })
    }

    fn encode(&self, line: &str) -> Result<Example> {
        let text = |text: &str| {
            let mut tokens = self.tokenizer.encode(text)?;
            tokens.truncate(self.max_len);
            let trained = vec![true; tokens.len().saturating_sub(1)];
            Ok(Example { tokens, trained })
        };
        if !self.jsonl {
            return text(line);
        }
        let bad = |what: String| Error::Invalid(format!("{}:{}: {what}", self.path.display(), self.line));
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(format!("malformed JSON line: {e}")))?;
        let field = |key: &str| value[key].as_str();
        if let Some(line) = field("text") {
            return text(line);
        }
        let (Some(source), Some(target)) = (field("source"), field("target")) else {
            return Err(bad("expected a string field `text`, or `source` and `target`".into()));
        };
        let lang = |key: &str, default: &str| {
            let code = field(key).unwrap_or(default);
            language(code).ok_or_else(|| bad(format!("unknown language `{code}` in `{key}`")))
        };
        let pair = Pair {
            source: source.into(),
            target: target.into(),
            source_lang: lang("source_lang", &self.default_langs.0)?,
            target_lang: lang("target_lang", &self.default_langs.1)?,
        };
        pair_example(&pair, self.tokenizer, self.max_len)
    }
}

impl Iterator for CorpusSequences<'_> {
    type Item = Result<Example>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.lines.next()? {
                Ok(line) => line,
                Err(e) => return Some(Err(Error::io(&self.path, e))),
            };
            self.line += 1;
            self.read_bytes += line.len() as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            match self.encode(&line) {
                Ok(example) if example.tokens.len() >= 2 => return Some(Ok(example)),
                Ok(_) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
