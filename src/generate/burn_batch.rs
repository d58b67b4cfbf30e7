//! The burn model's batch: the running rows share one left-padded [`RowCache`]; rows that join are prefilled in
//! a pass of their own and then appended to it (a decode step padded to a prompt's length would cost every row
//! the whole prompt).

use super::BatchDecodeState;
use crate::model::{HunYuan, RowCache};

pub(super) struct BurnBatch<'a> {
    pub model: &'a HunYuan,
    pub cache: RowCache,
    /// The row each batch row of `cache` holds.
    pub rows: Vec<usize>,
}

impl BurnBatch<'_> {
    /// Logits `[vocab]` per row of `forward_rows`.
    fn run(model: &HunYuan, feeds: &[&[u32]], cache: &mut RowCache) -> Vec<Vec<f32>> {
        let logits = model.forward_rows(feeds, cache);
        let vocab = logits.dims()[1];
        let values = logits.into_data().try_into_vec_as::<f32>().expect("f32 logits");
        values.chunks_exact(vocab).map(<[f32]>::to_vec).collect()
    }
}

impl BatchDecodeState for BurnBatch<'_> {
    fn feed(&mut self, feeds: &[(usize, &[u32])]) -> Vec<Vec<f32>> {
        let ids_of = |row: usize| feeds.binary_search_by_key(&row, |&(r, _)| r).ok().map(|at| feeds[at].1);
        // The running rows left out have finished.
        let kept: Vec<usize> = (0..self.rows.len())
            .filter(|&at| ids_of(self.rows[at]).is_some())
            .collect();
        self.cache.keep_rows(&kept);
        self.rows = kept.iter().map(|&at| self.rows[at]).collect();
        let joining: Vec<usize> = feeds
            .iter()
            .map(|&(row, _)| row)
            .filter(|row| !self.rows.contains(row))
            .collect();
        let mut logits = Vec::with_capacity(feeds.len());
        if !self.rows.is_empty() {
            let ids: Vec<&[u32]> = self
                .rows
                .iter()
                .map(|&row| ids_of(row).expect("kept rows are fed"))
                .collect();
            logits.extend(Self::run(self.model, &ids, &mut self.cache));
        }
        let prompts: Vec<(usize, &[u32])> = joining
            .into_iter()
            .map(|row| (row, ids_of(row).expect("joining rows are fed")))
            .collect();
        for group in padding_groups(prompts) {
            let ids: Vec<&[u32]> = group.iter().map(|&(_, ids)| ids).collect();
            let mut cache = RowCache::new(self.model.num_layers(), group.len());
            logits.extend(Self::run(self.model, &ids, &mut cache));
            self.cache.append(cache);
            self.rows.extend(group.iter().map(|&(row, _)| row));
        }
        // `logits` follows `self.rows`; hand it back in `feeds`' order.
        let mut logits: Vec<Option<Vec<f32>>> = logits.into_iter().map(Some).collect();
        feeds
            .iter()
            .map(|(row, _)| {
                let at = self.rows.iter().position(|r| r == row).expect("a fed row");
                logits[at].take().expect("one feed per row")
            })
            .collect()
    }
}

/// Splits prompts into groups prefilled together, shortest first, each padded to its longest prompt with at
/// most 1/8 of its positions padding (the prefill is most of a batched evaluation's arithmetic).
fn padding_groups(mut prompts: Vec<(usize, &[u32])>) -> Vec<Vec<(usize, &[u32])>> {
    prompts.sort_by_key(|&(_, ids)| ids.len());
    let mut groups: Vec<Vec<(usize, &[u32])>> = Vec::new();
    let mut real = 0;
    for prompt in prompts {
        let len = prompt.1.len();
        match groups.last_mut() {
            Some(group) if 8 * (group.len() + 1) * len <= 9 * (real + len) => {
                group.push(prompt);
                real += len;
            }
            _ => {
                groups.push(vec![prompt]);
                real = len;
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_group_while_padding_stays_under_an_eighth() {
        let ids = [0u32; 64];
        let lengths = [10, 30, 11, 10, 12, 31, 60];
        let prompts: Vec<(usize, &[u32])> = lengths.iter().enumerate().map(|(row, &n)| (row, &ids[..n])).collect();
        let rows: Vec<Vec<usize>> = padding_groups(prompts)
            .iter()
            .map(|group| group.iter().map(|&(row, _)| row).collect())
            .collect();
        // 10, 10, 11, 12: 4 rows × 12 = 48 positions for 43 tokens, 48 ≤ 9/8 · 43 = 48.4; 30 would make
        // 5 × 30 = 150 > 9/8 · 73. Then 30, 31: 62 ≤ 9/8 · 61; and 60 alone: 3 × 60 = 180 > 9/8 · 121.
        assert_eq!(rows, vec![vec![0, 3, 2, 4], vec![1, 5], vec![6]]);
    }
}
