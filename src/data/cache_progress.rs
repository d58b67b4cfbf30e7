//! How far the tokenization of a Stage-2 corpus into its token cache is, for the CLI's progress line and the
//! app's status line (a plain record, so it travels in run events to the browser's page too).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheProgress {
    /// Bytes of the corpus files read so far (compressed sizes; a Parquet file counts when done).
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub tokens: u64,
    pub documents: u64,
    pub seconds: f64,
}

impl CacheProgress {
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens as f64 / self.seconds.max(1e-9)
    }

    /// Seconds left at the rate so far (once some bytes are read and some remain).
    pub fn seconds_left(&self) -> Option<f64> {
        (self.bytes_read > 0 && self.bytes_read < self.bytes_total)
            .then(|| self.seconds * (self.bytes_total - self.bytes_read) as f64 / self.bytes_read as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_time_left_follow_the_bytes_read() {
        let progress = CacheProgress {
            bytes_read: 250,
            bytes_total: 1000,
            tokens: 600,
            documents: 3,
            seconds: 2.0,
        };
        assert_eq!(progress.tokens_per_second(), 300.0);
        // A quarter read in 2 s: three quarters left take 6 s.
        assert_eq!(progress.seconds_left(), Some(6.0));
        let done = CacheProgress {
            bytes_read: 1000,
            ..progress
        };
        assert_eq!(done.seconds_left(), None);
    }
}
