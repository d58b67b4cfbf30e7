//! Ternary ("1.58-bit") absmean weight quantization, BitNet b1.58 (arXiv 2402.17764, eq. 1-3):
//! `Δ = mean|W|`, `codes = RoundClip(W / (Δ + ε), −1, 1)`, `W_q = Δ · codes`.

use burn::tensor::Tensor;

/// ε of BitNet's RoundClip denominator.
pub const WEIGHT_EPS: f64 = 1e-5;

/// `Δ = mean|W|`, shape `[1]`.
pub fn absmean_scale(weight: Tensor<2>) -> Tensor<1> {
    weight.abs().mean()
}

/// Ternary codes in {−1, 0, 1} (as floats): `RoundClip(W / (Δ + ε), −1, 1)`, rounding half to even.
pub fn ternary_codes(weight: Tensor<2>, scale: Tensor<1>) -> Tensor<2> {
    (weight / (scale + WEIGHT_EPS).unsqueeze::<2>())
        .round()
        .clamp(-1.0, 1.0)
}

/// The dequantized ternary weight `Δ · codes` that the student computes with.
pub fn ternary_fake_quant(weight: Tensor<2>) -> Tensor<2> {
    let scale = absmean_scale(weight.clone());
    ternary_codes(weight, scale.clone()) * scale.unsqueeze::<2>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use burn::tensor::TensorData;

    #[test]
    fn codes_and_scale_of_a_hand_worked_matrix() {
        let device = BackendKind::Ndarray.device();
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
}
