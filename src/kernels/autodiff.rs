//! [`BitKernels`] under autodiff: the quantizers' straight-through estimators pass the gradient unchanged
//! (BitDistill §3.1), and the relation KL registers its analytic gradient (relation_kl_backward.wgsl).

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::BitKernels;
use super::cube::{RelationState, relation_kl_backward, relation_kl_forward};

/// A float tensor of the autodiff backend over wgpu (the same type for every checkpoint strategy).
type Tracked = FloatTensor<Autodiff<CubeBackend>>;

/// `ste(x) = x + (q(x) − x).detach()`: the forward value of the fused quantizer, the identity as gradient.
#[derive(Debug)]
struct StraightThrough;

impl Backward<CubeBackend, 1> for StraightThrough {
    type State = ();

    fn backward(self, ops: Ops<(), 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        unary::<CubeBackend, _>(ops.parents, ops.node, grads, |grad| grad);
    }
}

fn straight_through<C: CheckpointStrategy>(input: Tracked, quantize: impl FnOnce(CubeTensor) -> CubeTensor) -> Tracked {
    let node = input.node();
    StraightThrough
        .prepare::<C>([node])
        .compute_bound()
        .stateless(quantize(input.into_primitive()))
}

/// The student's gradient of the relation KL; teacher and mask are constants (the teacher is frozen).
#[derive(Debug)]
struct RelationKlBackward;

impl Backward<CubeBackend, 1> for RelationKlBackward {
    type State = RelationState;

    fn backward(self, ops: Ops<RelationState, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [student] = ops.parents;
        let upstream = grads.consume::<CubeBackend>(&ops.node);
        if let Some(student) = student {
            grads.register::<CubeBackend>(student.id, relation_kl_backward(&ops.state, upstream));
        }
    }
}

impl<C: CheckpointStrategy> BitKernels for Autodiff<CubeBackend, C> {
    fn absmean(weight: Tracked) -> Tracked {
        Tracked::new(CubeBackend::absmean(weight.into_primitive()))
    }

    fn ternary_ste(weight: Tracked, blend: f32) -> Tracked {
        straight_through::<C>(weight, |w| CubeBackend::ternary_ste(w, blend))
    }

    fn ternary_codes(weight: Tracked) -> CubeTensor {
        CubeBackend::ternary_codes(weight.into_primitive())
    }

    fn ternary_pack(weight: Tracked) -> CubeTensor {
        CubeBackend::ternary_pack(weight.into_primitive())
    }

    fn int8_ste(x: Tracked, blend: f32) -> Tracked {
        straight_through::<C>(x, |x| CubeBackend::int8_ste(x, blend))
    }

    fn int8_codes(x: Tracked) -> (CubeTensor, Tracked) {
        let (codes, scales) = CubeBackend::int8_codes(x.into_primitive());
        (codes, Tracked::new(scales))
    }

    fn relation_kl(
        student: Tracked,
        teacher: Tracked,
        mask: Tracked,
        heads: usize,
        scale: f32,
        causal: bool,
    ) -> Tracked {
        let node = student.node();
        let forward = |student: CubeTensor| {
            relation_kl_forward(
                student,
                teacher.into_primitive(),
                mask.into_primitive(),
                heads,
                scale,
                causal,
            )
        };
        match RelationKlBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (loss, state) = forward(student.into_primitive());
                prep.finish(state, loss)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(student.into_primitive()).0),
        }
    }

    fn ternary_matmul(
        x_codes: CubeTensor,
        x_scales: Tracked,
        packed: CubeTensor,
        delta: Tracked,
        in_features: usize,
    ) -> Tracked {
        Tracked::new(CubeBackend::ternary_matmul(
            x_codes,
            x_scales.into_primitive(),
            packed,
            delta.into_primitive(),
            in_features,
        ))
    }
}
