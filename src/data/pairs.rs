//! Stage-3 translation pairs, JSONL `{"source", "target", "source_lang"?, "target_lang"?}`, TSV
//! `source<TAB>target` or Parquet with OPUS-100's `translation` struct column (`{"en": ..., "de": ...}`),
//! formatted with HY-MT's chat and translation templates; only the reply is trained on.

use std::path::Path;

use super::batch::Example;
use super::files::DataFiles;
use crate::error::{Error, Result};
use crate::prompt::{Language, PromptKind, language, translation_prompt};
use crate::tokenizer::Tokenizer;

/// One source/target pair with its languages.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub source: String,
    pub target: String,
    pub source_lang: &'static Language,
    pub target_lang: &'static Language,
}

fn find_language(code: &str, path: &Path, line: usize) -> Result<&'static Language> {
    language(code).ok_or_else(|| Error::Invalid(format!("{}:{line}: unknown language `{code}`", path.display())))
}

/// The struct column of OPUS-100's Parquet shards that holds a pair, keyed by language code.
pub const TRANSLATION_COLUMN: &str = "translation";

/// Reads pairs; `default_langs` (source, target) fill in languages a line does not give, and pick the keys of
/// a Parquet file's `translation` column.
pub fn read_pairs(path: &Path, default_langs: (&str, &str)) -> Result<Vec<Pair>> {
    #[cfg(not(target_arch = "wasm32"))]
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
        return read_parquet_pairs(path, default_langs);
    }
    parse_pairs(path, &DataFiles::Disk.read_text(path)?, default_langs)
}

/// The pairs of an OPUS-100 Parquet shard in the languages `(source, target)`.
#[cfg(not(target_arch = "wasm32"))]
fn read_parquet_pairs(path: &Path, (source, target): (&str, &str)) -> Result<Vec<Pair>> {
    let (source_lang, target_lang) = (find_language(source, path, 0)?, find_language(target, path, 0)?);
    let mut pairs = Vec::new();
    super::parquet_column::for_each_translation(path, TRANSLATION_COLUMN, (source, target), |s, t| {
        pairs.push(Pair {
            source: s.to_string(),
            target: t.to_string(),
            source_lang,
            target_lang,
        });
        Ok(())
    })?;
    if pairs.is_empty() {
        return Err(Error::Invalid(format!("{}: no translation pairs", path.display())));
    }
    Ok(pairs)
}

/// The pairs of `text`, the contents of `path` (whose extension says whether it is JSONL), as [`read_pairs`].
pub fn parse_pairs(path: &Path, text: &str, default_langs: (&str, &str)) -> Result<Vec<Pair>> {
    let jsonl = path.extension().is_some_and(|e| e == "jsonl");
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let number = index + 1;
        let bad = |what: &str| Error::Invalid(format!("{}:{number}: {what}", path.display()));
        let (source, target, source_lang, target_lang) = if jsonl {
            let value: serde_json::Value =
                serde_json::from_str(line).map_err(|e| bad(&format!("malformed JSON line: {e}")))?;
            let field = |key: &str| value[key].as_str().map(str::to_string);
            (
                field("source").ok_or_else(|| bad("no string field `source`"))?,
                field("target").ok_or_else(|| bad("no string field `target`"))?,
                field("source_lang").unwrap_or_else(|| default_langs.0.to_string()),
                field("target_lang").unwrap_or_else(|| default_langs.1.to_string()),
            )
        } else {
            let (source, target) = line
                .split_once('\t')
                .ok_or_else(|| bad("expected `source<TAB>target`"))?;
            (
                source.to_string(),
                target.to_string(),
                default_langs.0.to_string(),
                default_langs.1.to_string(),
            )
        };
        pairs.push(Pair {
            source,
            target,
            source_lang: find_language(&source_lang, path, number)?,
            target_lang: find_language(&target_lang, path, number)?,
        });
    }
    if pairs.is_empty() {
        return Err(Error::Invalid(format!("{}: no translation pairs", path.display())));
    }
    Ok(pairs)
}

/// `<bos><User>{prompt}<Assistant>{target}<end-of-reply>`, trained on the target and the end-of-reply token,
/// truncated to `max_len` tokens.
pub fn pair_example(pair: &Pair, tokenizer: &Tokenizer, max_len: usize) -> Result<Example> {
    let prompt = translation_prompt(
        &pair.source,
        Some(pair.source_lang),
        pair.target_lang,
        &PromptKind::Plain,
    );
    let mut tokens = tokenizer.encode_chat(None, &prompt)?;
    let prompt_len = tokens.len();
    tokens.extend(tokenizer.encode(&pair.target)?);
    tokens.push(tokenizer.chat.end_of_reply);
    tokens.truncate(max_len.max(prompt_len + 1));
    let trained = (1..tokens.len()).map(|next| next >= prompt_len).collect();
    Ok(Example { tokens, trained })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_parquet_shards_give_pairs_in_the_asked_languages() {
        let dir = std::env::temp_dir().join(format!("bitdistill-pairs-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("train-00000-of-00001.parquet");
        crate::data::parquet_column::write::strings(
            &path,
            "message schema { required group translation { required binary en (UTF8); required binary pt (UTF8); } }",
            &[vec!["Open file", "Save"], vec!["Abrir arquivo", "Salvar"]],
        );
        let pairs = read_pairs(&path, ("en", "pt")).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!((pairs[1].source.as_str(), pairs[1].target.as_str()), ("Save", "Salvar"));
        assert_eq!((pairs[0].source_lang.code, pairs[0].target_lang.code), ("en", "pt"));
        // The other direction reads the same rows the other way round.
        let back = read_pairs(&path, ("pt", "en")).unwrap();
        assert_eq!(
            (back[0].source.as_str(), back[0].target.as_str()),
            ("Abrir arquivo", "Open file")
        );
        let unknown = read_pairs(&path, ("en", "xx")).unwrap_err().to_string();
        assert!(unknown.contains("unknown language `xx`"), "{unknown}");
    }
}
