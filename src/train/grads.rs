//! Global gradient norm and clipping over all parameters (as `torch.nn.utils.clip_grad_norm_`), which
//! burn's per-parameter clipping does not do.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::backend::read_scalar;
use crate::error::Result;

/// Sums the squared gradients on the device, so that the norm costs one read-back.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = grad.square().sum();
            self.sum = Some(match self.sum.take() {
                Some(sum) => sum + squares,
                None => squares,
            });
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
pub fn global_norm<M: Module>(model: &M, grads: &GradientsParams) -> Result<f64> {
    let mut norm = SquaredNorm { grads, sum: None };
    model.visit(&mut norm);
    Ok(norm.sum.map(read_scalar).transpose()?.unwrap_or(0.0).sqrt())
}

/// Scales `grads` so that their global norm is at most `max_norm` (0 = no clipping); returns the norm before.
pub fn clip_global_norm<M: Module>(model: &M, grads: &mut GradientsParams, max_norm: f64) -> Result<f64> {
    let norm = global_norm(model, grads)?;
    if max_norm > 0.0 && norm > max_norm {
        model.visit(&mut Scale {
            grads,
            factor: max_norm / (norm + 1e-6),
        });
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use crate::model::Linear;
    use burn::tensor::TensorData;

    #[test]
    fn norm_spans_all_parameters_and_clipping_rescales_to_the_bound() {
        let device = BackendKind::Flex.device().autodiff();
        let weight = |values: Vec<f32>| Tensor::<2>::from_data(TensorData::new(values, [1, 2]), &device).require_grad();
        let model = vec![Linear::new(weight(vec![1.0, 1.0])), Linear::new(weight(vec![1.0, 1.0]))];
        // d/dW of Σ c ⊙ W is c: gradients [3, 0] and [0, 4], global norm 5.
        let c = |values: Vec<f32>| Tensor::<2>::from_data(TensorData::new(values, [1, 2]), &device);
        let loss =
            (model[0].weight.val() * c(vec![3.0, 0.0])).sum() + (model[1].weight.val() * c(vec![0.0, 4.0])).sum();
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        assert!((global_norm(&model, &grads).unwrap() - 5.0).abs() < 1e-6);
        assert!((clip_global_norm(&model, &mut grads, 2.5).unwrap() - 5.0).abs() < 1e-6);
        assert!((global_norm(&model, &grads).unwrap() - 2.5).abs() < 1e-5);
        let first = grads
            .get::<2>(model[0].weight.id)
            .unwrap()
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!((first[0] - 1.5).abs() < 1e-5 && first[1] == 0.0);
    }
}
