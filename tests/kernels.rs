//! The WGSL kernels of shaders/ against their tensor-op references, on the wgpu backend (lavapipe in CI):
//! exact codes, exact integer matmul, the relation KL and its gradient within 1e-5 relative, identity gradients
//! of the straight-through quantizers, and bit-identical repeats. Shapes include sizes that are not multiples
//! of the workgroup (256) or of the packing block (128).

mod common;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use bitdistill::data::BatchTensors;
use bitdistill::distill::{RelationKind, RelationOptions, RelationReduction, relation_kl};
use bitdistill::kernels::{Kernels, fused, int8_ste, reference_ternary_matmul, ternary_ste};
use bitdistill::model::{Probes, Projection, SublnPlacement};
use bitdistill::quant::{int8_codes, int8_fake_quant, straight_through, ternary_codes};
use bitdistill::ternary::pack::pack_kernel;
use bitdistill::train::Stage3Section;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{fixture_dir, fixture_student, relative_l2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn device() -> Device {
    BackendKind::Wgpu.device()
}

fn random<const D: usize>(shape: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
    let mut rng = StdRng::seed_from_u64(seed);
    let len = shape.iter().product();
    // Sums of uniforms: roughly normal, with some exact zeros and ties to exercise rounding.
    let values: Vec<f32> = (0..len)
        .map(|i| match i % 97 {
            0 => 0.0,
            _ => (0..4).map(|_| rng.random::<f32>() - 0.5).sum(),
        })
        .collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn ints<const D: usize>(t: Tensor<D, Int>) -> Vec<i32> {
    t.into_data().try_to_vec::<i32>().unwrap()
}

/// Equal element for element; on failure, says how many differ and shows the first (not the whole vectors).
fn assert_same<T: PartialEq + std::fmt::Debug>(got: &[T], want: &[T], label: &str) {
    assert_eq!(got.len(), want.len(), "{label}: lengths");
    let differing: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
    if let Some(&i) = differing.first() {
        panic!(
            "{label}: {} of {} differ; first at {i}: {:?} vs {:?}",
            differing.len(),
            got.len(),
            got[i],
            want[i]
        );
    }
}

/// max |a − b| / max |b|.
fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs() as f64)).max(1e-30);
    a.iter().zip(b).fold(0f64, |m, (x, y)| m.max((x - y).abs() as f64)) / scale
}

const WEIGHT_SHAPES: [[usize; 2]; 4] = [[3, 5], [17, 300], [64, 257], [130, 1000]];

#[test]
fn ternary_scale_codes_and_packing_equal_the_reference() {
    let device = device();
    for (seed, shape) in WEIGHT_SHAPES.into_iter().enumerate() {
        let w = random(shape, seed as u64, &device);
        let values = floats(w.clone());
        let exact = values.iter().map(|v| v.abs() as f64).sum::<f64>() / values.len() as f64;
        let delta = fused::absmean(w.clone());
        let delta_value = floats(delta.clone())[0] as f64;
        assert!(
            (delta_value - exact).abs() <= 1e-6 * exact,
            "{shape:?}: Δ {delta_value} vs {exact}"
        );

        // The same Δ on both sides: the codes must agree everywhere, boundaries included.
        let reference: Vec<i32> = floats(ternary_codes(w.clone(), delta.clone()))
            .iter()
            .map(|&c| c as i32)
            .collect();
        assert_same(
            &ints(fused::ternary_codes(w.clone())),
            &reference,
            &format!("codes {shape:?}"),
        );

        let codes: Vec<i8> = reference.iter().map(|&c| c as i8).collect();
        let words = fused::ternary_pack(w).into_data().try_to_vec::<u32>().unwrap();
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_same(
            &bytes,
            &pack_kernel(&codes, shape[0], shape[1]),
            &format!("packed {shape:?}"),
        );
    }
}

#[test]
fn kernel_codes_at_and_around_half_delta_are_the_official_ones() {
    let device = device();
    let (weights, expected) = common::threshold_weights();
    let w = Tensor::<2>::from_data(TensorData::new(weights, [2, 8]), &device);
    assert_eq!(floats(fused::absmean(w.clone())), vec![0.25]);
    let expected_i32: Vec<i32> = expected.iter().map(|&c| c as i32).collect();
    assert_same(&ints(fused::ternary_codes(w.clone())), &expected_i32, "codes");
    let words = fused::ternary_pack(w.clone()).into_data().try_to_vec::<u32>().unwrap();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_same(&bytes, &pack_kernel(&expected, 2, 8), "packed");
    let dequantized: Vec<f32> = expected.iter().map(|&c| 0.25 * c as f32).collect();
    assert_same(
        &floats(ternary_ste(w, 1.0, Kernels::Fused)),
        &dequantized,
        "STE forward",
    );
}

#[test]
fn ternary_straight_through_equals_the_reference_and_passes_gradients_unchanged() {
    let device = device().autodiff();
    for (seed, shape) in WEIGHT_SHAPES.into_iter().enumerate() {
        for blend in [1.0, 0.3] {
            let w = random(shape, 10 + seed as u64, &device).require_grad();
            let upstream = random(shape, 20 + seed as u64, &device);
            let delta = fused::absmean(w.clone().detach());
            let quantized = ternary_codes(w.clone().detach(), delta.clone()) * delta.unsqueeze::<2>();
            let reference = straight_through(w.clone(), quantized, blend);
            let fused = ternary_ste(w.clone(), blend, Kernels::Fused);
            // The shader compiler may fold w + (q − w) to q: equal up to that last rounding.
            let error = relative_error(&floats(fused.clone().detach()), &floats(reference.detach()));
            assert!(error <= 1e-6, "{shape:?} λ {blend}: relative error {error:e}");

            let grads = (fused * upstream.clone()).sum().backward();
            assert_same(&floats(w.grad(&grads).unwrap()), &floats(upstream), "identity gradient");
        }
    }
}

#[test]
fn int8_codes_scales_and_straight_through_equal_the_reference() {
    let device = device().autodiff();
    for (seed, shape) in [[1, 1, 7], [1, 5, 300], [3, 4, 513]].into_iter().enumerate() {
        let mut x = random(shape, 30 + seed as u64, &device);
        // An all-zero token keeps the finite scale 127/ε.
        x = x.slice_assign([0..1, 0..1, 0..shape[2]], Tensor::zeros([1, 1, shape[2]], &device));
        let (codes, scales) = fused::int8_codes(x.clone());
        let (reference_codes, reference_scales) = int8_codes(x.clone());
        let reference_codes: Vec<i32> = floats(reference_codes).iter().map(|&c| c as i32).collect();
        assert_same(&ints(codes), &reference_codes, &format!("int8 codes {shape:?}"));
        assert_same(&floats(scales), &floats(reference_scales), &format!("scales {shape:?}"));

        for blend in [1.0, 0.6] {
            let x = x.clone().require_grad();
            let fused = int8_ste(x.clone(), blend, Kernels::Fused);
            let reference = straight_through(x.clone(), int8_fake_quant(x.clone().detach()), blend);
            let error = relative_error(&floats(fused.clone().detach()), &floats(reference.detach()));
            assert!(error <= 1e-6, "{shape:?} λ {blend}: relative error {error:e}");
            let upstream = random(shape, 40 + seed as u64, &device);
            let grads = (fused * upstream.clone()).sum().backward();
            assert_same(&floats(x.grad(&grads).unwrap()), &floats(upstream), "identity gradient");
        }
    }
}

/// Padding at the end of the second sequence, and a hole in the middle of the first.
fn padding_mask(batch: usize, len: usize, device: &Device) -> Tensor<2> {
    let values: Vec<f32> = (0..batch * len)
        .map(|i| {
            let (b, t) = (i / len, i % len);
            let padded = (b == 1 && t + 3 >= len) || (b == 0 && len > 4 && t == len / 2);
            if padded { 0.0 } else { 1.0 }
        })
        .collect();
    Tensor::from_data(TensorData::new(values, [batch, len]), device)
}

#[test]
fn relation_kl_and_its_gradient_match_the_reference() {
    let device = device().autodiff();
    // The last case runs 520 keys of width 128 per invocation: past lavapipe's 65,535-trip loop limit if the
    // dot products were not unrolled.
    let cases = [
        (1, 5, 8, 2),
        (2, 37, 24, 3),
        (2, 70, 64, 4),
        (2, 300, 16, 1),
        (1, 520, 128, 1),
    ];
    for (seed, (batch, len, width, heads)) in cases.into_iter().enumerate() {
        // The official conventions (the defaults: cosine, official reduction) and the earlier ones.
        for (kind, reduction) in [
            (RelationKind::Cosine, RelationReduction::Official),
            (RelationKind::ScaledDot, RelationReduction::Mean),
        ] {
            for causal in [false, true] {
                let label = format!("[{batch}, {len}, {width}] r={heads} {kind:?} {reduction:?} causal={causal}");
                let seed = 100 + 10 * seed as u64;
                let teacher = random([batch, len, width], seed, &device);
                let mask = padding_mask(batch, len, &device);
                let options = |kernels| RelationOptions {
                    heads,
                    kind,
                    causal,
                    reduction,
                    kernels,
                };
                let run = |kernels| {
                    let student = random([batch, len, width], seed + 1, &device).require_grad();
                    let loss = relation_kl(student.clone(), teacher.clone(), mask.clone(), &options(kernels));
                    let grads = loss.clone().backward();
                    (floats(loss.detach())[0], floats(student.grad(&grads).unwrap()))
                };
                let (fused_loss, fused_grad) = run(Kernels::Fused);
                let (reference_loss, reference_grad) = run(Kernels::Reference);
                assert!(
                    ((fused_loss - reference_loss) / reference_loss).abs() <= 1e-5,
                    "{label}: loss {fused_loss} vs {reference_loss}"
                );
                let error = relative_error(&fused_grad, &reference_grad);
                assert!(error <= 1e-5, "{label}: gradient relative error {error:e}");
            }
        }
    }
}

#[test]
fn fused_results_are_bit_identical_across_runs() {
    let device = device().autodiff();
    let (batch, len, width) = (2, 129, 32);
    let w = random([300, 700], 7, &device);
    let teacher = random([batch, len, width], 8, &device);
    let mask = padding_mask(batch, len, &device);
    let options = RelationOptions {
        heads: 2,
        kind: RelationKind::Cosine,
        causal: false,
        reduction: RelationReduction::Official,
        kernels: Kernels::Fused,
    };
    let run = || {
        let student = random([batch, len, width], 9, &device).require_grad();
        let loss = relation_kl(student.clone(), teacher.clone(), mask.clone(), &options);
        let grads = loss.clone().backward();
        let mut bits = floats(student.grad(&grads).unwrap());
        bits.extend(floats(loss.detach()));
        bits.extend(floats(fused::absmean(w.clone())));
        bits.extend(floats(ternary_ste(w.clone(), 1.0, Kernels::Fused)));
        bits.into_iter().map(f32::to_bits).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn ternary_matmul_equals_the_integer_reference_exactly() {
    let device = device();
    for (seed, (tokens, in_features, out_features)) in [(1, 5, 7), (3, 130, 33), (4, 300, 257)].into_iter().enumerate()
    {
        let x = random([tokens, in_features], 50 + seed as u64, &device);
        let w = random([out_features, in_features], 60 + seed as u64, &device);
        let (x_codes, x_scales) = fused::int8_codes(x);
        let delta = fused::absmean(w.clone());
        let y = fused::ternary_matmul(
            x_codes.clone(),
            x_scales.clone(),
            fused::ternary_pack(w.clone()),
            delta.clone(),
        );
        let reference = reference_ternary_matmul(x_codes, x_scales, fused::ternary_codes(w), delta);
        let label = format!("[{tokens}, {in_features}] × [{out_features}, {in_features}]ᵀ");
        assert_same(&floats(y), &floats(reference), &label);
    }
}

/// The Stage-1 student of the fixture on wgpu: the fused quantizers inside every BitLinear give the logits and
/// the latent-weight gradients of the reference path. (Δ is summed in another order, so a weight within float
/// error of a rounding boundary could flip: relative L2 1e-4, not exact.)
#[test]
fn student_forward_and_gradients_agree_between_kernel_paths() {
    let device = device().autodiff();
    let (_, student) = fixture_student(SublnPlacement::Paper, &device);
    let ids = Tensor::<2, Int>::from_data(
        TensorData::new(vec![3i64, 141, 59, 265, 358, 97, 93, 238], [1, 8]),
        &device,
    );
    let run = |kernels| {
        let model = student.clone().with_kernels(kernels);
        let logits = model.forward(ids.clone(), None, &Probes::default()).logits;
        let weights = random(logits.dims(), 90, &device);
        let grads = (logits.clone() * weights).sum().backward();
        let Projection::Ternary(q_proj) = &model.layers[0].self_attn.q_proj else {
            panic!("a student's q_proj is ternary")
        };
        let Projection::Ternary(down_proj) = &model.layers[1].mlp.down_proj else {
            panic!("a student's down_proj is ternary")
        };
        let grad = |bit: &bitdistill::model::BitLinear| floats(bit.weight.val().grad(&grads).unwrap());
        (floats(logits.detach()), grad(q_proj), grad(down_proj))
    };
    let (fused, reference) = (run(Kernels::Fused), run(Kernels::Reference));
    for (name, got, want) in [
        ("logits", &fused.0, &reference.0),
        ("q_proj grad", &fused.1, &reference.1),
        ("down_proj grad", &fused.2, &reference.2),
    ] {
        let error = relative_l2(got, want);
        assert!(error < 1e-4, "{name}: relative L2 {error:e}");
    }
}

/// The whole Stage-3 objective under the default (official) conventions on the fixture: attention-side Q and K
/// (after RoPE and qk-norm), cosine relations over every pair of real tokens, the official reduction; the
/// relation term and the student's gradients agree between the fused kernel and the reference.
#[test]
fn stage3_terms_under_the_official_conventions_agree_between_kernel_paths() {
    let device = device().autodiff();
    let teacher = Checkpoint::open(&fixture_dir())
        .unwrap()
        .load_model(&device)
        .unwrap()
        .no_grad();
    let (_, student) = fixture_student(SublnPlacement::Paper, &device);
    let stage3 = Stage3Section {
        relation_heads: 8,
        ..Stage3Section::default()
    };
    let ids: Vec<i64> = (0..2 * 12).map(|i| (i * 37 % 500) as i64 + 3).collect();
    let attention: Vec<f32> = (0..24).map(|i| if i >= 12 + 9 { 0.0 } else { 1.0 }).collect();
    let labels: Vec<f32> = (0..24)
        .map(|i| if i % 12 >= 5 && attention[i] > 0.0 { 1.0 } else { 0.0 })
        .collect();
    let batch = BatchTensors::new([2, 12], ids.clone(), ids, labels, attention, &device);
    let run = |kernels| {
        let objective = stage3.objective(2, kernels);
        assert_eq!(
            objective.relation.unfused_reason(32),
            None,
            "r = 8 leaves head widths of 4 and 8"
        );
        let model = student.clone().with_kernels(kernels);
        let terms = objective.terms(&model, Some(&teacher), &batch, true);
        let ad = terms.attention_kd.expect("relations were asked for");
        let grads = (ad.clone() * 1e3).backward();
        let Projection::Ternary(k_proj) = &model.layers[1].self_attn.k_proj else {
            panic!("a student's k_proj is ternary")
        };
        (
            floats(ad.detach())[0],
            floats(k_proj.weight.val().grad(&grads).unwrap()),
        )
    };
    let (fused, reference) = (run(Kernels::Fused), run(Kernels::Reference));
    assert!(reference.0 > 0.0);
    assert!(
        ((fused.0 - reference.0) / reference.0).abs() < 1e-4,
        "{} vs {}",
        fused.0,
        reference.0
    );
    let error = relative_l2(&fused.1, &reference.1);
    assert!(error < 1e-4, "k_proj gradient: relative L2 {error:e}");
}
