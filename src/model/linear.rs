//! A bias-free linear projection stored as Hugging Face stores it.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

/// `y = x Wᵀ` with `W: [d_out, d_in]`, the layout of every `*_proj.weight` in a checkpoint.
#[derive(Module, Debug)]
pub struct Linear {
    /// `[d_out, d_in]`.
    pub weight: Param<Tensor<2>>,
    /// `Wᵀ` laid out for inference ([`Linear::freeze`]); `None` while the weight may train.
    #[module(skip)]
    pub frozen: Option<Tensor<2>>,
}

impl Linear {
    /// Wraps a `[d_out, d_in]` weight.
    pub fn new(weight: Tensor<2>) -> Self {
        Self {
            weight: Param::from_tensor(weight),
            frozen: None,
        }
    }

    /// For inference: keeps `Wᵀ` contiguous ([`contiguous_transpose`]); the forward result is unchanged.
    pub fn freeze(&mut self) {
        self.frozen = Some(contiguous_transpose(self.weight.val()));
    }

    /// `[..., d_in] -> [..., d_out]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match &self.frozen {
            Some(transposed) => times(x, transposed.clone()),
            None => times_transposed(x, self.weight.val()),
        }
    }
}

/// `Wᵀ` `[d_in, d_out]` of `W: [d_out, d_in]`, stored contiguously: an inference copy of a frozen weight.
/// burn's CPU matmul (the `gemm` crate) repacks a transposed view on every call: for the bundled teacher's
/// 8000 × 256 head, 1.9 ms at 2-8 rows against 0.2 ms from this layout (a microbenchmark on the 2-core VM,
/// 2026-12-06), and batched decoding multiplies a few rows at a time.
pub fn contiguous_transpose(weight: Tensor<2>) -> Tensor<2> {
    let device = weight.device();
    Tensor::from_data(weight.transpose().into_data(), &device)
}

/// `x W` for `x: [..., d_in]` and `W: [d_in, d_out]`, as one `[rows, d_in] × [d_in, d_out]` matmul.
pub fn times<const D: usize>(x: Tensor<D>, weight: Tensor<2>) -> Tensor<D> {
    let dims = x.dims();
    let d_in = dims[D - 1];
    let rows = dims[..D - 1].iter().product::<usize>();
    let [_, d_out] = weight.dims();
    let mut out_dims = dims;
    out_dims[D - 1] = d_out;
    x.reshape([rows, d_in]).matmul(weight).reshape(out_dims)
}

/// `x Wᵀ` for `x: [..., d_in]` and `W: [d_out, d_in]`, as one `[rows, d_in] × [d_in, d_out]` matmul.
///
/// The leading dims of x are folded into rows and `Wᵀ` stays a strided view: burn's `module::linear` may instead
/// broadcast the weight to x's rank (`[1, d_in, d_out]`), a reshape that makes the CPU backends copy the whole
/// transposed weight on every call (perf showed it in the cached decode: burn-flex `copy_2d_tiled`).
pub fn times_transposed<const D: usize>(x: Tensor<D>, weight: Tensor<2>) -> Tensor<D> {
    times(x, weight.transpose())
}
