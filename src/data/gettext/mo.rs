//! `.mo` catalogs (GNU gettext's binary format): a magic number that also gives the byte order, then tables of
//! (length, offset) for the original and the translated strings. Contexts are joined to the id by U+0004,
//! plural forms separated by NUL.

use std::path::Path;

use super::{Message, header_charset};
use crate::error::{Error, Result};

const MAGIC: u32 = 0x9504_12de;

/// Reads a `.mo` file, decoding its strings in the charset its header declares.
pub fn read_mo(path: &Path) -> Result<Vec<Message>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |what: &str| Error::Invalid(format!("{}: not a valid .mo file: {what}", path.display()));
    let word = |at: usize, big_endian: bool| -> Result<u32> {
        let b: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| bad("truncated"))?;
        Ok(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let big_endian = match (word(0, false)?, word(0, true)?) {
        (MAGIC, _) => false,
        (_, MAGIC) => true,
        _ => return Err(bad("wrong magic number")),
    };
    let count = word(8, big_endian)? as usize;
    let (originals, translations) = (word(12, big_endian)? as usize, word(16, big_endian)? as usize);
    let string = |table: usize, index: usize| -> Result<&[u8]> {
        let length = word(table + 8 * index, big_endian)? as usize;
        let offset = word(table + 8 * index + 4, big_endian)? as usize;
        bytes
            .get(offset..offset + length)
            .ok_or_else(|| bad("a string lies outside the file"))
    };
    let mut raw = Vec::with_capacity(count);
    for index in 0..count {
        raw.push((string(originals, index)?, string(translations, index)?));
    }
    let header = raw
        .iter()
        .find(|(original, _)| original.is_empty())
        .map(|(_, t)| String::from_utf8_lossy(t).into_owned());
    let encoding = header.as_deref().and_then(header_charset).unwrap_or(encoding_rs::UTF_8);
    let decode = |b: &[u8]| -> Result<String> {
        let (text, _, malformed) = encoding.decode(b);
        if malformed {
            return Err(Error::Invalid(format!(
                "{}: a string is not valid {}",
                path.display(),
                encoding.name()
            )));
        }
        Ok(text.into_owned())
    };
    raw.into_iter()
        .map(|(original, translation)| {
            let original = decode(original)?;
            let (context, ids) = match original.split_once('\u{4}') {
                Some((context, ids)) => (Some(context.to_string()), ids.to_string()),
                None => (None, original),
            };
            let mut ids = ids.split('\0');
            let source = ids.next().unwrap_or_default().to_string();
            let source_plural = ids.next().map(str::to_string);
            let translations = decode(translation)?.split('\0').map(str::to_string).collect();
            Ok(Message {
                context,
                source,
                source_plural,
                translations,
                fuzzy: false,
            })
        })
        .collect()
}
