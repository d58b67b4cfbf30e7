//! Training data: Stage-2 corpora, Stage-3 translation pairs, batching and resumable shuffling.

mod batch;
mod corpus;
mod pairs;
mod sampler;

pub use batch::{Example, TokenBatch};
pub use corpus::{pack_corpus, read_documents};
pub use pairs::{Pair, pair_example, read_pairs};
pub use sampler::EpochSampler;
