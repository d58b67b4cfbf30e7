//! Fused WGSL kernels (`shaders/`) for BitDistill's hot spots on the wgpu backend: ternary weight quantization,
//! int8 activation quantization, the streaming relation KL with its gradient, and the packed ternary matmul.
//!
//! Each kernel computes the same function as a tensor-op reference ([`crate::quant`],
//! [`crate::distill::reference_relation_kl`], [`reference_ternary_matmul`]); `bitdistill bench kernels` and
//! tests/kernels.rs hold them side by side. They plug into burn as a backend extension ([`BitKernels`]) of the
//! cubecl backend, with backward passes registered for autodiff; other backends keep the reference path.

// The kernels plug into burn-wgpu, which the browser build leaves out: there every computation takes the
// reference path.
#[cfg(not(target_arch = "wasm32"))]
mod autodiff;
#[cfg(not(target_arch = "wasm32"))]
mod cube;
#[cfg(not(target_arch = "wasm32"))]
mod extension;
#[cfg(not(target_arch = "wasm32"))]
mod shader;

#[cfg(not(target_arch = "wasm32"))]
pub use extension::{BitKernels, fused};

use burn::tensor::{DType, Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::quant::{int8_fake_quant, straight_through, ternary_fake_quant};

/// Which implementation computes the quantizers and the relation loss (`kernels` in the run file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kernels {
    /// The WGSL kernels where the device is wgpu and the tensors f32; the reference elsewhere.
    #[default]
    Fused,
    /// Composed tensor operations everywhere.
    Reference,
}

impl Kernels {
    /// Whether a computation on `tensor` takes the fused path.
    pub fn fuses<const D: usize>(self, tensor: &Tensor<D>) -> bool {
        self == Self::Fused && tensor.dtype() == DType::F32 && runs_kernels(&tensor.device())
    }
}

/// Whether `device` can run the WGSL kernels: burn's cubecl (wgpu) backend, with or without autodiff, compiling
/// through WGSL (not in a `spirv` build). Never in the browser build, which has no burn-wgpu (README, "Web").
pub fn runs_kernels(device: &Device) -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    return extension::runs_kernels(device);
    #[cfg(target_arch = "wasm32")]
    {
        let _ = device;
        false
    }
}

/// BitLinear's weight quantizer with its straight-through estimator and warm-up `blend` λ.
pub fn ternary_ste(weight: Tensor<2>, blend: f64, kernels: Kernels) -> Tensor<2> {
    #[cfg(not(target_arch = "wasm32"))]
    if kernels.fuses(&weight) {
        return fused::ternary_ste(weight, blend);
    }
    let _ = kernels;
    straight_through(weight.clone(), ternary_fake_quant(weight), blend)
}

/// BitLinear's activation quantizer with its straight-through estimator and warm-up `blend` λ.
pub fn int8_ste<const D: usize>(x: Tensor<D>, blend: f64, kernels: Kernels) -> Tensor<D> {
    #[cfg(not(target_arch = "wasm32"))]
    if kernels.fuses(&x) {
        return fused::int8_ste(x, blend);
    }
    let _ = kernels;
    straight_through(x.clone(), int8_fake_quant(x), blend)
}

/// The reference of `fused::ternary_matmul`: `(codes_x · codes_Wᵀ) · Δ / s`, exact in f32 while
/// `127 · in_features < 2²⁴`.
pub fn reference_ternary_matmul(
    x_codes: Tensor<2, Int>,
    x_scales: Tensor<2>,
    w_codes: Tensor<2, Int>,
    delta: Tensor<1>,
) -> Tensor<2> {
    x_codes.float().matmul(w_codes.float().transpose()) * delta.unsqueeze::<2>() / x_scales
}
