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
        times_transposed(x, self.weight.val())
    }
}

/// `x Wᵀ` for `x: [..., d_in]` and `W: [d_out, d_in]`, as one `[rows, d_in] × [d_in, d_out]` matmul.
///
/// The leading dims of x are folded into rows and `Wᵀ` stays a strided view: burn's `module::linear` may instead
/// broadcast the weight to x's rank (`[1, d_in, d_out]`), a reshape that makes the CPU backends copy the whole
/// transposed weight on every call (perf showed it in the cached decode: burn-flex `copy_2d_tiled`).
pub fn times_transposed<const D: usize>(x: Tensor<D>, weight: Tensor<2>) -> Tensor<D> {
    let dims = x.dims();
    let d_in = dims[D - 1];
    let rows = dims[..D - 1].iter().product::<usize>();
    let [d_out, _] = weight.dims();
    let mut out_dims = dims;
    out_dims[D - 1] = d_out;
    x.reshape([rows, d_in]).matmul(weight.transpose()).reshape(out_dims)
}
