//! The WGSL files of `shaders/` as burn-wgpu kernels (burn's `template` feature): their placeholders, parameter
//! buffers, dispatch geometry and launches.

use burn::backend::wgpu::{CubeTensor, KernelSource, SourceKernel, SourceTemplate};
use burn::cubecl::prelude::KernelId;
use burn::cubecl::server::KernelArguments;
use burn::cubecl::{CubeCount, CubeDim};
use burn::tensor::{DType, Shape};

/// Invocations per workgroup of every shader.
pub const WORKGROUP: u32 = 256;
/// The most workgroups WebGPU guarantees along one dispatch axis; larger launches use a second axis.
const MAX_GROUPS_PER_AXIS: u32 = 65_535;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shader {
    ReduceSum,
    TernaryQuant,
    ActQuant,
    RelationKl,
    RelationKlMerge,
    RelationKlBackward,
    SumSplits,
    TernaryMatmul,
}

impl Shader {
    /// The WGSL, with the shared relation functions appended where a shader uses them.
    fn template(self) -> SourceTemplate {
        let template = SourceTemplate::new(self.text());
        match self {
            Self::RelationKl | Self::RelationKlBackward => {
                template.add_template(include_str!("../../shaders/relation_common.wgsl"))
            }
            _ => template,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::ReduceSum => include_str!("../../shaders/reduce_sum.wgsl"),
            Self::TernaryQuant => include_str!("../../shaders/ternary_quant.wgsl"),
            Self::ActQuant => include_str!("../../shaders/act_quant.wgsl"),
            Self::RelationKl => include_str!("../../shaders/relation_kl.wgsl"),
            Self::RelationKlMerge => include_str!("../../shaders/relation_kl_merge.wgsl"),
            Self::RelationKlBackward => include_str!("../../shaders/relation_kl_backward.wgsl"),
            Self::SumSplits => include_str!("../../shaders/sum_splits.wgsl"),
            Self::TernaryMatmul => include_str!("../../shaders/ternary_matmul.wgsl"),
        }
    }
}

/// A shader with its placeholders filled: `{{ workgroup }}` and, for the relation kernels, `{{ head_width }}`
/// (the private accumulator of the backward pass is sized by it).
#[derive(Debug)]
struct Instance {
    shader: Shader,
    head_width: u32,
}

impl KernelSource for Instance {
    fn source(&self) -> SourceTemplate {
        self.shader
            .template()
            .register("workgroup", WORKGROUP.to_string())
            .register("head_width", self.head_width.to_string())
    }

    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info((self.shader, WORKGROUP, self.head_width))
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// `groups` workgroups, folded onto a second axis past WebGPU's per-axis limit (the shaders index
/// `group.y · groups.x + group.x` and ignore the surplus).
pub fn grid(groups: usize) -> CubeCount {
    let groups = u32::try_from(groups.max(1)).expect("dispatch too large");
    let x = groups.min(MAX_GROUPS_PER_AXIS);
    CubeCount::Static(x, groups.div_ceil(x), 1)
}

/// Workgroups that cover `invocations`, one invocation each.
pub fn groups_for(invocations: usize) -> usize {
    invocations.div_ceil(WORKGROUP as usize)
}

/// An uninitialised contiguous tensor on `like`'s device.
pub fn empty(like: &CubeTensor, shape: impl Into<Shape>, dtype: DType) -> CubeTensor {
    let shape = shape.into();
    let handle = like.client.empty(shape.num_elements() * dtype.size());
    CubeTensor::new_contiguous(like.client.clone(), like.device.clone(), shape, handle, dtype)
}

/// Scalar parameters, as the `params: array<u32>` buffer the shaders read (floats by their bits).
#[derive(Default)]
pub struct Params(Vec<u32>);

impl Params {
    pub fn count(mut self, value: usize) -> Self {
        self.0
            .push(u32::try_from(value).expect("a size beyond u32 in a kernel parameter"));
        self
    }

    pub fn flag(self, value: bool) -> Self {
        self.count(value as usize)
    }

    pub fn float(mut self, value: f32) -> Self {
        self.0.push(value.to_bits());
        self
    }
}

/// Launches `shader` over `count` workgroups with `buffers` bound in order, then the parameter buffer.
pub fn launch(shader: Shader, head_width: usize, count: CubeCount, buffers: &[&CubeTensor], params: Params) {
    let client = &buffers[0].client;
    let params = client.create_from_slice(bytemuck::cast_slice(&params.0));
    let bindings = buffers
        .iter()
        .map(|tensor| tensor.handle.clone().binding())
        .chain(std::iter::once(params.binding()))
        .collect();
    let instance = Instance {
        shader,
        head_width: u32::try_from(head_width).expect("head width"),
    };
    client.launch(
        Box::new(SourceKernel::new(instance, CubeDim::new_1d(WORKGROUP))),
        count,
        KernelArguments::new().with_buffers(bindings),
    );
}
