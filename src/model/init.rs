//! Seeded random weights, for benchmarks and for checkpoints the tests build themselves.

use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::hunyuan::WeightSource;
use crate::error::Result;

/// Matrices uniform with standard deviation `std`; norm scales uniform in a range.
pub struct RandomWeights {
    rng: StdRng,
    std: f32,
    norm_range: (f32, f32),
}

impl RandomWeights {
    /// Norm scales in [0.5, 1.5] rather than all ones, so that a loader which mixes norms up is caught.
    pub fn new(seed: u64, std: f32) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            std,
            norm_range: (0.5, 1.5),
        }
    }

    /// Norm scales of exactly one: the usual start of training.
    pub fn for_training(seed: u64, std: f32) -> Self {
        Self {
            norm_range: (1.0, 1.0),
            ..Self::new(seed, std)
        }
    }
}

impl WeightSource for RandomWeights {
    fn weight(&mut self, path: &str, shape: &[usize]) -> Result<TensorData> {
        let count = shape.iter().product();
        // U(-a, a) has standard deviation a / √3.
        let (low, high) = if path.ends_with(".gamma") {
            self.norm_range
        } else {
            let a = self.std * 3f32.sqrt();
            (-a, a)
        };
        let values: Vec<f32> = (0..count)
            .map(|_| {
                if low == high {
                    low
                } else {
                    self.rng.random_range(low..high)
                }
            })
            .collect();
        Ok(TensorData::new(values, shape.to_vec()))
    }
}
