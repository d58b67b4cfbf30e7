//! Decoding several sequences in one batch. Each feed is left-padded to the longest one, so every row's newest
//! token sits in the last column and one slice gives the next-token logits of all rows. A padding position is
//! masked out as a key of every query but itself (a query that saw no key would turn its softmax into NaN, and
//! its value row, weighted 0, would carry the NaN into the real rows), and RoPE counts a row's real tokens only,
//! so each row computes what it would alone, up to the rounding of the batched matmuls.

use burn::tensor::{Bool, Int, Tensor, TensorData};

use super::cache::KvCache;
use super::hunyuan::{HunYuan, TokenLayout};
use super::rope::rope_tables_at;
use crate::model::Probes;

/// The KV cache of a batch of sequences and which of its positions hold padding.
#[derive(Clone, Debug)]
pub struct RowCache {
    cache: KvCache,
    /// Per row, per cached position: whether it holds a real token (false: left padding).
    real: Vec<Vec<bool>>,
}

impl RowCache {
    pub fn new(num_layers: usize, rows: usize) -> Self {
        Self {
            cache: KvCache::new(num_layers),
            real: vec![Vec::new(); rows],
        }
    }

    pub fn rows(&self) -> usize {
        self.real.len()
    }

    /// Keeps the rows `kept` (indices into the current rows), in that order: finished sequences leave the batch.
    /// Positions that are padding in every row left are dropped.
    pub fn keep_rows(&mut self, kept: &[usize]) {
        if kept.iter().copied().eq(0..self.rows()) {
            return;
        }
        self.cache.select_rows(kept);
        self.real = kept.iter().map(|&row| std::mem::take(&mut self.real[row])).collect();
        let unused = self
            .real
            .iter()
            .map(|real| real.iter().take_while(|r| !**r).count())
            .min();
        if let Some(unused) = unused.filter(|&n| n > 0) {
            self.cache.drop_leading(unused);
            self.real.iter_mut().for_each(|real| drop(real.drain(..unused)));
        }
    }

    /// Appends the rows of `other` (sequences that joined) after these; the shorter side gets padding positions
    /// in front.
    pub fn append(&mut self, other: RowCache) {
        let (mine, theirs) = self.cache.stack_rows(other.cache);
        let pad = |real: Vec<bool>, count: usize| std::iter::repeat_n(false, count).chain(real).collect();
        let real = std::mem::take(&mut self.real);
        self.real = real.into_iter().map(|real| pad(real, mine)).collect();
        self.real.extend(other.real.into_iter().map(|real| pad(real, theirs)));
    }
}

impl HunYuan {
    /// Appends `feeds[r]` (non-empty) to row r of `cache` and returns the logits `[rows, vocab]` of each row's
    /// last new token.
    pub fn forward_rows(&self, feeds: &[&[u32]], cache: &mut RowCache) -> Tensor<2> {
        assert_eq!(feeds.len(), cache.rows(), "one feed per row");
        assert!(feeds.iter().all(|feed| !feed.is_empty()), "every row is fed a token");
        let device = self.embed_tokens.val().device();
        let len = feeds.iter().map(|feed| feed.len()).max().unwrap_or(0);
        let start = cache.cache.len();
        let keys = start + len;
        let mut ids = Vec::with_capacity(feeds.len() * len);
        let mut positions = Vec::with_capacity(feeds.len() * len);
        let mut mask = Vec::with_capacity(feeds.len() * len * keys);
        for (feed, real) in feeds.iter().zip(&mut cache.real) {
            let padding = len - feed.len();
            // Padding takes id 0, any row of the embeddings: what it computes is never seen.
            ids.extend((0..padding).map(|_| 0).chain(feed.iter().map(|&id| id as i64)));
            real.extend((0..len).map(|t| t >= padding));
            let mut seen = real[..start].iter().filter(|&&r| r).count();
            for t in 0..len {
                positions.push(seen);
                seen += usize::from(real[start + t]);
                let query = start + t;
                mask.extend((0..keys).map(|s| s > query || (!real[s] && s != query)));
            }
        }
        let rows = feeds.len();
        let layout = TokenLayout {
            rope: rope_tables_at(self.head_dim, self.rope_base, &positions, rows, &device),
            mask: Some(Tensor::<3, Bool>::from_data(
                TensorData::new(mask, [rows, len, keys]),
                &device,
            )),
        };
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [rows, len]), &device);
        let (hidden, _) = self.trunk(ids, Some(&mut cache.cache), &layout, &Probes::default());
        self.last_column_head(hidden)
    }
}
