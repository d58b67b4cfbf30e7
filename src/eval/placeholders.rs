//! Placeholder preservation: printf directives and brace fields (`%s`, `%d`, `%1$s`, `%.2f`, `{name}`) must survive
//! translation unchanged, or the translated program breaks.

use std::sync::LazyLock;

use regex::Regex;

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|L|z|j|t)?[diouxXeEfFgGaAcspn]|\{[A-Za-z_][A-Za-z0-9_]*\}")
        .expect("valid placeholder pattern")
});

/// The placeholders of `text`, sorted (their order may change in translation, their multiset may not).
pub fn placeholders(text: &str) -> Vec<String> {
    let mut found: Vec<String> = PLACEHOLDER
        .find_iter(&text.replace("%%", ""))
        .map(|m| m.as_str().to_string())
        .collect();
    found.sort();
    found
}

/// Share of pairs, among those whose source has placeholders, whose hypothesis has exactly the same ones;
/// `None` when no source has any.
pub fn placeholder_rate(sources: &[String], hypotheses: &[String]) -> Option<f64> {
    let with: Vec<(Vec<String>, &String)> = sources
        .iter()
        .map(|s| placeholders(s))
        .zip(hypotheses)
        .filter(|(p, _)| !p.is_empty())
        .collect();
    if with.is_empty() {
        return None;
    }
    let kept = with.iter().filter(|(p, h)| placeholders(h) == *p).count();
    Some(kept as f64 / with.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_printf_and_brace_placeholders_but_not_percent_signs() {
        assert_eq!(
            placeholders("%2$s of %1$d files, {count} left, 100%% done, %.2f MB"),
            vec!["%.2f", "%1$d", "%2$s", "{count}"]
        );
        let sources = vec![
            "Open %s".to_string(),
            "No placeholder".to_string(),
            "%d of {total}".to_string(),
        ];
        let hypotheses = vec!["Abrir %s".to_string(), "Sem".to_string(), "%d de total".to_string()];
        assert_eq!(placeholder_rate(&sources, &hypotheses), Some(0.5));
    }
}
