//! sacreBLEU 2.6's tokenizers, reproduced rule for rule (including the quirks that decide its numbers).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A BLEU tokenizer, named as sacreBLEU's `--tokenize` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Tokenize {
    /// mteval-v13a, sacreBLEU's default.
    #[default]
    #[value(name = "13a")]
    #[serde(rename = "13a")]
    Thirteen,
    /// mteval-v14 international: splits on Unicode punctuation and symbols.
    #[value(name = "intl")]
    #[serde(rename = "intl")]
    Intl,
    /// Chinese characters one by one, the rest as 13a.
    #[value(name = "zh")]
    #[serde(rename = "zh")]
    Zh,
    /// Every character a token.
    #[value(name = "char")]
    #[serde(rename = "char")]
    Char,
    /// Whitespace only.
    #[value(name = "none")]
    #[serde(rename = "none")]
    None,
}

impl Tokenize {
    /// sacreBLEU's name, as in its signature (`tok:13a`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Thirteen => "13a",
            Self::Intl => "intl",
            Self::Zh => "zh",
            Self::Char => "char",
            Self::None => "none",
        }
    }

    /// The tokenized line, tokens separated by single spaces.
    pub fn apply(self, line: &str) -> String {
        match self {
            Self::Thirteen => thirteen_a(line),
            Self::Intl => apply_rules(&INTL_RULES, line),
            Self::Zh => zh(line),
            Self::Char => line.chars().map(String::from).collect::<Vec<_>>().join(" "),
            Self::None => line.to_string(),
        }
    }
}

/// Python's `str.isspace()`: Unicode White_Space plus the four ASCII separators U+001C..U+001F.
pub fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.split()` with no argument.
pub fn python_split(line: &str) -> impl Iterator<Item = &str> {
    line.split(is_python_space).filter(|t| !t.is_empty())
}

fn rule(pattern: &str, replacement: &'static str) -> (Regex, &'static str) {
    (Regex::new(pattern).expect("valid tokenizer pattern"), replacement)
}

/// `tokenizer_re.TokenizerRegexp`, the post-tokenizer of 13a and zh.
static THIRTEEN_A_RULES: LazyLock<[(Regex, &'static str); 4]> = LazyLock::new(|| {
    [
        // Characters {-~, [-`, space-&, (-+, :-@ and / become tokens.
        rule(r"([\{-~\[-`\x20-&\(-\+:-@/])", " ${1} "),
        // Periods and commas unless between digits.
        rule(r"([^0-9])([\.,])", "${1} ${2} "),
        rule(r"([\.,])([^0-9])", " ${1} ${2}"),
        // A dash after a digit.
        rule(r"([0-9])(-)", "${1} ${2} "),
    ]
});

/// `tokenizer_intl.TokenizerV14International`.
static INTL_RULES: LazyLock<[(Regex, &'static str); 3]> = LazyLock::new(|| {
    [
        rule(r"(\P{N})(\p{P})", "${1} ${2} "),
        rule(r"(\p{P})(\P{N})", " ${1} ${2}"),
        rule(r"(\p{S})", " ${1} "),
    ]
});

fn apply_rules<const N: usize>(rules: &[(Regex, &'static str); N], line: &str) -> String {
    let mut line = line.to_string();
    for (pattern, replacement) in rules {
        line = pattern.replace_all(&line, *replacement).into_owned();
    }
    python_split(&line).collect::<Vec<_>>().join(" ")
}

fn thirteen_a(line: &str) -> String {
    let mut line = line.replace("<skipped>", "").replace("-\n", "").replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    apply_rules(&THIRTEEN_A_RULES, &format!(" {line} "))
}

/// `tokenizer_zh._UCODE_RANGES` as sacreBLEU compares them. Its supplementary-plane entries are written
/// `u'\u20000'`, which Python reads as U+2000 followed by '0'; compared with one character that string range
/// admits U+2001..=U+2A6D (and `u'\u2f800'..u'\u2fa1d'` admits U+2F81..=U+2FA1). The numbers depend on it.
const ZH_RANGES: &[(char, char)] = &[
    ('\u{3400}', '\u{4db5}'),
    ('\u{4e00}', '\u{9fa5}'),
    ('\u{9fa6}', '\u{9fbb}'),
    ('\u{f900}', '\u{fa2d}'),
    ('\u{fa30}', '\u{fa6a}'),
    ('\u{fa70}', '\u{fad9}'),
    ('\u{2001}', '\u{2a6d}'),
    ('\u{2f81}', '\u{2fa1}'),
    ('\u{ff00}', '\u{ffef}'),
    ('\u{2e80}', '\u{2eff}'),
    ('\u{3000}', '\u{303f}'),
    ('\u{31c0}', '\u{31ef}'),
    ('\u{2f00}', '\u{2fdf}'),
    ('\u{2ff0}', '\u{2fff}'),
    ('\u{3100}', '\u{312f}'),
    ('\u{31a0}', '\u{31bf}'),
    ('\u{fe10}', '\u{fe1f}'),
    ('\u{fe30}', '\u{fe4f}'),
    ('\u{2600}', '\u{26ff}'),
    ('\u{2700}', '\u{27bf}'),
    ('\u{3200}', '\u{32ff}'),
    ('\u{3300}', '\u{33ff}'),
];

fn zh(line: &str) -> String {
    let mut spaced = String::new();
    for c in line.trim_matches(is_python_space).chars() {
        if ZH_RANGES.iter().any(|&(start, end)| (start..=end).contains(&c)) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    apply_rules(&THIRTEEN_A_RULES, &spaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirteen_a_splits_punctuation_but_not_numbers() {
        assert_eq!(
            Tokenize::Thirteen.apply("Hello, world. It costs 3.50 &amp; 1,000-2!"),
            "Hello , world . It costs 3.50 & 1,000 - 2 !"
        );
        assert_eq!(Tokenize::Thirteen.apply("(a/b) \"q\""), "( a / b ) \" q \"");
    }

    #[test]
    fn zh_spaces_han_and_the_quirk_range() {
        assert_eq!(Tokenize::Zh.apply("我爱Rust，真的。"), "我 爱 Rust ， 真 的 。");
        // U+2026 '…' falls in the U+2001..U+2A6D quirk range and is split off like a Chinese character.
        assert_eq!(Tokenize::Zh.apply("ab…cd"), "ab … cd");
    }

    #[test]
    fn intl_splits_unicode_punctuation_and_symbols() {
        assert_eq!(Tokenize::Intl.apply("«Olá», disse €5."), "« Olá » , disse € 5.");
        assert_eq!(Tokenize::Char.apply("ab c"), "a b   c");
    }
}
