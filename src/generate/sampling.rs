//! Choosing the next token from logits, in the order transformers applies its processors:
//! repetition penalty, then temperature, top-k, top-p, then a draw (or argmax when greedy).

use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

/// Sampling settings; [`Sampling::hy_mt`] holds the model card's recommendation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    pub temperature: f32,
    /// Keep the k most likely tokens (0 = no limit).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p`.
    pub top_p: f32,
}

impl Sampling {
    /// HY-MT1.5's recommended settings: top_k 20, top_p 0.6, temperature 0.7 (with repetition penalty 1.05).
    pub fn hy_mt() -> Self {
        Self {
            temperature: 0.7,
            top_k: 20,
            top_p: 0.6,
        }
    }
}

/// transformers' `RepetitionPenaltyLogitsProcessor`: every token already in `context` has its logit divided by
/// `penalty` when positive and multiplied by it when negative.
pub fn apply_repetition_penalty(logits: &mut [f32], context: &[u32], penalty: f32) {
    if penalty == 1.0 {
        return;
    }
    let mut seen = vec![false; logits.len()];
    for &token in context {
        let Some(logit) = logits.get_mut(token as usize) else {
            continue;
        };
        if !std::mem::replace(&mut seen[token as usize], true) {
            *logit = if *logit < 0.0 {
                *logit * penalty
            } else {
                *logit / penalty
            };
        }
    }
}

/// Index of the largest logit (the first one on ties, as `argmax` does).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &value) in logits.iter().enumerate() {
        if value > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// The tokens that survive temperature, top-k and top-p, with their renormalised probabilities,
/// most likely first.
pub fn candidate_distribution(logits: &[f32], sampling: &Sampling) -> Vec<(u32, f32)> {
    let temperature = sampling.temperature.max(1e-6);
    let mut ranked: Vec<(u32, f32)> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, l / temperature))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if sampling.top_k > 0 {
        ranked.truncate(sampling.top_k);
    }
    let max = ranked[0].1;
    let mut probs: Vec<(u32, f32)> = ranked.iter().map(|&(i, l)| (i, (l - max).exp())).collect();
    normalise(&mut probs);
    if sampling.top_p < 1.0 {
        // Keep tokens until the mass before them reaches top_p: the first token always stays.
        let mut mass = 0.0;
        let keep = probs
            .iter()
            .take_while(|&&(_, p)| {
                let before = mass;
                mass += p;
                before < sampling.top_p
            })
            .count();
        probs.truncate(keep.max(1));
        normalise(&mut probs);
    }
    probs
}

/// Draws a token from the candidate distribution of `logits`.
pub fn sample(logits: &[f32], sampling: &Sampling, rng: &mut StdRng) -> u32 {
    let candidates = candidate_distribution(logits, sampling);
    let mut draw: f32 = rng.random();
    for &(token, p) in &candidates {
        if draw < p {
            return token;
        }
        draw -= p;
    }
    candidates.last().map(|&(token, _)| token).unwrap_or(0)
}

fn normalise(probs: &mut [(u32, f32)]) {
    let total: f32 = probs.iter().map(|&(_, p)| p).sum();
    probs.iter_mut().for_each(|(_, p)| *p /= total);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn repetition_penalty_divides_positive_and_multiplies_negative_logits_once() {
        let mut logits = [2.0, -2.0, 1.0];
        apply_repetition_penalty(&mut logits, &[0, 1, 0, 7], 2.0);
        assert_eq!(logits, [1.0, -4.0, 1.0]);
    }

    #[test]
    fn top_k_and_top_p_keep_the_hand_computed_set() {
        // Softmax of ln([4, 3, 2, 1]) = [0.4, 0.3, 0.2, 0.1].
        let logits = [4f32.ln(), 3f32.ln(), 2f32.ln(), 1f32.ln()];
        let all = Sampling {
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
        };
        let probs: Vec<f32> = candidate_distribution(&logits, &all).iter().map(|p| p.1).collect();
        for (got, want) in probs.iter().zip([0.4, 0.3, 0.2, 0.1]) {
            assert!((got - want).abs() < 1e-6);
        }
        // top_p 0.6: 0.4 alone is short of 0.6, 0.4 + 0.3 reaches it; 0.2 is cut.
        let nucleus = candidate_distribution(&logits, &Sampling { top_p: 0.6, ..all });
        assert_eq!(nucleus.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 1]);
        assert!((nucleus[0].1 - 4.0 / 7.0).abs() < 1e-6);
        let top3 = candidate_distribution(&logits, &Sampling { top_k: 3, ..all });
        assert_eq!(top3.len(), 3);
        assert!((top3[2].1 - 2.0 / 9.0).abs() < 1e-6);
    }

    #[test]
    fn low_temperature_sampling_is_greedy() {
        let logits = [0.1, 3.0, 2.9];
        let cold = Sampling {
            temperature: 1e-4,
            top_k: 0,
            top_p: 1.0,
        };
        let mut rng = StdRng::seed_from_u64(7);
        assert!((0..50).all(|_| sample(&logits, &cold, &mut rng) == argmax(&logits)));
        assert_eq!(argmax(&logits), 1);
    }
}
