//! Per-token absmax int8 activation quantization, BitNet (arXiv 2310.11453, eq. 4):
//! `s = 127 / max|x|`, `x_q = RoundClip(x · s, −128, 127) / s`, one scale per token (last axis).

use burn::tensor::Tensor;

/// Lower bound on `max|x|`, so that an all-zero token keeps a finite scale.
pub const ACTIVATION_EPS: f64 = 1e-5;

/// Per-token scales `127 / max(|x|, ε)`, shape `[..., 1]`.
pub fn int8_scales<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.abs().max_dim(D - 1).clamp_min(ACTIVATION_EPS).recip() * 127.0
}

/// The int8 grid values of `x` (as floats in [−128, 127]) and their per-token scales.
pub fn int8_codes<const D: usize>(x: Tensor<D>) -> (Tensor<D>, Tensor<D>) {
    let scales = int8_scales(x.clone());
    ((x * scales.clone()).round().clamp(-128.0, 127.0), scales)
}

/// `x` rounded to its per-token int8 grid and scaled back.
pub fn int8_fake_quant<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let (codes, scales) = int8_codes(x);
    codes / scales
}

/// Relative error ‖x − int8(x)‖ / ‖x‖ of each token (row) of `x` `[tokens, features]`.
pub fn per_token_relative_error(x: Tensor<2>) -> Vec<f64> {
    let error = (x.clone() - int8_fake_quant(x.clone())).square().sum_dim(1);
    let norm = x.square().sum_dim(1);
    let values = |t: Tensor<2>| t.into_data().try_into_vec_as::<f32>().expect("f32 activations");
    values(error)
        .into_iter()
        .zip(values(norm))
        .map(|(e, n)| (e as f64 / (n as f64).max(1e-30)).sqrt())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use burn::tensor::TensorData;

    #[test]
    fn each_token_gets_its_own_scale() {
        let device = BackendKind::Flex.device();
        // Token 0: max 2 → s = 63.5; 0.5·63.5 = 31.75 → 32; −2 → −127; 0.01·63.5 = 0.635 → 1.
        // Token 1: max 0.1 → s = 1270; 0.05·1270 = 63.5 → 64 (half to even); −0.1 → −127; 0.0 → 0.
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![0.5f32, -2.0, 0.01, 0.05, -0.1, 0.0], [2, 3]),
            &device,
        );
        let (codes, scales) = int8_codes(x.clone());
        assert_eq!(
            codes.into_data().try_into_vec_as::<f32>().unwrap(),
            vec![32.0, -127.0, 1.0, 64.0, -127.0, 0.0]
        );
        let scales = scales.into_data().try_into_vec_as::<f32>().unwrap();
        assert!((scales[0] - 63.5).abs() < 1e-4 && (scales[1] - 1270.0).abs() < 1e-2);
        let dequant = int8_fake_quant(x).into_data().try_into_vec_as::<f32>().unwrap();
        assert!((dequant[0] - 32.0 / 63.5).abs() < 1e-6);
        assert!((dequant[3] - 64.0 / 1270.0).abs() < 1e-6);
        assert_eq!(dequant[1], -2.0);
    }

    #[test]
    fn per_token_error_by_hand() {
        let device = BackendKind::Flex.device();
        // Token 0: [1, 0.5, −0.25]: s = 127; 63.5 → 64, −31.75 → −32; errors 0, 0.5/127, 0.25/127;
        // ‖e‖ = √(0.3125)/127, ‖x‖ = √1.3125. Token 1 is on the grid: error 0.
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.5, -0.25, 127.0, -64.0, 3.0], [2, 3]),
            &device,
        );
        let errors = per_token_relative_error(x);
        let want = (0.3125f64).sqrt() / 127.0 / 1.3125f64.sqrt();
        assert!((errors[0] - want).abs() < 1e-6, "{} vs {want}", errors[0]);
        assert!(errors[1] < 1e-7);
    }
}
