//! Evaluation equal to sacreBLEU 2.6 (BLEU, chrF, chrF++) and placeholder preservation.

mod bleu;
mod chrf;
mod placeholders;
mod report;
mod tokenize;

pub use bleu::{BleuStats, bleu_from_stats, corpus_bleu, sentence_bleu};
pub use chrf::{chrf_from_stats, corpus_chrf, sentence_chrf};
pub use placeholders::{placeholder_rate, placeholders};
pub use report::{EvalReport, PairScores, evaluate, tokenize_for};
pub use tokenize::Tokenize;

/// Corpus scores of a system output, in sacreBLEU's units (0-100).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CorpusScores {
    pub bleu: f64,
    pub chrf: f64,
    pub chrf_pp: f64,
    /// sacreBLEU's BLEU signature for these settings.
    pub signature: String,
}

/// BLEU (with `tokenize`), chrF and chrF++ of `hypotheses` against one or more reference sets.
pub fn corpus_scores(hypotheses: &[String], references: &[Vec<String>], tokenize: Tokenize) -> CorpusScores {
    CorpusScores {
        bleu: corpus_bleu(hypotheses, references, tokenize),
        chrf: corpus_chrf(hypotheses, references, 0),
        chrf_pp: corpus_chrf(hypotheses, references, 2),
        signature: format!(
            "nrefs:{}|case:mixed|eff:no|tok:{}|smooth:exp|version:2.6.0",
            references.len(),
            tokenize.name()
        ),
    }
}
