//! Quantizers and distillation losses: fixture codes, the STE, hand-derived values, finite differences (f64).

mod common;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::SafetensorsFile;
use bitdistill::distill::{
    RelationKind, RelationOptions, RelationReduction, attention_distillation, logits_distillation, relation_kl,
};
use bitdistill::kernels::Kernels;
use bitdistill::model::QkvStates;
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

/// The fixture's stored codes were made with the earlier `RoundClip(W/(Δ + 1e-5))`; the official formula
/// `RoundClip(W · (1/Δ))` may differ from them only where the two thresholds disagree, |W| in (Δ/2, (Δ+1e-5)/2].
#[test]
fn fixture_gate_proj_codes_follow_the_official_formula() {
    let weights = SafetensorsFile::open(&fixture_dir().join("model.safetensors")).unwrap();
    let w = weights.read_f32("model.layers.0.mlp.gate_proj.weight", None).unwrap();
    let values = w.clone().try_into_vec_as::<f32>().unwrap();
    let w = Tensor::<2>::from_data(w, &device());
    let scale = absmean_scale(w.clone());
    let delta = reference_values("ternary.layer0.gate_proj.scale")[0];
    assert!((scale.clone().into_scalar::<f32>() - delta).abs() <= 1e-7 * delta.abs());
    let codes: Vec<i8> = ternary_codes(w, scale.clone())
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap()
        .iter()
        .map(|&c| c as i8)
        .collect();
    // The official weight_quant, by hand: scale = 1/Δ in f32, round half to even, clamp.
    let inverse = 1.0 / scale.into_scalar::<f32>();
    let official: Vec<i8> = values
        .iter()
        .map(|&v| (v * inverse).round_ties_even().clamp(-1.0, 1.0) as i8)
        .collect();
    assert_eq!(codes, official);
    assert!(codes.contains(&0) && codes.contains(&1) && codes.contains(&-1));

    let reference = common::reference();
    let (shape, dtype) = reference.describe("ternary.layer0.gate_proj.codes").unwrap();
    assert_eq!((shape, dtype.as_str()), (vec![160, 64], "I8"));
    let raw = std::fs::read(fixture_dir().join("reference.safetensors")).unwrap();
    let parsed = safetensors::SafeTensors::deserialize(&raw).unwrap();
    let earlier = parsed.tensor("ternary.layer0.gate_proj.codes").unwrap();
    let mut changed = 0;
    for ((&old, &new), &v) in earlier.data().iter().zip(&codes).zip(&values) {
        if old as i8 != new {
            changed += 1;
            let half = (v.abs() / delta) as f64;
            assert!(
                half > 0.5 && half <= 0.5 * (1.0 + 1e-5 / delta as f64) + 1e-6,
                "W/Δ = {half}"
            );
        }
    }
    eprintln!("{changed} of {} codes differ from the earlier formula's", codes.len());
}

#[test]
fn codes_at_and_around_half_delta_are_the_official_ones() {
    let (weights, expected) = common::threshold_weights();
    let w = Tensor::<2>::from_data(TensorData::new(weights.clone(), [2, 8]), &device());
    let scale = absmean_scale(w.clone());
    assert_eq!(scale.clone().into_scalar::<f32>(), 0.25);
    let codes: Vec<i8> = ternary_codes(w.clone(), scale)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap()
        .iter()
        .map(|&c| c as i8)
        .collect();
    assert_eq!(codes, expected);
    // The earlier W/(Δ + 1e-5) rounds 0.125 + 2⁻²⁰ (index 10) down: this matrix tells the formulas apart.
    assert_eq!((weights[10] / (0.25 + 1e-5)).round_ties_even(), 0.0);
    // The training weight (STE forward) is Δ · code: what the trainer's BitLinear multiplies by.
    let dequantized = ternary_fake_quant(w).into_data().try_into_vec_as::<f32>().unwrap();
    let want: Vec<f32> = expected.iter().map(|&c| 0.25 * c as f32).collect();
    assert_eq!(dequantized, want);
    assert_eq!(
        weights
            .iter()
            .map(|&w| bitdistill::quant::ternary_code(w, 0.25))
            .collect::<Vec<_>>(),
        expected
    );
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
        reduction: RelationReduction::Mean,
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
    assert!(scalar(relation_kl(student.clone(), teacher.clone(), mask, &options)).abs() < 1e-7);
    // The official reduction divides by r once more (r = 1 here) and clamps at 1e-8, which these
    // probabilities (≥ 0.33) never reach: the same value.
    let official = RelationOptions {
        reduction: RelationReduction::Official,
        ..options
    };
    let got = scalar(relation_kl(
        student.clone(),
        teacher.clone(),
        ones_mask(1, 2, &device),
        &official,
    ));
    assert!((got - per_row).abs() < 1e-6, "{got} vs {per_row}");
    // Where a probability falls below 1e-8 the official reduction counts it as 1e-8 (f64 tensors, so the
    // 1.8e-7 it adds is visible): teacher rows 10·e1, 10·e2 give p_T = [1 − ε, ε], ε = e^(−100/√2) ≈ 2e-31,
    // against the uniform student: ln 2 + 1e-8·ln(2e-8) with the floor, ln 2 (+ ε ln 2ε) without.
    let peaked = tensor(vec![10.0, 0.0, 0.0, 10.0], [1, 2, 2], &device);
    let floored = scalar(relation_kl(
        student.clone(),
        peaked.clone(),
        ones_mask(1, 2, &device),
        &official,
    ));
    let want = 2f64.ln() + 1e-8 * 2e-8f64.ln();
    assert!((floored - want).abs() < 1e-12, "{floored} vs {want}");
    let exact = scalar(relation_kl(student.clone(), peaked, ones_mask(1, 2, &device), &options));
    assert!((exact - 2f64.ln()).abs() < 1e-12, "{exact}");
    // Identical teacher and student: zero for Q, K and V.
    let states = || QkvStates {
        q: teacher.clone(),
        k: teacher.clone(),
        v: teacher.clone(),
    };
    let same = attention_distillation(
        states(),
        states(),
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
    for (kind, causal, reduction) in [
        (RelationKind::ScaledDot, true, RelationReduction::Mean),
        (RelationKind::Cosine, true, RelationReduction::Mean),
        (RelationKind::Cosine, false, RelationReduction::Official),
        (RelationKind::ScaledDot, false, RelationReduction::Official),
    ] {
        let options = RelationOptions {
            heads: 2,
            kind,
            causal,
            reduction,
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
