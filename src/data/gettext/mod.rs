//! gettext catalogs (`.po` text and `.mo` binary) as translation pairs: every Debian/Ubuntu machine carries
//! thousands of human-translated messages in its locale directory.

mod accelerator;
mod mo;
mod po;

pub use accelerator::{COMMON_MARKERS, declared_marker, strip_accelerators, strip_pair};
pub use mo::read_mo;
pub use po::{parse_po, read_po};

use encoding_rs::Encoding;

/// One translated message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub context: Option<String>,
    pub source: String,
    /// The plural source (`msgid_plural`), when the message has plural forms.
    pub source_plural: Option<String>,
    /// `msgstr`, or `msgstr[0..n]` for plural messages.
    pub translations: Vec<String>,
    /// Marked `#, fuzzy` (a guess the translator has not confirmed).
    pub fuzzy: bool,
}

impl Message {
    /// Source/target pairs: the singular with the first form and, for plural messages, the plural source with
    /// the second form. Untranslated forms are skipped.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if let Some(first) = self.translations.first().filter(|t| !t.is_empty()) {
            pairs.push((self.source.clone(), first.clone()));
        }
        if let (Some(plural), Some(second)) = (&self.source_plural, self.translations.get(1).filter(|t| !t.is_empty()))
        {
            pairs.push((plural.clone(), second.clone()));
        }
        pairs
    }
}

/// The translated pairs of a catalog: its header (the empty message id) skipped, fuzzy messages dropped unless
/// kept, and keyboard accelerators stripped ([`strip_pair`]: the header's `X-Accelerator-Marker`, else the
/// common markers both sides use).
pub fn catalog_pairs(messages: &[Message], keep_fuzzy: bool) -> Vec<(String, String)> {
    let declared = messages
        .iter()
        .find(|m| m.source.is_empty())
        .and_then(|header| header.translations.first())
        .and_then(|header| declared_marker(header));
    messages
        .iter()
        .filter(|m| !m.source.is_empty() && (keep_fuzzy || !m.fuzzy))
        .flat_map(|m| m.pairs())
        .map(|(source, target)| strip_pair(&source, &target, declared))
        .collect()
}

/// The charset a catalog header declares (`Content-Type: text/plain; charset=ISO-8859-1`), if any.
pub(crate) fn header_charset(header: &str) -> Option<&'static Encoding> {
    let declared = header.lines().find_map(|line| {
        let lower = line.to_ascii_lowercase();
        let at = lower.find("charset=")?;
        Some(line[at + "charset=".len()..].trim().trim_end_matches(';').to_string())
    })?;
    Encoding::for_label(declared.as_bytes())
}
