//! `.po` catalogs: entries of comments, `msgctxt`, `msgid`, `msgid_plural`, `msgstr`/`msgstr[n]`, each string
//! possibly continued over several quoted lines, with C escapes; the header's charset decodes the file.

use std::path::Path;

use super::{Message, header_charset};
use crate::error::{Error, Result};

/// Reads a `.po` file in the charset its header declares (UTF-8 when it declares none).
pub fn read_po(path: &Path) -> Result<Vec<Message>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // The header is ASCII in every charset gettext allows, so a lossy first pass finds the declared charset.
    let provisional = String::from_utf8_lossy(&bytes);
    let header = parse_po(&provisional, path)
        .ok()
        .and_then(|messages| {
            messages
                .into_iter()
                .find(|m| m.source.is_empty() && m.context.is_none())
        })
        .and_then(|m| m.translations.into_iter().next());
    let encoding = header.as_deref().and_then(header_charset).unwrap_or(encoding_rs::UTF_8);
    let (text, _, malformed) = encoding.decode(&bytes);
    if malformed {
        return Err(Error::Invalid(format!(
            "{}: not valid {}",
            path.display(),
            encoding.name()
        )));
    }
    parse_po(&text, path)
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Context,
    Id,
    IdPlural,
    Str(usize),
}

#[derive(Default)]
struct Entry {
    context: Option<String>,
    id: Option<String>,
    id_plural: Option<String>,
    strs: Vec<String>,
    fuzzy: bool,
}

impl Entry {
    fn field(&mut self, field: Field) -> &mut String {
        match field {
            Field::Context => self.context.get_or_insert_default(),
            Field::Id => self.id.get_or_insert_default(),
            Field::IdPlural => self.id_plural.get_or_insert_default(),
            Field::Str(n) => {
                if self.strs.len() <= n {
                    self.strs.resize(n + 1, String::new());
                }
                &mut self.strs[n]
            }
        }
    }
}

/// Parses `.po` text; `path` only names the file in errors (`path:line: what`).
pub fn parse_po(text: &str, path: &Path) -> Result<Vec<Message>> {
    let bad = |number: usize, what: &str| Error::Invalid(format!("{}:{}: {what}", path.display(), number + 1));
    let mut messages = Vec::new();
    let mut entry = Entry::default();
    let mut current: Option<Field> = None;
    // An entry is complete once it has a msgstr; a comment, msgctxt or msgid after that starts the next one.
    let mut finish = |entry: &mut Entry, number: usize| -> Result<()> {
        let done = std::mem::take(entry);
        match done.id {
            Some(source) if !done.strs.is_empty() => messages.push(Message {
                context: done.context,
                source,
                source_plural: done.id_plural,
                translations: done.strs,
                fuzzy: done.fuzzy,
            }),
            Some(_) => return Err(bad(number, "msgid without msgstr")),
            None if done.strs.is_empty() && done.context.is_none() => {}
            None => return Err(bad(number, "msgstr or msgctxt without msgid")),
        }
        Ok(())
    };
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            // Obsolete entries (`#~ ...`) are comments as well.
            if !entry.strs.is_empty() {
                finish(&mut entry, number)?;
                current = None;
            }
            if comment.starts_with(',') && comment.split(',').any(|flag| flag.trim() == "fuzzy") {
                entry.fuzzy = true;
            }
            continue;
        }
        if line.starts_with('"') {
            let field = current.ok_or_else(|| bad(number, "a string continuation outside any field"))?;
            let value = unquote(line).map_err(|what| bad(number, &what))?;
            entry.field(field).push_str(&value);
            continue;
        }
        let (keyword, rest) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad(number, "expected a keyword and a string"))?;
        let field = match keyword {
            "msgctxt" => Field::Context,
            "msgid" => Field::Id,
            "msgid_plural" => Field::IdPlural,
            "msgstr" => Field::Str(0),
            other => other
                .strip_prefix("msgstr[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|n| n.parse().ok())
                .map(Field::Str)
                .ok_or_else(|| bad(number, &format!("unknown keyword `{other}`")))?,
        };
        if matches!(field, Field::Context | Field::Id) && !entry.strs.is_empty() {
            finish(&mut entry, number)?;
        } else if field == Field::Id && entry.id.is_some() {
            return Err(bad(number, "msgid without msgstr"));
        }
        let value = unquote(rest.trim()).map_err(|what| bad(number, &what))?;
        entry.field(field).push_str(&value);
        current = Some(field);
    }
    finish(&mut entry, text.lines().count().saturating_sub(1))?;
    Ok(messages)
}

/// A C-quoted string's content: `"a\"b\n"` → `a"b⏎`.
fn unquote(quoted: &str) -> std::result::Result<String, String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| quoted.len() >= 2)
        .ok_or_else(|| format!("expected a quoted string, found `{quoted}`"))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(c @ ('"' | '\\' | '\'' | '?')) => out.push(c),
            Some(c) => return Err(format!("unknown escape `\\{c}`")),
            None => return Err("a string ends in a lone backslash".into()),
        }
    }
    Ok(out)
}
