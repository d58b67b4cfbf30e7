//! Cleaning translation pairs: empty, overlong or lopsided pairs, untranslated copies, repeated sources, and
//! pairs whose printf/brace placeholders differ between the sides.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::eval::placeholders;

/// Limits of [`clean_pairs`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilterConfig {
    /// Longest side, in characters.
    pub max_chars: usize,
    /// Largest ratio of the sides' UTF-8 lengths (bytes, so that Chinese and Latin scripts compare fairly).
    pub max_ratio: f64,
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self {
            max_chars: 200,
            max_ratio: 3.0,
        }
    }
}

/// How many pairs each rule removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FilterCounts {
    pub kept: usize,
    pub empty: usize,
    pub too_long: usize,
    pub ratio: usize,
    pub identical: usize,
    pub duplicate: usize,
    pub placeholders: usize,
}

/// Applies every rule, in the order of [`FilterCounts`]' fields; the first pair of a repeated source wins.
pub fn clean_pairs(pairs: Vec<(String, String)>, config: &FilterConfig) -> (Vec<(String, String)>, FilterCounts) {
    let mut counts = FilterCounts::default();
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for (source, target) in pairs {
        let (source, target) = (source.trim().to_string(), target.trim().to_string());
        let (a, b) = (source.len().max(1) as f64, target.len().max(1) as f64);
        let counter = if source.is_empty() || target.is_empty() {
            &mut counts.empty
        } else if source.chars().count() > config.max_chars || target.chars().count() > config.max_chars {
            &mut counts.too_long
        } else if a.max(b) / a.min(b) > config.max_ratio {
            &mut counts.ratio
        } else if source == target {
            &mut counts.identical
        } else if !seen.insert(source.clone()) {
            &mut counts.duplicate
        } else if placeholders(&source) != placeholders(&target) {
            &mut counts.placeholders
        } else {
            kept.push((source, target));
            &mut counts.kept
        };
        *counter += 1;
    }
    (kept, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_removes_its_pair() {
        let pairs = [
            ("Open %s", "Abrir %s"),
            ("", "vazio"),
            ("Save", "Save"),
            ("Open %s", "Abrir de novo %s"),
            ("Delete %d files", "Apagar arquivos"),
            ("Hi", "Uma tradução longa demais"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let (kept, counts) = clean_pairs(pairs, &FilterConfig::default());
        assert_eq!(kept, vec![("Open %s".to_string(), "Abrir %s".to_string())]);
        let expected = FilterCounts {
            kept: 1,
            empty: 1,
            too_long: 0,
            ratio: 1,
            identical: 1,
            duplicate: 1,
            placeholders: 1,
        };
        assert_eq!(counts, expected);
    }
}
