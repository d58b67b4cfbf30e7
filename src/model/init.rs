//! Seeded random weights, for benchmarks and for checkpoints the tests build themselves.

use burn::tensor::TensorData;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::hunyuan::WeightSource;
use crate::error::Result;

/// Matrices uniform with standard deviation `std`; norm scales uniform in [0.5, 1.5] rather than all ones so
/// that a loader which mixes norms up is caught.
pub struct RandomWeights {
    rng: StdRng,
    std: f32,
}

impl RandomWeights {
    pub fn new(seed: u64, std: f32) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            std,
        }
    }
}

impl WeightSource for RandomWeights {
    fn weight(&mut self, path: &str, shape: &[usize]) -> Result<TensorData> {
        let count = shape.iter().product();
        // U(-a, a) has standard deviation a / √3.
        let (low, high) = if path.ends_with(".gamma") {
            (0.5, 1.5)
        } else {
            let a = self.std * 3f32.sqrt();
            (-a, a)
        };
        let values: Vec<f32> = (0..count).map(|_| self.rng.random_range(low..high)).collect();
        Ok(TensorData::new(values, shape.to_vec()))
    }
}
