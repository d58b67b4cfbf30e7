//! Data: gettext and parallel-text import, cleaning, splitting; Stage-2 corpora, Stage-3 pairs, batching and
//! resumable shuffling.

mod batch;
mod cache_progress;
mod corpus;
#[cfg(not(target_arch = "wasm32"))]
mod documents;
mod files;
mod filter;
pub mod gettext;
mod pairs;
#[cfg(not(target_arch = "wasm32"))]
mod parquet_column;
mod permutation;
mod sampler;
mod split;
#[cfg(not(target_arch = "wasm32"))]
pub mod token_cache;

pub use batch::{BatchTensors, Example, TokenBatch};
pub use cache_progress::CacheProgress;
#[cfg(not(target_arch = "wasm32"))]
pub use corpus::read_documents;
pub use corpus::{DEFAULT_TEXT_FIELD, PackedBlocks, TokenStream, file_list, pack_corpus};
#[cfg(not(target_arch = "wasm32"))]
pub use documents::{expand_corpus, for_each_document, format_of};
pub use files::DataFiles;
pub use filter::{FilterConfig, FilterCounts, clean_pairs};
pub use pairs::{Pair, pair_example, parse_pairs, read_pairs};
pub use sampler::EpochSampler;
pub use split::{Split, split_of};
#[cfg(not(target_arch = "wasm32"))]
pub use token_cache::TokenCache;
