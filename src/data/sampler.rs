//! Seeded epoch-wise shuffling addressed by a global position, so a run can resume at any example.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Example `position` (counting over all epochs) maps to a fixed permutation of epoch `position / len`.
pub struct EpochSampler {
    seed: u64,
    len: usize,
    epoch: Option<(usize, Vec<usize>)>,
}

impl EpochSampler {
    pub fn new(seed: u64, len: usize) -> Self {
        Self { seed, len, epoch: None }
    }

    pub fn index(&mut self, position: usize) -> usize {
        let epoch = position / self.len;
        if self.epoch.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut order: Vec<usize> = (0..self.len).collect();
            order.shuffle(&mut StdRng::seed_from_u64(
                self.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ));
            self.epoch = Some((epoch, order));
        }
        self.epoch.as_ref().unwrap().1[position % self.len]
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
}
