//! A seeded permutation of `0..len` computed one index at a time, with no table: Stage 2 shuffles millions
//! of packed blocks (10B tokens are 20M blocks of 512) in constant memory, and any position is reached
//! directly, so a resumed run continues the same order.
//!
//! A balanced Feistel network over the smallest even number of bits that covers `len` is a bijection of
//! `0..2^bits`; values that land at or past `len` are encrypted again until they fall inside ("cycle walking",
//! Black & Rogaway, "Ciphers with Arbitrary Finite Domains", 2002), which keeps it a bijection of `0..len`.
//! `2^bits < 4·len`, so a walk takes fewer than four rounds on average.

/// Rounds of the network; four rounds of a good round function make a pseudo-random permutation
/// (Luby & Rackoff, 1988).
const ROUNDS: usize = 4;

#[derive(Clone, Debug)]
pub struct Permutation {
    len: u64,
    half_bits: u32,
    keys: [u64; ROUNDS],
}

/// SplitMix64's finalizer (Steele, Lea & Flood, 2014): a fast 64-bit mix whose every output bit depends on
/// every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Permutation {
    /// The permutation of `0..len` keyed by `seed`.
    pub fn new(seed: u64, len: u64) -> Self {
        let bits = (64 - len.saturating_sub(1).leading_zeros()).max(2);
        let half_bits = bits.div_ceil(2);
        let mut keys = [0; ROUNDS];
        for (round, key) in keys.iter_mut().enumerate() {
            *key = mix(seed ^ mix(round as u64 + 1));
        }
        Self { len, half_bits, keys }
    }

    /// One pass of the Feistel network over `2·half_bits`-bit values.
    fn encrypt(&self, value: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let (mut left, mut right) = (value >> self.half_bits, value & mask);
        for key in self.keys {
            (left, right) = (right, left ^ (mix(right ^ key) & mask));
        }
        (left << self.half_bits) | right
    }

    /// The image of `index` (< len).
    pub fn at(&self, index: u64) -> u64 {
        assert!(
            index < self.len,
            "index {index} outside the permutation of {}",
            self.len
        );
        let mut value = self.encrypt(index);
        while value >= self.len {
            value = self.encrypt(value);
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_bijection_for_every_small_length() {
        for len in [1u64, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 1023, 1024, 1025] {
            let permutation = Permutation::new(11, len);
            let mut seen = vec![false; len as usize];
            for i in 0..len {
                let j = permutation.at(i) as usize;
                assert!(!seen[j], "len {len}: {j} reached twice");
                seen[j] = true;
            }
        }
    }

    #[test]
    fn seeds_give_different_orders_that_look_shuffled() {
        let len = 10_000u64;
        let a: Vec<u64> = (0..len).map(|i| Permutation::new(1, len).at(i)).collect();
        let b: Vec<u64> = (0..len).map(|i| Permutation::new(2, len).at(i)).collect();
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        // Two independent random permutations agree at about one place.
        assert!(same < 10, "{same} fixed agreements");
        // Neighbours do not stay neighbours: the mean jump is near len/3, as for a random permutation.
        let mean_jump = a.windows(2).map(|w| w[0].abs_diff(w[1])).sum::<u64>() as f64 / (len - 1) as f64;
        assert!(
            (mean_jump / len as f64 - 1.0 / 3.0).abs() < 0.03,
            "mean jump {mean_jump}"
        );
        // The first tenth of positions covers every tenth of the blocks about equally.
        let mut deciles = [0usize; 10];
        a[..1000].iter().for_each(|&v| deciles[(v * 10 / len) as usize] += 1);
        assert!(deciles.iter().all(|&d| (60..=140).contains(&d)), "{deciles:?}");
    }

    #[test]
    fn reaches_huge_lengths_without_a_table() {
        // 10B tokens in blocks of 512: about 19.5M blocks, and far beyond.
        for len in [19_531_250u64, 1 << 40] {
            let permutation = Permutation::new(5, len);
            let values: Vec<u64> = (0..1000).map(|i| permutation.at(i)).collect();
            assert!(values.iter().all(|&v| v < len));
            let mut distinct = values.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), values.len());
        }
    }
}
