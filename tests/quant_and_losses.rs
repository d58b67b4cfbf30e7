//! Quantizers and distillation losses: fixture codes, the STE, hand-derived values, finite differences (f64).

mod common;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::SafetensorsFile;
use bitdistill::distill::{RelationKind, RelationOptions, attention_distillation, logits_distillation, relation_kl};
use bitdistill::kernels::Kernels;
use bitdistill::quant::{absmean_scale, int8_fake_quant, straight_through, ternary_codes, ternary_fake_quant};
use burn::tensor::{DType, Device, Tensor, TensorData};
use common::{fixture_dir, reference_values};

fn device() -> Device {
    BackendKind::Ndarray.device()
}

/// An f64 tensor (the device's default float type is f32).
fn tensor<const D: usize>(values: Vec<f64>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), (device, DType::F64))
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_data().try_into_vec_as::<f64>().unwrap()[0]
}

#[test]
fn fixture_gate_proj_codes_and_scale_match_the_reference() {
    let weights = SafetensorsFile::open(&fixture_dir().join("model.safetensors")).unwrap();
    let w = weights.read_f32("model.layers.0.mlp.gate_proj.weight", None).unwrap();
    let w = Tensor::<2>::from_data(w, &device());
    let scale = absmean_scale(w.clone());
    let expected_scale = reference_values("ternary.layer0.gate_proj.scale")[0];
    assert!((scale.clone().into_scalar::<f32>() - expected_scale).abs() <= 1e-7 * expected_scale.abs());
    let codes: Vec<i8> = ternary_codes(w, scale)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap()
        .iter()
        .map(|&c| c as i8)
        .collect();
    let reference = common::reference();
    let (shape, dtype) = reference.describe("ternary.layer0.gate_proj.codes").unwrap();
    assert_eq!((shape, dtype.as_str()), (vec![160, 64], "I8"));
    let expected = std::fs::read(fixture_dir().join("reference.safetensors")).unwrap();
    let parsed = safetensors::SafeTensors::deserialize(&expected).unwrap();
    let expected: Vec<i8> = parsed
        .tensor("ternary.layer0.gate_proj.codes")
        .unwrap()
        .data()
        .iter()
        .map(|&b| b as i8)
        .collect();
    assert_eq!(codes, expected);
    assert!(codes.contains(&0) && codes.contains(&1) && codes.contains(&-1));
}

#[test]
fn straight_through_gradient_is_the_identity() {
    let device = device().autodiff();
    let w = tensor(vec![0.9, -0.1, 0.4, -1.2, 0.2, -0.6], [2, 3], &device).require_grad();
    let x = tensor(vec![0.3, -2.0, 0.7], [1, 3], &device).require_grad();
    let upstream = tensor(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3], &device);
    let wq = straight_through(w.clone(), ternary_fake_quant(w.clone()), 1.0);
    let xq = straight_through(x.clone(), int8_fake_quant(x.clone()), 1.0);
    // Forward values are the quantized ones...
    let quantized = ternary_fake_quant(w.clone().detach())
        .into_data()
        .try_into_vec_as::<f64>()
        .unwrap();
    assert_eq!(wq.clone().into_data().try_into_vec_as::<f64>().unwrap(), quantized);
    // ...while d(Σ upstream ⊙ wq)/dw = upstream and d(Σ xq)/dx = 1.
    let grads = ((wq * upstream.clone()).sum() + xq.sum()).backward();
    let gw = w.grad(&grads).unwrap().into_data().try_into_vec_as::<f64>().unwrap();
    assert_eq!(gw, upstream.into_data().try_into_vec_as::<f64>().unwrap());
    let gx = x.grad(&grads).unwrap().into_data().try_into_vec_as::<f64>().unwrap();
    assert_eq!(gx, vec![1.0, 1.0, 1.0]);
}

fn ones_mask(batch: usize, len: usize, device: &Device) -> Tensor<2> {
    tensor(vec![1.0; batch * len], [batch, len], device)
}

#[test]
fn logits_distillation_matches_hand_computed_kl() {
    let device = device();
    // p_T = softmax([0, ln 3]) = [1/4, 3/4], p_S = [1/2, 1/2]: KL = ¼ ln ½ + ¾ ln (3/2).
    let teacher = tensor(vec![0.0, 3f64.ln()], [1, 1, 2], &device);
    let student = tensor(vec![0.0, 0.0], [1, 1, 2], &device);
    let kl = 0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln();
    let got = scalar(logits_distillation(
        student.clone(),
        teacher.clone(),
        ones_mask(1, 1, &device),
        1.0,
    ));
    assert!((got - kl).abs() < 1e-6, "{got} vs {kl}");
    // τ = 2 softens to p_T ∝ [1, √3] and multiplies by τ² = 4.
    let p = [1.0 / (1.0 + 3f64.sqrt()), 3f64.sqrt() / (1.0 + 3f64.sqrt())];
    let kl2 = 4.0 * (p[0] * (2.0 * p[0]).ln() + p[1] * (2.0 * p[1]).ln());
    let got = scalar(logits_distillation(
        student,
        teacher.clone(),
        ones_mask(1, 1, &device),
        2.0,
    ));
    assert!((got - kl2).abs() < 1e-6, "{got} vs {kl2}");
    assert!(
        scalar(logits_distillation(
            teacher.clone(),
            teacher,
            ones_mask(1, 1, &device),
            5.0
        ))
        .abs()
            < 1e-7
    );
}

#[test]
fn relation_kl_matches_hand_computed_values_and_respects_masks() {
    let device = device();
    let options = RelationOptions {
        heads: 1,
        kind: RelationKind::ScaledDot,
        causal: false,
        kernels: Kernels::Reference,
    };
    // Teacher rows e1, e2: scores [[s, 0], [0, s]] with s = 1/√2; student rows e1, e1: all s → uniform.
    let teacher = tensor(vec![1.0, 0.0, 0.0, 1.0], [1, 2, 2], &device);
    let student = tensor(vec![1.0, 0.0, 1.0, 0.0], [1, 2, 2], &device);
    let s = 0.5f64.sqrt();
    let p = [s.exp() / (s.exp() + 1.0), 1.0 / (s.exp() + 1.0)];
    let per_row = p[0] * (2.0 * p[0]).ln() + p[1] * (2.0 * p[1]).ln();
    let got = scalar(relation_kl(
        student.clone(),
        teacher.clone(),
        ones_mask(1, 2, &device),
        &options,
    ));
    assert!((got - per_row).abs() < 1e-6, "{got} vs {per_row}");
    // Causal: row 0 sees only itself (KL 0), row 1 is as before: the mean halves.
    let causal = RelationOptions {
        causal: true,
        ..options
    };
    let got = scalar(relation_kl(
        student.clone(),
        teacher.clone(),
        ones_mask(1, 2, &device),
        &causal,
    ));
    assert!((got - per_row / 2.0).abs() < 1e-6, "{got} vs {}", per_row / 2.0);
    // Padding the second position leaves only row 0 over key 0: KL 0.
    let mask = tensor(vec![1.0, 0.0], [1, 2], &device);
    assert!(scalar(relation_kl(student, teacher.clone(), mask, &options)).abs() < 1e-7);
    // Identical teacher and student: zero for Q, K and V.
    let same = attention_distillation(
        [teacher.clone(), teacher.clone(), teacher.clone()],
        [teacher.clone(), teacher.clone(), teacher],
        ones_mask(1, 2, &device),
        &RelationOptions {
            kind: RelationKind::Cosine,
            ..options
        },
    );
    assert!(scalar(same).abs() < 1e-7);
}

/// Central differences in f64 against autodiff, for a few coordinates of the student input.
fn check_gradient(loss: impl Fn(Tensor<3>) -> Tensor<1>, student: Vec<f64>, shape: [usize; 3]) {
    let device = device().autodiff();
    let x = tensor(student.clone(), shape, &device).require_grad();
    assert_eq!(x.dtype(), DType::F64, "the check must run in f64");
    let grads = loss(x.clone()).backward();
    let analytic = x.grad(&grads).unwrap().into_data().try_into_vec_as::<f64>().unwrap();
    let h = 1e-6;
    for i in (0..student.len()).step_by(3) {
        let at = |delta: f64| {
            let mut values = student.clone();
            values[i] += delta;
            scalar(loss(tensor(values, shape, &device)))
        };
        let numeric = (at(h) - at(-h)) / (2.0 * h);
        let error = (numeric - analytic[i]).abs() / numeric.abs().max(1e-3);
        assert!(
            error < 1e-5,
            "coordinate {i}: numeric {numeric}, autodiff {}",
            analytic[i]
        );
    }
}

fn pseudo_random(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| ((i as u64 * 2654435761 + seed) % 1000) as f64 / 500.0 - 1.0)
        .collect()
}

#[test]
fn both_losses_pass_a_finite_difference_gradient_check_in_f64() {
    let device = device().autodiff();
    let teacher_logits = tensor(pseudo_random(2 * 3 * 5, 1), [2, 3, 5], &device);
    let mask = tensor(vec![1.0, 1.0, 0.0, 1.0, 1.0, 1.0], [2, 3], &device);
    let m = mask.clone();
    check_gradient(
        move |s| logits_distillation(s, teacher_logits.clone(), m.clone(), 2.0),
        pseudo_random(30, 2),
        [2, 3, 5],
    );

    let teacher_states = tensor(pseudo_random(2 * 3 * 8, 3), [2, 3, 8], &device);
    for kind in [RelationKind::ScaledDot, RelationKind::Cosine] {
        let options = RelationOptions {
            heads: 2,
            kind,
            causal: true,
            kernels: Kernels::Reference,
        };
        let (t, m) = (teacher_states.clone(), mask.clone());
        check_gradient(
            move |s| relation_kl(s, t.clone(), m.clone(), &options),
            pseudo_random(48, 4),
            [2, 3, 8],
        );
    }
}
