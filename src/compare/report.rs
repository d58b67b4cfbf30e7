//! `compare`: how far a quantized student is from its teacher on a corpus, without generating text.

use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;

use super::metrics::{NextTokenStats, StateDistance};
use super::trace::{SequenceTrace, trace};
use crate::backend::BackendKind;
use crate::data::Example;
use crate::distill::{RelationKind, RelationOptions, RelationReduction, reference_relation_kl};
use crate::error::{Error, Result};
use crate::generate::Loaded;
use crate::infer::TracedLayer;
use crate::kernels::Kernels;
use crate::model::HunYuanConfig;

/// The result, as `compare --json` prints it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CompareReport {
    pub sequences: usize,
    /// Positions whose next token is scored (all of a text, the reply of a pair): what perplexity, KL and
    /// agreement average over.
    pub positions: usize,
    pub teacher_perplexity: f64,
    pub student_perplexity: f64,
    /// Mean `KL(p_T ‖ p_S)` of the next-token distributions, nats.
    pub kl: f64,
    pub top1_agreement: f64,
    pub top5_agreement: f64,
    /// r of the relation KLs.
    pub relation_heads: usize,
    pub layers: Vec<LayerComparison>,
}

/// One layer: its output (`hidden`, the last after the final norm), its attention block's output, and the
/// Q/K/V attention-relation KLs of the official Stage-3 term (cosine relations over all positions, ÷ r).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LayerComparison {
    pub layer: usize,
    pub hidden_cosine: f64,
    pub hidden_relative_l2: f64,
    pub attention_cosine: f64,
    pub attention_relative_l2: f64,
    pub relation_kl_q: f64,
    pub relation_kl_k: f64,
    pub relation_kl_v: f64,
}

/// Progress after each sequence.
#[derive(Clone, Copy, Debug)]
pub struct CompareProgress {
    pub sequences: usize,
    pub tokens: usize,
}

#[derive(Clone, Debug, Default)]
struct LayerAccumulator {
    hidden: StateDistance,
    attention: StateDistance,
    /// Σ over sequences of L_A · T, and Σ T.
    relation: [f64; 3],
    relation_rows: usize,
}

/// Compares two models position by position; [`Comparison::report`] at any point gives the numbers so far.
pub struct Comparison {
    widths: [usize; 3],
    hidden: usize,
    relation: RelationOptions,
    device: Device,
    next_token: NextTokenStats,
    layers: Vec<LayerAccumulator>,
    sequences: usize,
    tokens: usize,
}

/// The largest r ≤ 32 that divides both state widths (the demo's r, where it fits).
pub fn default_relation_heads(config: &HunYuanConfig) -> usize {
    let (q, kv) = (config.q_dim(), config.kv_dim());
    (1..=32).rev().find(|r| q % r == 0 && kv % r == 0).unwrap_or(1)
}

impl Comparison {
    /// Checks that the two models have the same shape and that r divides their widths.
    pub fn new(teacher: &HunYuanConfig, student: &HunYuanConfig, relation_heads: usize) -> Result<Self> {
        let shape = |c: &HunYuanConfig| (c.num_hidden_layers, c.hidden_size, c.vocab_size, c.q_dim(), c.kv_dim());
        if shape(teacher) != shape(student) {
            return Err(Error::Invalid(format!(
                "teacher and student differ in shape (layers, hidden, vocabulary, q width, k/v width): {:?} vs {:?}",
                shape(teacher),
                shape(student)
            )));
        }
        crate::distill::check_relation_heads(teacher, relation_heads).map_err(Error::Invalid)?;
        Ok(Self {
            widths: [teacher.q_dim(), teacher.kv_dim(), teacher.kv_dim()],
            hidden: teacher.hidden_size,
            relation: RelationOptions {
                heads: relation_heads,
                kind: RelationKind::Cosine,
                causal: false,
                reduction: RelationReduction::Official,
                kernels: Kernels::Reference,
            },
            device: BackendKind::Flex.device(),
            next_token: NextTokenStats::default(),
            layers: vec![LayerAccumulator::default(); teacher.num_hidden_layers],
            sequences: 0,
            tokens: 0,
        })
    }

    /// One sequence as traced through both models; next-token statistics count the positions it trains on.
    pub fn add(&mut self, sequence: &Example, teacher: &SequenceTrace, student: &SequenceTrace) -> Result<()> {
        let ids = &sequence.tokens;
        for (t, _) in sequence.trained.iter().enumerate().filter(|(_, trained)| **trained) {
            self.next_token
                .add(teacher.logits_at(t), student.logits_at(t), ids[t + 1]);
        }
        for ((acc, t), s) in self.layers.iter_mut().zip(&teacher.layers).zip(&student.layers) {
            acc.hidden.add(&t.hidden, &s.hidden, self.hidden);
            acc.attention.add(&t.attention_output, &s.attention_output, self.hidden);
            let states = |l: &TracedLayer| [l.q.clone(), l.k.clone(), l.v.clone()];
            for (i, ((t, s), width)) in states(t).into_iter().zip(states(s)).zip(self.widths).enumerate() {
                let tensor = |values: Vec<f32>| {
                    Tensor::<3>::from_data(TensorData::new(values, [1, ids.len(), width]), &self.device)
                };
                let mask = Tensor::<2>::ones([1, ids.len()], &self.device);
                let kl = reference_relation_kl(tensor(s), tensor(t), mask, &self.relation);
                let kl = crate::train::read_scalar(kl)?;
                acc.relation[i] += kl * ids.len() as f64;
            }
            acc.relation_rows += ids.len();
        }
        self.sequences += 1;
        self.tokens += ids.len();
        Ok(())
    }

    pub fn progress(&self) -> CompareProgress {
        CompareProgress {
            sequences: self.sequences,
            tokens: self.tokens,
        }
    }

    pub fn report(&self) -> CompareReport {
        let n = &self.next_token;
        CompareReport {
            sequences: self.sequences,
            positions: n.positions,
            teacher_perplexity: n.teacher_perplexity(),
            student_perplexity: n.student_perplexity(),
            kl: n.kl(),
            top1_agreement: n.top1_agreement(),
            top5_agreement: n.top5_agreement(),
            relation_heads: self.relation.heads,
            layers: self
                .layers
                .iter()
                .enumerate()
                .map(|(layer, acc)| {
                    let relation = |i: usize| acc.relation[i] / acc.relation_rows.max(1) as f64;
                    LayerComparison {
                        layer,
                        hidden_cosine: acc.hidden.cosine(),
                        hidden_relative_l2: acc.hidden.relative_l2(),
                        attention_cosine: acc.attention.cosine(),
                        attention_relative_l2: acc.attention.relative_l2(),
                        relation_kl_q: relation(0),
                        relation_kl_k: relation(1),
                        relation_kl_v: relation(2),
                    }
                })
                .collect(),
        }
    }
}

/// Compares `student` with `teacher` over `sequences` until they end or `max_tokens` tokens were read;
/// `progress` hears after every sequence.
pub fn compare(
    teacher: &Loaded,
    student: &Loaded,
    sequences: impl Iterator<Item = Result<Example>>,
    relation_heads: usize,
    max_tokens: Option<usize>,
    progress: &mut dyn FnMut(CompareProgress),
) -> Result<CompareReport> {
    let mut comparison = Comparison::new(&teacher.config, &student.config, relation_heads)?;
    for sequence in sequences {
        if max_tokens.is_some_and(|max| comparison.tokens >= max) {
            break;
        }
        let mut sequence = sequence?;
        if let Some(max) = max_tokens {
            let len = (max - comparison.tokens).max(2).min(sequence.tokens.len());
            sequence.tokens.truncate(len);
            sequence.trained.truncate(len - 1);
        }
        let ids = &sequence.tokens;
        let (t, s) = (trace(&teacher.model, ids)?, trace(&student.model, ids)?);
        comparison.add(&sequence, &t, &s)?;
        progress(comparison.progress());
    }
    if comparison.sequences == 0 {
        return Err(Error::Invalid(
            "the corpus gave no sequence of two or more tokens".into(),
        ));
    }
    Ok(comparison.report())
}
