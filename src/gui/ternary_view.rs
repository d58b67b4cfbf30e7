//! What the quantize explorer shows of one weight matrix: Δ, the share of −1/0/+1, the histogram of W/Δ with
//! the ternary thresholds at ±0.5 (±Δ/2 in weight units), the reconstruction error, and the warm-up blend
//! `W + λ·(Δ·codes − W)` that the trainer's quantization warm-up computes.

use crate::quant::{absmean_scale_of, ternary_code};

/// Histogram range of W/Δ: beyond ±3 Δ everything lands in the edge bins.
pub const HISTOGRAM_RANGE: f32 = 3.0;

#[derive(Clone, Debug, PartialEq)]
pub struct TernaryView {
    /// Δ = max(mean|W|, 1e-5).
    pub delta: f32,
    /// Share of −1, 0, +1 codes.
    pub shares: [f64; 3],
    /// Counts of W/Δ in equal bins over [−3, 3] (outliers in the edge bins); they sum to the weight count.
    pub latent_counts: Vec<u64>,
    /// The same for the blended weights at warm-up λ.
    pub blended_counts: Vec<u64>,
    /// ‖W − Δ·codes‖ / ‖W‖.
    pub reconstruction_error: f64,
}

fn bin_of(value: f32, bins: usize) -> usize {
    let position = (value + HISTOGRAM_RANGE) / (2.0 * HISTOGRAM_RANGE) * bins as f32;
    (position.max(0.0) as usize).min(bins - 1)
}

impl TernaryView {
    pub fn new(weights: &[f32], bins: usize, blend: f32) -> Self {
        let delta = absmean_scale_of(weights);
        let mut counts = [0u64; 3];
        let mut latent_counts = vec![0u64; bins];
        let mut blended_counts = vec![0u64; bins];
        let (mut error, mut norm) = (0f64, 0f64);
        for &w in weights {
            let code = ternary_code(w, delta);
            counts[(code + 1) as usize] += 1;
            let quantized = delta * code as f32;
            error += ((w - quantized) as f64).powi(2);
            norm += (w as f64).powi(2);
            latent_counts[bin_of(w / delta, bins)] += 1;
            blended_counts[bin_of((w + blend * (quantized - w)) / delta, bins)] += 1;
        }
        let total = weights.len().max(1) as f64;
        Self {
            delta,
            shares: counts.map(|c| c as f64 / total),
            latent_counts,
            blended_counts,
            reconstruction_error: if norm > 0.0 { (error / norm).sqrt() } else { 0.0 },
        }
    }

    /// Centre of bin `i` in units of Δ.
    pub fn bin_centre(&self, i: usize) -> f64 {
        let width = 2.0 * HISTOGRAM_RANGE as f64 / self.latent_counts.len() as f64;
        -(HISTOGRAM_RANGE as f64) + (i as f64 + 0.5) * width
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use crate::quant::{absmean_scale, ternary_codes};
    use burn::tensor::{Tensor, TensorData};

    #[test]
    fn counts_and_shares_agree_with_the_training_quantizer() {
        let weights: Vec<f32> = (0..997)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0).powi(3) * 0.1)
            .collect();
        let view = TernaryView::new(&weights, 40, 0.0);
        assert_eq!(view.latent_counts.iter().sum::<u64>(), 997);
        assert_eq!(view.blended_counts, view.latent_counts, "λ = 0 is the latent weight");

        let device = BackendKind::Flex.device();
        let w = Tensor::<2>::from_data(TensorData::new(weights.clone(), [1, 997]), &device);
        let scale = absmean_scale(w.clone());
        let delta = scale.clone().into_data().try_into_vec_as::<f32>().unwrap()[0];
        assert!((view.delta - delta).abs() <= 1e-6 * delta);
        let codes = ternary_codes(w, scale).into_data().try_into_vec_as::<f32>().unwrap();
        for (k, code) in [-1.0f32, 0.0, 1.0].iter().enumerate() {
            let share = codes.iter().filter(|c| *c == code).count() as f64 / 997.0;
            assert_eq!(view.shares[k], share, "code {code}");
        }
    }

    #[test]
    fn full_blend_puts_every_weight_on_the_three_levels() {
        // Δ = 1: codes −1, 0, 0, +1, +1; at λ = 1 the blended weights are exactly −1, 0, 0, 1, 1 (in Δ units).
        let weights = [-1.4f32, 0.2, -0.2, 1.6, 1.0];
        let view = TernaryView::new(&weights, 6, 1.0);
        assert!((view.delta - 0.88).abs() < 1e-6);
        // Six bins of width 1 over [−3, 3], bin k = [k − 3, k − 2): −1 → bin 2; 0 → bin 3; +1 → bin 4.
        assert_eq!(view.blended_counts, vec![0, 0, 1, 2, 2, 0]);
        assert_eq!(view.shares, [0.2, 0.4, 0.4]);
        assert_eq!(view.bin_centre(0), -2.5);
    }
}
