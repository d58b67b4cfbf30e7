//! A projection of the model: full precision in the teacher, BitLinear in the student.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use super::bitlinear::BitLinear;
use super::linear::Linear;

#[derive(Module, Debug)]
pub enum Projection {
    Dense(Linear),
    Ternary(BitLinear),
}

impl Projection {
    /// `[..., d_in] -> [..., d_out]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Dense(linear) => linear.forward(x),
            Self::Ternary(bit) => bit.forward(x),
        }
    }

    /// The (latent) weight `[d_out, d_in]`.
    pub fn weight(&self) -> &Param<Tensor<2>> {
        match self {
            Self::Dense(linear) => &linear.weight,
            Self::Ternary(bit) => &bit.weight,
        }
    }
}
