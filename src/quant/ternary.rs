//! Ternary ("1.58-bit") absmean weight quantization, BitNet b1.58 (arXiv 2402.17764, eq. 1-3), exactly as the
//! official BitDistill code computes it (`weight_quant` in microsoft/BitNet `bitdistill/tools/bitnet/bitnetsrc/
//! core.py`, and transformers' BitNet integration):
//!
//! `Δ = max(mean|W|, 1e-5)`, `codes = RoundClip(W · (1/Δ), −1, 1)` (round half to even, as `torch.round`),
//! `W_q = Δ · codes`.
//!
//! The official code multiplies by the f32 reciprocal `1/Δ` rather than dividing by Δ; the two can differ in the
//! last bit, which decides weights that sit exactly on ±Δ/2, so this module multiplies too. (Its dequantized
//! `codes / (1/Δ)` and our `Δ · codes` differ by at most one ulp; the codes are identical.)

use burn::tensor::Tensor;

/// Lower bound on Δ, so that an all-zero matrix keeps a finite reciprocal (its codes are all 0).
pub const WEIGHT_SCALE_FLOOR: f64 = 1e-5;

/// `Δ = max(mean|W|, 1e-5)`, shape `[1]`.
pub fn absmean_scale(weight: Tensor<2>) -> Tensor<1> {
    weight.abs().mean().clamp_min(WEIGHT_SCALE_FLOOR)
}

/// Ternary codes in {−1, 0, 1} (as floats): `RoundClip(W · (1/Δ), −1, 1)`, rounding half to even.
pub fn ternary_codes(weight: Tensor<2>, scale: Tensor<1>) -> Tensor<2> {
    (weight * scale.recip().unsqueeze::<2>()).round().clamp(-1.0, 1.0)
}

/// The dequantized ternary weight `Δ · codes` that the student computes with.
pub fn ternary_fake_quant(weight: Tensor<2>) -> Tensor<2> {
    let scale = absmean_scale(weight.clone());
    ternary_codes(weight, scale.clone()) * scale.unsqueeze::<2>()
}

/// `Δ = max(mean|W|, 1e-5)` of a weight held on the CPU (mean accumulated in f64).
pub fn absmean_scale_of(weights: &[f32]) -> f32 {
    let mean = weights.iter().map(|w| w.abs() as f64).sum::<f64>() / weights.len().max(1) as f64;
    (mean as f32).max(WEIGHT_SCALE_FLOOR as f32)
}

/// One weight's code under Δ: `RoundClip(w · (1/Δ), −1, 1)`, the scalar twin of [`ternary_codes`].
pub fn ternary_code(weight: f32, scale: f32) -> i8 {
    (weight * scale.recip()).round_ties_even().clamp(-1.0, 1.0) as i8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use burn::tensor::TensorData;

    #[test]
    fn codes_and_scale_of_a_hand_worked_matrix() {
        let device = BackendKind::Flex.device();
        // mean|W| = (0.9 + 0.1 + 0.4 + 1.2 + 0.2 + 0.6) / 6 = 0.5666…; W/Δ = [1.59, -0.18, 0.71, -2.12, 0.35, -1.06]
        let w = Tensor::<2>::from_data(
            TensorData::new(vec![0.9f32, -0.1, 0.4, -1.2, 0.2, -0.6], [2, 3]),
            &device,
        );
        let scale = absmean_scale(w.clone());
        let delta = 3.4f32 / 6.0;
        assert!((scale.clone().into_scalar::<f32>() - delta).abs() < 1e-7);
        let codes = ternary_codes(w.clone(), scale)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert_eq!(codes, vec![1.0, 0.0, 1.0, -1.0, 0.0, -1.0]);
        let dequant = ternary_fake_quant(w).into_data().try_into_vec_as::<f32>().unwrap();
        let expected: Vec<f32> = [1.0, 0.0, 1.0, -1.0, 0.0, -1.0].iter().map(|c| c * delta).collect();
        for (got, want) in dequant.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6);
        }
    }

    #[test]
    fn an_all_zero_matrix_takes_the_floor_and_codes_zero() {
        let device = BackendKind::Flex.device();
        let w = Tensor::<2>::zeros([2, 2], &device);
        let scale = absmean_scale(w.clone());
        assert_eq!(scale.clone().into_scalar::<f32>(), 1e-5);
        assert_eq!(
            ternary_codes(w, scale).into_data().try_into_vec_as::<f32>().unwrap(),
            vec![0.0; 4]
        );
        assert_eq!((absmean_scale_of(&[0.0; 4]), ternary_code(0.0, 1e-5)), (1e-5, 0));
    }
}
