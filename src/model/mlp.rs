//! SwiGLU feed-forward block.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::silu;

use super::projection::Projection;

/// `down(silu(gate(x)) ⊙ up(x))`.
#[derive(Module, Debug)]
pub struct Mlp {
    pub gate_proj: Projection,
    pub up_proj: Projection,
    pub down_proj: Projection,
}

impl Mlp {
    /// `[B, T, hidden] -> [B, T, hidden]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let gated = silu(self.gate_proj.forward(x.clone())) * self.up_proj.forward(x); // [B, T, mlp]
        self.down_proj.forward(gated)
    }
}
