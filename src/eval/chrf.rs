//! chrF and chrF++ (Popović, 2015/2017) as sacreBLEU 2.6 computes them: character n-grams 1..6 with whitespace
//! removed, plus word n-grams 1..2 for chrF++, β = 2, precision and recall averaged over the orders that exist.

use std::collections::HashMap;

use super::tokenize::python_split;

pub const CHAR_ORDER: usize = 6;
const BETA: f64 = 2.0;
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// `[hyp, ref, match]` counts per order.
pub type ChrfStats = Vec<[usize; 3]>;

fn count<T: std::hash::Hash + Eq>(items: impl Iterator<Item = T>) -> HashMap<T, usize> {
    let mut counts = HashMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    counts
}

/// Words with one leading or trailing ASCII punctuation mark split off (`CHRF._remove_punctuation`).
fn words_split_from_punctuation(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    for word in python_split(line) {
        let chars: Vec<char> = word.chars().collect();
        let (first, last) = (chars[0], chars[chars.len() - 1]);
        if chars.len() == 1 {
            words.push(word.to_string());
        } else if PUNCTUATION.contains(last) {
            words.push(chars[..chars.len() - 1].iter().collect());
            words.push(last.to_string());
        } else if PUNCTUATION.contains(first) {
            words.push(first.to_string());
            words.push(chars[1..].iter().collect());
        } else {
            words.push(word.to_string());
        }
    }
    words
}

/// Counters of every order: characters 1..=6, then words 1..=`word_order`.
fn all_ngrams(line: &str, word_order: usize) -> Vec<HashMap<String, usize>> {
    let chars: Vec<char> = python_split(line).flat_map(str::chars).collect();
    let mut orders: Vec<HashMap<String, usize>> = (1..=CHAR_ORDER)
        .map(|n| count(chars.windows(n).map(|w| w.iter().collect::<String>())))
        .collect();
    let words = words_split_from_punctuation(line);
    for n in 1..=word_order {
        orders.push(count(words.windows(n).map(|w| w.join(" "))));
    }
    orders
}

fn match_stats(hyp: &HashMap<String, usize>, reference: &HashMap<String, usize>) -> [usize; 3] {
    let hyp_count: usize = hyp.values().sum();
    let matches = hyp
        .iter()
        .map(|(g, &c)| c.min(reference.get(g).copied().unwrap_or(0)))
        .sum();
    [
        if reference.is_empty() { 0 } else { hyp_count },
        reference.values().sum(),
        matches,
    ]
}

/// `CHRF._compute_f_score` (without eps smoothing), in percent.
pub fn chrf_from_stats(stats: &[[usize; 3]]) -> f64 {
    let factor = BETA * BETA;
    let (mut precision, mut recall, mut orders) = (0.0, 0.0, 0);
    for &[hyp, reference, matches] in stats {
        if hyp > 0 && reference > 0 {
            precision += matches as f64 / hyp as f64;
            recall += matches as f64 / reference as f64;
            orders += 1;
        }
    }
    if orders == 0 {
        return 0.0;
    }
    let (precision, recall) = (precision / orders as f64, recall / orders as f64);
    if precision + recall == 0.0 {
        return 0.0;
    }
    100.0 * (1.0 + factor) * precision * recall / (factor * precision + recall)
}

/// Statistics of one hypothesis against the reference with the best sentence-level F score.
pub fn segment_stats(hypothesis: &str, references: &[&str], word_order: usize) -> ChrfStats {
    let hyp = all_ngrams(hypothesis, word_order);
    let mut best: Option<(f64, ChrfStats)> = None;
    for reference in references {
        let stats: ChrfStats = hyp
            .iter()
            .zip(all_ngrams(reference, word_order))
            .map(|(h, r)| match_stats(h, &r))
            .collect();
        let score = chrf_from_stats(&stats);
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, stats));
        }
    }
    best.map(|(_, stats)| stats).unwrap_or_default()
}

/// Corpus chrF (`word_order` 0) or chrF++ (`word_order` 2); `references[k][i]` is the k-th reference of line i.
pub fn corpus_chrf(hypotheses: &[String], references: &[Vec<String>], word_order: usize) -> f64 {
    let mut total = vec![[0usize; 3]; CHAR_ORDER + word_order];
    for (i, hypothesis) in hypotheses.iter().enumerate() {
        let refs: Vec<&str> = references.iter().map(|r| r[i].as_str()).collect();
        for (sum, stats) in total.iter_mut().zip(segment_stats(hypothesis, &refs, word_order)) {
            (0..3).for_each(|k| sum[k] += stats[k]);
        }
    }
    chrf_from_stats(&total)
}

/// Sentence chrF (`sacrebleu.sentence_chrf`).
pub fn sentence_chrf(hypothesis: &str, references: &[&str], word_order: usize) -> f64 {
    chrf_from_stats(&segment_stats(hypothesis, references, word_order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_character_f_score() {
        // "ab" vs "ab": every order that exists (1 and 2) matches fully.
        assert!((sentence_chrf("ab", &["ab"], 0) - 100.0).abs() < 1e-12);
        // "ab" vs "ac": unigrams P = R = 1/2; bigrams "ab" vs "ac": 0. Averages P = R = 1/4 → F = 25.
        assert!((sentence_chrf("a b", &["ac"], 0) - 25.0).abs() < 1e-12);
        assert_eq!(
            words_split_from_punctuation("Hello, (world) x"),
            vec!["Hello", ",", "(world", ")", "x"]
        );
    }
}
