//! The WGSL kernels as a burn backend extension of the cubecl (wgpu) backend, and their entry points.

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Dispatch, DispatchDevice, backend_extension};
use burn::tensor::{Device, Int, Tensor};

/// Whether `device` can run the WGSL kernels: burn's cubecl (wgpu) backend, with or without autodiff, compiling
/// through WGSL (not in a `spirv` build).
pub fn runs_kernels(device: &Device) -> bool {
    !cfg!(feature = "spirv") && matches!(device.as_dispatch().clone().inner(), DispatchDevice::Cube(_))
}

/// The operations the WGSL kernels provide, as a burn backend extension. Shapes: weights `[rows, cols]`,
/// activations `[..., features]` (one token a row), relation states `[batch, len, width]`, masks `[batch, len]`.
#[backend_extension(Cube, Autodiff)]
pub trait BitKernels: burn::backend::Backend {
    /// `Δ = max(mean|W|, 1e-5)`, `[1]`, summed in a fixed order.
    fn absmean(weight: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `W + λ·(Δ·RoundClip(W·(1/Δ), −1, 1) − W)`, gradient the identity.
    fn ternary_ste(weight: FloatTensor<Self>, blend: f32) -> FloatTensor<Self>;
    /// The ternary codes (i32) under this kernel's Δ.
    fn ternary_codes(weight: FloatTensor<Self>) -> IntTensor<Self>;
    /// The codes packed 16 to a u32 in the `packed2` layout, `[rows, ⌈cols/128⌉·8]`.
    fn ternary_pack(weight: FloatTensor<Self>) -> IntTensor<Self>;
    /// `x + λ·(int8(x) − x)` per token, gradient the identity.
    fn int8_ste(x: FloatTensor<Self>, blend: f32) -> FloatTensor<Self>;
    /// The int8 codes (i32) and per-token scales `[..., 1]`.
    fn int8_codes(x: FloatTensor<Self>) -> (IntTensor<Self>, FloatTensor<Self>);
    /// The masked mean relation KL `[1]` of `heads` relation heads (of a width that is a multiple of 4) with
    /// score scale `scale`.
    fn relation_kl(
        student: FloatTensor<Self>,
        teacher: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        heads: usize,
        scale: f32,
        causal: bool,
    ) -> FloatTensor<Self>;
    /// `x · W_qᵀ` from int8 activation codes and scales and `packed2` weight words with their Δ `[1]`.
    fn ternary_matmul(
        x_codes: IntTensor<Self>,
        x_scales: FloatTensor<Self>,
        packed: IntTensor<Self>,
        delta: FloatTensor<Self>,
        in_features: usize,
    ) -> FloatTensor<Self>;
}

/// The fused kernels' entry points, for tensors on a device where [`runs_kernels`] holds.
pub mod fused {
    use super::*;

    pub fn ternary_ste(weight: Tensor<2>, blend: f64) -> Tensor<2> {
        Tensor::from_dispatch(Dispatch::ternary_ste(weight.into_dispatch(), blend as f32))
    }

    pub fn int8_ste<const D: usize>(x: Tensor<D>, blend: f64) -> Tensor<D> {
        Tensor::from_dispatch(Dispatch::int8_ste(x.into_dispatch(), blend as f32))
    }

    pub fn absmean(weight: Tensor<2>) -> Tensor<1> {
        Tensor::from_dispatch(Dispatch::absmean(weight.into_dispatch()))
    }

    pub fn ternary_codes(weight: Tensor<2>) -> Tensor<2, Int> {
        Tensor::from_dispatch(Dispatch::ternary_codes(weight.into_dispatch()))
    }

    pub fn ternary_pack(weight: Tensor<2>) -> Tensor<2, Int> {
        Tensor::from_dispatch(Dispatch::ternary_pack(weight.into_dispatch()))
    }

    pub fn int8_codes<const D: usize>(x: Tensor<D>) -> (Tensor<D, Int>, Tensor<D>) {
        let (codes, scales) = Dispatch::int8_codes(x.into_dispatch());
        (Tensor::from_dispatch(codes), Tensor::from_dispatch(scales))
    }

    pub fn relation_kl(
        student: Tensor<3>,
        teacher: Tensor<3>,
        mask: Tensor<2>,
        heads: usize,
        scale: f64,
        causal: bool,
    ) -> Tensor<1> {
        Tensor::from_dispatch(Dispatch::relation_kl(
            student.into_dispatch(),
            teacher.into_dispatch(),
            mask.into_dispatch(),
            heads,
            scale as f32,
            causal,
        ))
    }

    pub fn ternary_matmul(
        x_codes: Tensor<2, Int>,
        x_scales: Tensor<2>,
        packed: Tensor<2, Int>,
        delta: Tensor<1>,
    ) -> Tensor<2> {
        let in_features = x_codes.dims()[1];
        Tensor::from_dispatch(Dispatch::ternary_matmul(
            x_codes.into_dispatch(),
            x_scales.into_dispatch(),
            packed.into_dispatch(),
            delta.into_dispatch(),
            in_features,
        ))
    }
}
