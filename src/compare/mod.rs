//! `bitdistill compare`: where a quantized student loses quality against its full-precision teacher, measured
//! on a corpus without generating text: perplexities, the next-token KL and agreement, and per layer the
//! distance of hidden states and attention outputs and the Q/K/V relation KL of Stage 3. Works on burn models
//! and on packed exports (the CPU engine) alike.

mod corpus;
mod metrics;
mod report;
mod trace;

pub use corpus::CorpusSequences;
pub use metrics::{NextTokenStats, StateDistance, log_softmax};
pub use report::{CompareProgress, CompareReport, Comparison, LayerComparison, compare, default_relation_heads};
pub use trace::{SequenceTrace, trace};
