//! BLEU (Papineni et al., 2002) exactly as sacreBLEU 2.6 computes it: n-grams up to 4 over tokenized text,
//! clipped counts against the best reference, the closest reference length, `exp` smoothing (mteval-v13a), and
//! for sentence BLEU the effective order.

use std::collections::HashMap;

use super::tokenize::{Tokenize, is_python_space, python_split};

pub const MAX_ORDER: usize = 4;

/// Sufficient statistics of one or more segments.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BleuStats {
    pub hyp_len: usize,
    pub ref_len: usize,
    pub correct: [usize; MAX_ORDER],
    pub total: [usize; MAX_ORDER],
}

impl std::ops::AddAssign for BleuStats {
    fn add_assign(&mut self, other: Self) {
        self.hyp_len += other.hyp_len;
        self.ref_len += other.ref_len;
        for n in 0..MAX_ORDER {
            self.correct[n] += other.correct[n];
            self.total[n] += other.total[n];
        }
    }
}

fn ngrams(tokens: &[&str]) -> HashMap<Vec<String>, usize> {
    let mut counts = HashMap::new();
    for n in 1..=MAX_ORDER {
        for window in tokens.windows(n) {
            *counts
                .entry(window.iter().map(|t| t.to_string()).collect())
                .or_insert(0) += 1;
        }
    }
    counts
}

/// Statistics of one hypothesis against its references (already tokenized).
pub fn segment_stats(hypothesis: &str, references: &[String]) -> BleuStats {
    let hyp_tokens: Vec<&str> = python_split(hypothesis).collect();
    let mut ref_counts: HashMap<Vec<String>, usize> = HashMap::new();
    let mut ref_lens = Vec::new();
    for reference in references {
        let tokens: Vec<&str> = python_split(reference).collect();
        ref_lens.push(tokens.len());
        for (ngram, count) in ngrams(&tokens) {
            let best = ref_counts.entry(ngram).or_insert(0);
            *best = (*best).max(count);
        }
    }
    // The closest reference length; ties go to the shorter one.
    let hyp_len = hyp_tokens.len();
    let ref_len = ref_lens
        .iter()
        .copied()
        .min_by_key(|&len| (len.abs_diff(hyp_len), len))
        .unwrap_or(0);
    let mut stats = BleuStats {
        hyp_len,
        ref_len,
        ..BleuStats::default()
    };
    for (ngram, count) in ngrams(&hyp_tokens) {
        let n = ngram.len() - 1;
        stats.total[n] += count;
        stats.correct[n] += count.min(ref_counts.get(&ngram).copied().unwrap_or(0));
    }
    stats
}

/// sacreBLEU's `my_log`: log, floored at −9999999999 for zero.
fn floored_log(x: f64) -> f64 {
    if x == 0.0 { -9_999_999_999.0 } else { x.ln() }
}

/// `BLEU.compute_bleu` with `exp` smoothing.
pub fn bleu_from_stats(stats: &BleuStats, effective_order: bool) -> f64 {
    let bp = if stats.hyp_len < stats.ref_len {
        if stats.hyp_len > 0 {
            (1.0 - stats.ref_len as f64 / stats.hyp_len as f64).exp()
        } else {
            0.0
        }
    } else {
        1.0
    };
    if stats.correct.iter().all(|&c| c == 0) {
        return 0.0;
    }
    let mut precisions = [0.0f64; MAX_ORDER];
    let mut smooth = 1.0;
    let mut order = MAX_ORDER;
    for (n, precision) in precisions.iter_mut().enumerate() {
        let (correct, total) = (stats.correct[n], stats.total[n]);
        if total == 0 {
            break;
        }
        if effective_order {
            order = n + 1;
        }
        *precision = if correct == 0 {
            smooth *= 2.0;
            100.0 / (smooth * total as f64)
        } else {
            100.0 * correct as f64 / total as f64
        };
    }
    bp * (precisions[..order].iter().map(|&p| floored_log(p)).sum::<f64>() / order as f64).exp()
}

/// How sacreBLEU prepares a segment for BLEU: trailing whitespace stripped, then tokenized.
pub fn prepare(line: &str, tokenize: Tokenize) -> String {
    tokenize.apply(line.trim_end_matches(is_python_space))
}

/// Corpus BLEU (`sacrebleu.corpus_bleu`); `references[k][i]` is the k-th reference of hypothesis i.
pub fn corpus_bleu(hypotheses: &[String], references: &[Vec<String>], tokenize: Tokenize) -> f64 {
    let mut total = BleuStats::default();
    for (i, hypothesis) in hypotheses.iter().enumerate() {
        let refs: Vec<String> = references.iter().map(|r| prepare(&r[i], tokenize)).collect();
        total += segment_stats(&prepare(hypothesis, tokenize), &refs);
    }
    bleu_from_stats(&total, false)
}

/// Sentence BLEU (`sacrebleu.sentence_bleu`: effective order, `exp` smoothing).
pub fn sentence_bleu(hypothesis: &str, references: &[&str], tokenize: Tokenize) -> f64 {
    let refs: Vec<String> = references.iter().map(|r| prepare(r, tokenize)).collect();
    bleu_from_stats(&segment_stats(&prepare(hypothesis, tokenize), &refs), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_sentence_and_corpus_values() {
        // Identical: every precision 100 → 100.
        assert!((sentence_bleu("a b c d", &["a b c d"], Tokenize::None) - 100.0).abs() < 1e-9);
        // "a b c" vs "a b d": p1 = 2/3, p2 = 1/2, p3 = 0 → exp smoothing 1/(2·1); effective order 3;
        // BLEU = 100·(2/3 · 1/2 · 1/2)^(1/3).
        let expected = 100.0 * (2.0f64 / 3.0 * 0.5 * 0.5).powf(1.0 / 3.0);
        assert!((sentence_bleu("a b c", &["a b d"], Tokenize::None) - expected).abs() < 1e-9);
        // No match at all is 0.
        assert_eq!(sentence_bleu("x y", &["a b c d"], Tokenize::None), 0.0);
        // "a b" vs "a b c d": p1 = p2 = 100 and no 3- or 4-grams. With the effective order (sentence BLEU) that is
        // the brevity penalty exp(1 − 4/2) alone; without it (corpus BLEU) the empty orders floor the score to 0.
        assert!((sentence_bleu("a b", &["a b c d"], Tokenize::None) - 100.0 * (-1f64).exp()).abs() < 1e-9);
        assert!(corpus_bleu(&["a b".into()], &[vec!["a b c d".into()]], Tokenize::None) < 1e-300);
    }
}
