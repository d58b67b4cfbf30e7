//! Seeded epoch-wise shuffling addressed by a global position, so a run can resume at any example; optionally
//! grouped by length so that a batch's examples need little padding, or computed one index at a time for
//! corpora too large for a table of their order.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::permutation::Permutation;

/// Length grouping: each pool of `pool_batches · batch` consecutive examples of an epoch's permutation is sorted
/// by length and cut into batches, and the pool's batches are shuffled (the "bucketed random sampler" of
/// fairseq and Hugging Face's `group_by_length`, seeded by position like the rest).
#[derive(Clone, Debug)]
struct LengthGrouping {
    lengths: Vec<usize>,
    batch: usize,
    pool_batches: usize,
}

/// Example `position` (counting over all epochs) maps to a fixed order of epoch `position / len`: a seeded
/// permutation, regrouped by length when asked. Positions `k·batch .. (k+1)·batch` of one epoch form one
/// batch of similar lengths; no example is split or repeated within an epoch.
pub struct EpochSampler {
    seed: u64,
    len: usize,
    grouping: Option<LengthGrouping>,
    /// Each epoch's order as a table (built when the epoch starts) or as a [`Permutation`] evaluated per
    /// index (constant memory).
    tabled: bool,
    epoch: Option<(usize, Vec<usize>)>,
}

impl EpochSampler {
    pub fn new(seed: u64, len: usize) -> Self {
        Self {
            seed,
            len,
            grouping: None,
            tabled: true,
            epoch: None,
        }
    }

    /// A plain shuffle of `len` examples that keeps no table: each epoch is a seeded [`Permutation`], so
    /// memory stays constant however large `len` is (Stage 2's packed blocks).
    pub fn without_table(seed: u64, len: usize) -> Self {
        Self {
            tabled: false,
            ..Self::new(seed, len)
        }
    }

    /// A sampler over examples of the given lengths whose batches of `batch` come from pools of
    /// `pool_batches` batches sorted by length; `pool_batches` ≤ 1 is the plain shuffle.
    pub fn grouped_by_length(seed: u64, lengths: Vec<usize>, batch: usize, pool_batches: usize) -> Self {
        let len = lengths.len();
        let grouping = (pool_batches > 1 && batch > 0).then_some(LengthGrouping {
            lengths,
            batch,
            pool_batches,
        });
        Self {
            seed,
            len,
            grouping,
            tabled: true,
            epoch: None,
        }
    }

    pub fn index(&mut self, position: usize) -> usize {
        let epoch = position / self.len;
        if !self.tabled {
            return Permutation::new(self.epoch_seed(epoch), self.len as u64).at((position % self.len) as u64) as usize;
        }
        if self.epoch.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.epoch = Some((epoch, self.order(epoch)));
        }
        self.epoch.as_ref().unwrap().1[position % self.len]
    }

    fn epoch_seed(&self, epoch: usize) -> u64 {
        self.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn order(&self, epoch: usize) -> Vec<usize> {
        let epoch_seed = self.epoch_seed(epoch);
        let mut order: Vec<usize> = (0..self.len).collect();
        order.shuffle(&mut StdRng::seed_from_u64(epoch_seed));
        let Some(grouping) = &self.grouping else {
            return order;
        };
        let pool_len = grouping.batch * grouping.pool_batches;
        let mut grouped = Vec::with_capacity(self.len);
        for (pool_index, pool) in order.chunks(pool_len).enumerate() {
            let mut pool = pool.to_vec();
            // Stable: equal lengths keep the permutation's order.
            pool.sort_by_key(|&i| grouping.lengths[i]);
            let mut batches: Vec<&[usize]> = pool.chunks(grouping.batch).collect();
            let pool_seed = epoch_seed.wrapping_add((pool_index as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
            batches.shuffle(&mut StdRng::seed_from_u64(pool_seed));
            grouped.extend(batches.concat());
        }
        grouped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_epoch_is_a_permutation_and_positions_are_reproducible() {
        let mut sampler = EpochSampler::new(3, 10);
        let first: Vec<usize> = (0..10).map(|p| sampler.index(p)).collect();
        let mut sorted = first.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        let second: Vec<usize> = (10..20).map(|p| sampler.index(p)).collect();
        assert_ne!(first, second);
        // A fresh sampler resumed at position 13 gives what the first gave there.
        assert_eq!(EpochSampler::new(3, 10).index(13), second[3]);
    }

    #[test]
    fn the_tableless_shuffle_permutes_each_epoch_and_resumes_anywhere() {
        let mut sampler = EpochSampler::without_table(3, 10);
        let epochs: Vec<Vec<usize>> = (0..3)
            .map(|e| (e * 10..e * 10 + 10).map(|p| sampler.index(p)).collect())
            .collect();
        for order in &epochs {
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        }
        assert!(epochs[0] != epochs[1] && epochs[1] != epochs[2]);
        assert_eq!(EpochSampler::without_table(3, 10).index(27), epochs[2][7]);
        assert!(sampler.epoch.is_none(), "no table is kept");
    }

    /// Padded tokens of batches of `batch` consecutive positions over one epoch.
    fn padded_tokens(sampler: &mut EpochSampler, lengths: &[usize], batch: usize) -> usize {
        let order: Vec<usize> = (0..lengths.len()).map(|p| sampler.index(p)).collect();
        order
            .chunks(batch)
            .map(|b| b.len() * b.iter().map(|&i| lengths[i]).max().unwrap())
            .sum()
    }

    #[test]
    fn length_grouping_keeps_permutations_and_cuts_padding() {
        // 100 examples of lengths 1..=100 (shuffled by index), batches of 4, pools of 5 batches.
        let lengths: Vec<usize> = (0..100).map(|i| (i * 37) % 100 + 1).collect();
        let mut grouped = EpochSampler::grouped_by_length(9, lengths.clone(), 4, 5);
        for epoch in 0..3 {
            let order: Vec<usize> = (epoch * 100..(epoch + 1) * 100).map(|p| grouped.index(p)).collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..100).collect::<Vec<_>>(), "epoch {epoch} is a permutation");
            // Each pool of 20 holds the same examples as the plain shuffle's pool, re-ordered.
            let plain: Vec<usize> = (epoch * 100..(epoch + 1) * 100)
                .map(|p| EpochSampler::new(9, 100).index(p))
                .collect();
            for (a, b) in order.chunks(20).zip(plain.chunks(20)) {
                let (mut a, mut b) = (a.to_vec(), b.to_vec());
                a.sort();
                b.sort();
                assert_eq!(a, b);
            }
        }
        // Inside a batch the lengths come from one sorted run of its pool, so the epoch's padding drops.
        let real: usize = lengths.iter().sum();
        let plain = padded_tokens(&mut EpochSampler::new(9, 100), &lengths, 4);
        let grouped_padded = padded_tokens(
            &mut EpochSampler::grouped_by_length(9, lengths.clone(), 4, 5),
            &lengths,
            4,
        );
        assert!(
            grouped_padded >= real && grouped_padded < plain,
            "{grouped_padded} vs plain {plain}, real {real}"
        );
        // Resuming at any position gives the same example.
        let mut fresh = EpochSampler::grouped_by_length(9, lengths.clone(), 4, 5);
        assert_eq!(fresh.index(257), grouped.index(257));
        // One batch per pool, or pools of one batch: the plain shuffle.
        let mut single = EpochSampler::grouped_by_length(9, lengths, 4, 1);
        assert_eq!(single.index(42), EpochSampler::new(9, 100).index(42));
    }
}
