//! Stage-3 translation pairs, JSONL `{"source", "target", "source_lang"?, "target_lang"?}` or TSV
//! `source<TAB>target`, formatted with HY-MT's chat and translation templates; only the reply is trained on.

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

/// Reads pairs; `default_langs` (source, target) fill in languages a line does not give.
pub fn read_pairs(path: &Path, default_langs: (&str, &str)) -> Result<Vec<Pair>> {
    parse_pairs(path, &DataFiles::Disk.read_text(path)?, default_langs)
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
