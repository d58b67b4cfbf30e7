//! Parity with the reference implementation (transformers, float64) on ../shared/fixtures/hymt-tiny-a, on
//! Flex, NdArray and wgpu (lavapipe in CI), each to relative L2 < 1e-4, the fixture's stated f32 bound (measured
//! here: about 5e-7 on each). Each check prints its error (`--nocapture`).

mod common;

use std::ops::ControlFlow;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use bitdistill::generate::{GenerationConfig, generate};
use bitdistill::model::{HunYuan, Probes};
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::naive::NaiveModel;
use common::{fixture_dir, reference, reference_values, relative_l2, values};

fn load(device: &Device, weights: &str) -> HunYuan {
    Checkpoint::open_with_weights(&fixture_dir(), Some(weights))
        .unwrap()
        .load_model(device)
        .unwrap()
}

fn input_ids(device: &Device) -> Tensor<2, Int> {
    let (ids, shape) = reference().read_i64("input_ids").unwrap();
    Tensor::from_data(TensorData::new(ids, [shape[0], shape[1]]), device)
}

fn check_logits_f32(device: &Device, tolerance: f64) {
    let logits = values(load(device, "model.safetensors").logits(input_ids(device)));
    let error = relative_l2(&logits, &reference_values("logits"));
    eprintln!("logits (f32 weights) relative L2 error {error:e}");
    assert!(error < tolerance, "relative L2 error {error:e}");
}

/// The reference outputs come from the f32 weights; for the bf16 file the independent f64 forward of
/// `common::naive` (itself checked against the reference below) runs on the same upcast bf16 weights.
fn check_logits_bf16(device: &Device, tolerance: f64) {
    let expected = naive_logits("model-bf16.safetensors");
    let logits = values(load(device, "model-bf16.safetensors").logits(input_ids(device)));
    let error = relative_l2(&logits, &expected);
    eprintln!("logits (bf16 weights) relative L2 error {error:e}");
    assert!(error < tolerance, "relative L2 error {error:e}");
    // bf16 rounding really changed the model: the f32 reference must not match as closely.
    assert!(relative_l2(&logits, &reference_values("logits")) > 10.0 * error);
}

fn check_hidden_states_and_qkv(device: &Device, tolerance: f64) {
    let model = load(device, "model.safetensors");
    let last = model.num_layers() - 1;
    let probes = Probes {
        hidden_states: true,
        qkv_layer: Some(last),
        attention_layer: Some(last),
        every_layer: true,
    };
    let out = model.forward(input_ids(device), None, &probes);
    assert_eq!(out.hidden_states.len(), model.num_layers() + 1);
    for (i, state) in out.hidden_states.into_iter().enumerate() {
        let error = relative_l2(&values(state), &reference_values(&format!("hidden_states.{i}")));
        eprintln!("hidden_states.{i} relative L2 error {error:e}");
        assert!(error < tolerance, "hidden_states.{i}: relative L2 error {error:e}");
    }
    // Every layer's trace (what `compare` reads): one per layer, its v as projected is the reference's.
    assert_eq!(out.layers.len(), model.num_layers());
    let traced_v = values(out.layers[last].qkv.v.clone());
    let error = relative_l2(&traced_v, &reference_values("last_layer.v_proj"));
    assert!(
        error < tolerance,
        "every-layer trace, last v: relative L2 error {error:e}"
    );
    assert_eq!(out.layers[last].attention_output.dims()[2], 64);
    let qkv = out.qkv.expect("q/k/v of the last layer were asked for").projections;
    for (name, state) in [("q_proj", qkv.q), ("k_proj", qkv.k), ("v_proj", qkv.v)] {
        let error = relative_l2(&values(state), &reference_values(&format!("last_layer.{name}")));
        eprintln!("last_layer.{name} relative L2 error {error:e}");
        assert!(error < tolerance, "last_layer.{name}: relative L2 error {error:e}");
    }
    // Attention probabilities: [B, H, T, T], rows sum to one, nothing above the diagonal.
    let probs = out.attention.expect("attention of the last layer was asked for");
    let [b, h, t, s] = probs.dims();
    assert_eq!((t, s), (13, 13));
    let p = values(probs);
    for row in 0..b * h * t {
        let query = row % t;
        let cells = &p[row * s..(row + 1) * s];
        assert!((cells.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(cells[query + 1..].iter().all(|&c| c == 0.0));
    }
}

fn check_greedy(device: &Device) {
    let model = load(device, "model.safetensors");
    let (prefix, _) = reference().read_i64("greedy_prefix").unwrap();
    let (expected, _) = reference().read_i64("greedy_output").unwrap();
    let prompt: Vec<u32> = prefix.iter().map(|&i| i as u32).collect();
    let expected: Vec<u32> = expected[prompt.len()..].iter().map(|&i| i as u32).collect();
    let mut config = GenerationConfig {
        max_new_tokens: expected.len(),
        ..GenerationConfig::default()
    };
    let mut streamed = Vec::new();
    let cached = generate(&model, &prompt, &config, |token| {
        streamed.push(token);
        ControlFlow::Continue(())
    });
    assert_eq!(cached, expected);
    assert_eq!(streamed, expected);
    config.use_cache = false;
    let uncached = generate(&model, &prompt, &config, |_| ControlFlow::Continue(()));
    assert_eq!(uncached, expected);
}

macro_rules! parity_tests {
    ($backend:ident, $device:expr, $tolerance:expr) => {
        mod $backend {
            use super::*;

            #[test]
            fn logits_of_f32_weights_match_the_reference() {
                check_logits_f32(&$device, $tolerance);
            }

            #[test]
            fn logits_of_bf16_weights_match_the_f64_forward_of_the_same_weights() {
                check_logits_bf16(&$device, $tolerance);
            }

            #[test]
            fn hidden_states_and_last_layer_qkv_match_the_reference() {
                check_hidden_states_and_qkv(&$device, $tolerance);
            }

            #[test]
            fn greedy_decoding_with_and_without_cache_reproduces_the_reference() {
                check_greedy(&$device);
            }
        }
    };
}

parity_tests!(ndarray, BackendKind::Ndarray.device(), 1e-4);
parity_tests!(flex, BackendKind::Flex.device(), 1e-4);
parity_tests!(wgpu, BackendKind::Wgpu.device(), 1e-4);

/// The independent f64 forward's logits for the reference `input_ids`, from the fixture's `weights` file.
fn naive_logits(weights: &str) -> Vec<f32> {
    let dir = fixture_dir();
    let checkpoint = Checkpoint::open_with_weights(&dir, Some(weights)).unwrap();
    let naive = NaiveModel::new(&checkpoint.config, &[dir.join(weights)]);
    let (ids, shape) = reference().read_i64("input_ids").unwrap();
    ids.chunks(shape[1])
        .flat_map(|row| naive.logits(&row.iter().map(|&i| i as usize).collect::<Vec<_>>()))
        .flatten()
        .map(|v| v as f32)
        .collect()
}

#[test]
fn the_naive_f64_forward_itself_matches_the_reference() {
    let error = relative_l2(&naive_logits("model.safetensors"), &reference_values("logits"));
    assert!(error < 1e-6, "relative L2 error {error:e}");
}
