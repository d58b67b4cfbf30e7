//! Straight-through estimator with an optional quantization warm-up.
//!
//! `ste(x, q, λ) = x + λ·(q − x).detach()`: the forward value is `(1−λ)·x + λ·q` and the gradient is the
//! identity. λ = 1 is BitDistill's STE; λ rising linearly from 0 to 1 is Hugging Face's "1.58-bit
//! fine-tuning" warm-up.

use burn::tensor::Tensor;

pub fn straight_through<const D: usize>(x: Tensor<D>, quantized: Tensor<D>, blend: f64) -> Tensor<D> {
    let step = (quantized - x.clone()).detach();
    if blend == 1.0 { x + step } else { x + step * blend }
}

/// λ at optimizer step `step` for a warm-up of `steps` steps (0 = none): `min(1, step / steps)`.
pub fn warmup_blend(step: usize, steps: usize) -> f64 {
    if steps == 0 {
        1.0
    } else {
        (step as f64 / steps as f64).min(1.0)
    }
}
