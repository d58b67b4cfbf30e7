//! A bias-free linear projection stored as Hugging Face stores it.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

/// `y = x Wᵀ` with `W: [d_out, d_in]`, the layout of every `*_proj.weight` in a checkpoint.
#[derive(Module, Debug)]
pub struct Linear {
    /// `[d_out, d_in]`.
    pub weight: Param<Tensor<2>>,
}

impl Linear {
    /// Wraps a `[d_out, d_in]` weight.
    pub fn new(weight: Tensor<2>) -> Self {
        Self {
            weight: Param::from_tensor(weight),
        }
    }

    /// `[..., d_in] -> [..., d_out]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        burn::tensor::module::linear(x, self.weight.val().transpose(), None)
    }
}
