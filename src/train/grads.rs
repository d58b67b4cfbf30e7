//! Global gradient norm and clipping over all parameters (as `torch.nn.utils.clip_grad_norm_`), which
//! burn's per-parameter clipping does not do.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: f64,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            self.sum += grad.square().sum().into_scalar::<f32>() as f64;
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad * self.factor);
        }
    }
}

/// The global L2 norm of `grads`.
pub fn global_norm<M: Module>(model: &M, grads: &GradientsParams) -> f64 {
    let mut norm = SquaredNorm { grads, sum: 0.0 };
    model.visit(&mut norm);
    norm.sum.sqrt()
}

/// Scales `grads` so that their global norm is at most `max_norm` (0 = no clipping); returns the norm before.
pub fn clip_global_norm<M: Module>(model: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let norm = global_norm(model, grads);
    if max_norm > 0.0 && norm > max_norm {
        model.visit(&mut Scale {
            grads,
            factor: max_norm / (norm + 1e-6),
        });
    }
    norm
}
