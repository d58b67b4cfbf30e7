//! Data: gettext and parallel-text import, cleaning, splitting; Stage-2 corpora, Stage-3 pairs, batching and
//! resumable shuffling.

mod batch;
mod corpus;
mod files;
mod filter;
pub mod gettext;
mod pairs;
mod sampler;
mod split;

pub use batch::{BatchTensors, Example, TokenBatch};
pub use corpus::{pack_corpus, read_documents};
pub use files::DataFiles;
pub use filter::{FilterConfig, FilterCounts, clean_pairs};
pub use pairs::{Pair, pair_example, parse_pairs, read_pairs};
pub use sampler::EpochSampler;
pub use split::{Split, split_of};
