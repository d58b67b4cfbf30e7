//! [`BitKernels`] on burn's cubecl backend (wgpu): each operation launches the WGSL of `shaders/`.

use burn::backend::ops::FloatTensorOps;
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::tensor::{DType, Shape};

use super::BitKernels;
use super::shader::{Params, Shader, WORKGROUP, empty, grid, groups_for, launch};
use crate::quant::WEIGHT_SCALE_FLOOR;
use crate::ternary::pack::BLOCK;

/// Elements one workgroup sums in the first pass of [`sum`]: enough to keep the partials few.
const SUM_CHUNK: usize = 16 * WORKGROUP as usize;
/// Invocations the relation kernels aim for, splitting the keys when batch · heads · len is fewer: enough to keep
/// a large GPU busy (an H100 runs 132 SMs × 2048 threads).
const RELATION_INVOCATIONS: usize = 1 << 17;
/// Fewest keys in a split, and most splits (each split of the backward pass holds a gradient-sized buffer).
const MIN_KEYS_PER_SPLIT: usize = 32;
const MAX_SPLITS: usize = 16;
/// u32 words of 16 two-bit codes in one `packed2` block of [`BLOCK`] columns.
const WORDS_PER_BLOCK: usize = BLOCK / 16;

/// What [`ternary_quant`] writes (the shader's `mode`).
#[derive(Clone, Copy)]
enum TernaryOutput {
    StraightThrough(f32),
    Codes,
    Packed,
}

/// `shape` with its last dimension replaced by `size`.
fn with_last_dim(shape: &Shape, size: usize) -> Shape {
    let mut shape = shape.clone();
    let last = shape.num_dims() - 1;
    shape[last] = size;
    shape
}

/// Σ values (or Σ|values|) over the first `len` elements, `[1]`, in a fixed order (reduce_sum.wgsl): each
/// workgroup sums a chunk, then one workgroup sums those partials (already absolute, so summed as they are).
fn sum(values: &CubeTensor, len: usize, absolute: bool) -> CubeTensor {
    let pass = |input: &CubeTensor, len: usize, chunk: usize, absolute: bool| {
        let groups = len.div_ceil(chunk).max(1);
        let output = empty(input, [groups], DType::F32);
        let params = Params::default().count(len).count(chunk).flag(absolute);
        launch(Shader::ReduceSum, 0, grid(groups), &[input, &output], params);
        (output, groups)
    };
    let (partials, count) = pass(values, len, SUM_CHUNK, absolute);
    pass(&partials, count, count, false).0
}

fn ternary_quant(weight: CubeTensor, output: TernaryOutput) -> CubeTensor {
    assert_eq!(weight.dtype, DType::F32, "the fused kernels take f32 weights");
    let weight = into_contiguous(weight);
    let shape = weight.meta.shape().clone();
    let len = shape.num_elements();
    let cols = shape[shape.num_dims() - 1];
    let rows = len / cols;
    let abs_sum = sum(&weight, len, true);
    let words_per_row = cols.div_ceil(BLOCK) * WORDS_PER_BLOCK;
    let (mode, blend, out, invocations) = match output {
        TernaryOutput::StraightThrough(blend) => (0, blend, empty(&weight, shape, DType::F32), len),
        TernaryOutput::Codes => (1, 1.0, empty(&weight, shape, DType::I32), len),
        TernaryOutput::Packed => {
            let packed = empty(&weight, [rows, words_per_row], DType::U32);
            (2, 1.0, packed, rows * words_per_row)
        }
    };
    let params = Params::default()
        .count(len)
        .count(cols)
        .count(mode)
        .float(blend)
        .count(words_per_row);
    launch(
        Shader::TernaryQuant,
        0,
        grid(groups_for(invocations)),
        &[&weight, &abs_sum, &out],
        params,
    );
    out
}

/// act_quant.wgsl over `x` viewed as `[tokens, features]`; returns the output and the scales `[..., 1]`.
fn act_quant(x: CubeTensor, codes: bool, blend: f32) -> (CubeTensor, CubeTensor) {
    assert_eq!(x.dtype, DType::F32, "the fused kernels take f32 activations");
    let x = into_contiguous(x);
    let shape = x.meta.shape().clone();
    let features = shape[shape.num_dims() - 1];
    let tokens = shape.num_elements() / features;
    let scales = empty(&x, with_last_dim(&shape, 1), DType::F32);
    let out = empty(&x, shape, if codes { DType::I32 } else { DType::F32 });
    let params = Params::default().count(tokens).count(features).flag(codes).float(blend);
    launch(Shader::ActQuant, 0, grid(tokens), &[&x, &out, &scales], params);
    (out, scales)
}

/// The shapes and settings of one relation-KL call, and the forward results its gradient needs.
#[derive(Clone, Debug)]
pub struct RelationState {
    student: CubeTensor,
    teacher: CubeTensor,
    mask: CubeTensor,
    /// relation_kl.wgsl's output: per-row weighted KL, then the student and teacher row log-sum-exps.
    rows: CubeTensor,
    /// `heads · max(Σmask, 1)`, `[1]`: the loss's denominator.
    denominator: CubeTensor,
    heads: usize,
    scale: f32,
    causal: bool,
    /// The keys are split into `splits` ranges of `keys_per_split`, one invocation each per query row.
    splits: usize,
    keys_per_split: usize,
}

/// (splits, keys per split) for `rows` query rows over `len` keys: a function of the shapes alone, so the
/// summation order (and the result) never changes between runs.
fn key_splits(rows: usize, len: usize) -> (usize, usize) {
    let splits = RELATION_INVOCATIONS
        .div_ceil(rows)
        .min(len.div_ceil(MIN_KEYS_PER_SPLIT))
        .clamp(1, MAX_SPLITS);
    let keys_per_split = len.div_ceil(splits);
    (len.div_ceil(keys_per_split), keys_per_split)
}

impl RelationState {
    fn params(&self) -> Params {
        let [batch, len, width] = self.student.meta.shape().dims();
        Params::default()
            .count(batch)
            .count(len)
            .count(width)
            .count(self.heads)
            .flag(self.causal)
            .float(self.scale)
            .count(self.splits)
            .count(self.keys_per_split)
    }

    fn head_width(&self) -> usize {
        self.student.meta.shape()[2] / self.heads
    }

    fn row_count(&self) -> usize {
        let [batch, len, _] = self.student.meta.shape().dims();
        batch * self.heads * len
    }
}

/// The relation KL `[1]` and the state its backward pass reads.
pub fn relation_kl_forward(
    student: CubeTensor,
    teacher: CubeTensor,
    mask: CubeTensor,
    heads: usize,
    scale: f32,
    causal: bool,
) -> (CubeTensor, RelationState) {
    for (name, tensor) in [("student", &student), ("teacher", &teacher), ("mask", &mask)] {
        assert_eq!(
            tensor.dtype,
            DType::F32,
            "the fused relation kernel takes f32 {name} tensors"
        );
    }
    assert_eq!(
        student.meta.shape(),
        teacher.meta.shape(),
        "student and teacher states differ in shape"
    );
    assert!(
        (student.meta.shape()[2] / heads).is_multiple_of(4),
        "the relation kernel needs a head width that is a multiple of 4"
    );
    let (student, teacher, mask) = (
        into_contiguous(student),
        into_contiguous(teacher),
        into_contiguous(mask),
    );
    let [batch, len, _] = student.meta.shape().dims();
    let rows_total = batch * heads * len;
    let (splits, keys_per_split) = key_splits(rows_total, len);
    let denominator = CubeBackend::float_mul_scalar(
        CubeBackend::float_clamp_min(sum(&mask, batch * len, false), 1.0.into()),
        (heads as f32).into(),
    );
    let state = RelationState {
        denominator,
        rows: empty(&student, [3, rows_total], DType::F32),
        student,
        teacher,
        mask,
        heads,
        scale,
        causal,
        splits,
        keys_per_split,
    };
    let partials = empty(&state.student, [5, splits * rows_total], DType::F32);
    launch(
        Shader::RelationKl,
        state.head_width(),
        grid(groups_for(splits * rows_total)),
        &[&state.student, &state.teacher, &state.mask, &partials],
        state.params(),
    );
    let merge = Params::default()
        .count(rows_total)
        .count(len)
        .count(heads)
        .count(splits);
    launch(
        Shader::RelationKlMerge,
        0,
        grid(groups_for(rows_total)),
        &[&partials, &state.mask, &state.rows],
        merge,
    );
    let loss = CubeBackend::float_div(sum(&state.rows, rows_total, false), state.denominator.clone());
    (loss, state)
}

/// ∂loss/∂student for the upstream gradient `upstream` `[1]` (relation_kl_backward.wgsl).
pub fn relation_kl_backward(state: &RelationState, upstream: CubeTensor) -> CubeTensor {
    let coefficient = into_contiguous(CubeBackend::float_div(upstream, state.denominator.clone()));
    let shape = state.student.meta.shape().clone();
    let len = shape.num_elements();
    let mut split_shape = shape.clone();
    split_shape[0] *= state.splits;
    let partial = empty(&state.student, split_shape, DType::F32);
    launch(
        Shader::RelationKlBackward,
        state.head_width(),
        grid(groups_for(state.splits * state.row_count())),
        &[
            &state.student,
            &state.teacher,
            &state.mask,
            &state.rows,
            &coefficient,
            &partial,
        ],
        state.params(),
    );
    if state.splits == 1 {
        return partial;
    }
    let grad = empty(&state.student, shape, DType::F32);
    let params = Params::default().count(len).count(state.splits);
    launch(Shader::SumSplits, 0, grid(groups_for(len)), &[&partial, &grad], params);
    grad
}

impl BitKernels for CubeBackend {
    fn absmean(weight: CubeTensor) -> CubeTensor {
        let weight = into_contiguous(weight);
        let len = weight.meta.shape().num_elements();
        let mean = CubeBackend::float_div_scalar(sum(&weight, len, true), (len as f32).into());
        CubeBackend::float_clamp_min(mean, (WEIGHT_SCALE_FLOOR as f32).into())
    }

    fn ternary_ste(weight: CubeTensor, blend: f32) -> CubeTensor {
        ternary_quant(weight, TernaryOutput::StraightThrough(blend))
    }

    fn ternary_codes(weight: CubeTensor) -> CubeTensor {
        ternary_quant(weight, TernaryOutput::Codes)
    }

    fn ternary_pack(weight: CubeTensor) -> CubeTensor {
        ternary_quant(weight, TernaryOutput::Packed)
    }

    fn int8_ste(x: CubeTensor, blend: f32) -> CubeTensor {
        act_quant(x, false, blend).0
    }

    fn int8_codes(x: CubeTensor) -> (CubeTensor, CubeTensor) {
        act_quant(x, true, 1.0)
    }

    fn relation_kl(
        student: CubeTensor,
        teacher: CubeTensor,
        mask: CubeTensor,
        heads: usize,
        scale: f32,
        causal: bool,
    ) -> CubeTensor {
        relation_kl_forward(student, teacher, mask, heads, scale, causal).0
    }

    fn ternary_matmul(
        x_codes: CubeTensor,
        x_scales: CubeTensor,
        packed: CubeTensor,
        delta: CubeTensor,
        in_features: usize,
    ) -> CubeTensor {
        let (x_codes, x_scales, packed, delta) = (
            into_contiguous(x_codes),
            into_contiguous(x_scales),
            into_contiguous(packed),
            into_contiguous(delta),
        );
        let x_shape = x_codes.meta.shape().clone();
        let tokens = x_shape.num_elements() / in_features;
        let [out_features, words_per_row] = packed.meta.shape().dims();
        assert_eq!(x_shape[x_shape.num_dims() - 1], in_features, "activation width");
        assert_eq!(
            words_per_row,
            in_features.div_ceil(BLOCK) * WORDS_PER_BLOCK,
            "packed row width"
        );
        let y = empty(&x_codes, with_last_dim(&x_shape, out_features), DType::F32);
        let params = Params::default()
            .count(tokens)
            .count(out_features)
            .count(in_features)
            .count(words_per_row);
        // One dispatch row per token: WebGPU guarantees 65,535 of them.
        assert!(
            tokens <= 65_535,
            "the ternary matmul takes at most 65,535 tokens a call, not {tokens}"
        );
        let count = burn::cubecl::CubeCount::Static(
            u32::try_from(out_features.div_ceil(WORKGROUP as usize)).expect("output width"),
            tokens as u32,
            1,
        );
        launch(
            Shader::TernaryMatmul,
            0,
            count,
            &[&x_codes, &x_scales, &packed, &delta, &y],
            params,
        );
        y
    }
}

#[cfg(test)]
mod tests {
    use super::key_splits;

    #[test]
    fn keys_split_only_when_rows_are_few_and_keys_many() {
        assert_eq!(key_splits(10, 5), (1, 5));
        // 70 keys: at most ⌈70/32⌉ = 3 splits, of 24, 24 and 22 keys.
        assert_eq!(key_splits(560, 70), (3, 24));
        // T = 512 with 16 relation heads: 8,192 rows, 16 splits of 32 keys = 131,072 invocations.
        assert_eq!(key_splits(8192, 512), (16, 32));
        assert_eq!(key_splits(32_768, 2048), (4, 512));
        assert_eq!(key_splits(1 << 20, 2048), (1, 2048));
    }
}
