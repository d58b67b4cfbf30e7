//! Deterministic train/dev/test split by a hash of the source, so that no source sentence is in two splits
//! and the split never changes between runs, machines or Rust versions.

/// Which split a pair belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    Train,
    Dev,
    Test,
}

/// 64-bit FNV-1a: stable by definition, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// MurmurHash3's 64-bit finalizer: FNV-1a alone leaves its high bits poorly mixed for near-identical strings
/// ("message 1", "message 2"), which skews the shares.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The split of `source`, with `dev` and `test` the shares (0..1) of the dev and test splits.
pub fn split_of(source: &str, dev: f64, test: f64) -> Split {
    let unit = (fmix64(fnv1a(source.as_bytes())) >> 11) as f64 / (1u64 << 53) as f64;
    if unit < test {
        Split::Test
    } else if unit < test + dev {
        Split::Dev
    } else {
        Split::Train
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_its_published_vectors_and_shares_are_respected() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let sources: Vec<String> = (0..20_000).map(|i| format!("message number {i}")).collect();
        let test = sources.iter().filter(|s| split_of(s, 0.1, 0.05) == Split::Test).count();
        let dev = sources.iter().filter(|s| split_of(s, 0.1, 0.05) == Split::Dev).count();
        assert!((800..1200).contains(&test), "{test}");
        assert!((1700..2300).contains(&dev), "{dev}");
        assert_eq!(split_of("same", 0.1, 0.05), split_of("same", 0.1, 0.05));
    }
}
