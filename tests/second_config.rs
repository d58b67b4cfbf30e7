//! A checkpoint this project builds itself, unlike the fixture in every way that can vary: other shapes
//! (6 query heads over 3 KV heads of width 8, 3 layers), an untied lm_head, the newer `rope_parameters`
//! config layout, bf16 weights in shards. It must save, load and agree with the independent f64 forward.

mod common;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::{Checkpoint, INDEX_FILE, SaveDtype, save_checkpoint};
use bitdistill::model::{HunYuan, HunYuanConfig, RandomWeights};
use burn::tensor::{Int, Tensor, TensorData};
use common::naive::NaiveModel;
use common::{relative_l2, temp_dir, values};

fn second_config() -> HunYuanConfig {
    HunYuanConfig::new(300, 48, 96, 3, 6, 3, 8)
        .with_tie_word_embeddings(false)
        .with_rope_theta(5000.0)
        .with_rope_alpha(50.0)
        .with_rms_norm_eps(1e-6)
}

const IDS: [usize; 9] = [5, 17, 299, 0, 42, 42, 7, 128, 64];

fn logits(model: &HunYuan) -> Vec<f32> {
    let device = BackendKind::Ndarray.device();
    let ids: Vec<i64> = IDS.iter().map(|&i| i as i64).collect();
    values(model.logits(Tensor::<2, Int>::from_data(
        TensorData::new(ids, [1, IDS.len()]),
        &device,
    )))
}

fn naive_logits(config: &HunYuanConfig, files: &[std::path::PathBuf]) -> Vec<f32> {
    NaiveModel::new(config, files)
        .logits(&IDS)
        .into_iter()
        .flatten()
        .map(|v| v as f32)
        .collect()
}

#[test]
fn f32_round_trip_in_the_new_layout_is_exact_and_matches_the_f64_forward() {
    let device = BackendKind::Ndarray.device();
    let config = second_config();
    let model = HunYuan::from_source(&config, &mut RandomWeights::new(11, 0.2), &device).unwrap();
    let dir = temp_dir("second-f32");
    save_checkpoint(&model, &config, &dir, SaveDtype::F32, true, None).unwrap();
    let written = std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert!(written.contains("rope_parameters") && !written.contains("rope_scaling"));

    let mut checkpoint = Checkpoint::open(&dir).unwrap();
    assert_eq!(checkpoint.config, config);
    assert!(checkpoint.tensors().iter().any(|(name, _, _)| name == "lm_head.weight"));
    let reloaded = checkpoint.load_model(&device).unwrap();
    assert_eq!(logits(&reloaded), logits(&model));

    let error = relative_l2(
        &logits(&reloaded),
        &naive_logits(&config, &[dir.join("model.safetensors")]),
    );
    assert!(error < 1e-5, "relative L2 error {error:e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bf16_shards_in_the_release_layout_load_and_match_the_f64_forward() {
    let device = BackendKind::Ndarray.device();
    let config = second_config();
    let model = HunYuan::from_source(&config, &mut RandomWeights::new(12, 0.2), &device).unwrap();
    let dir = temp_dir("second-bf16");
    save_checkpoint(&model, &config, &dir, SaveDtype::Bf16, false, Some(20_000)).unwrap();
    assert!(!dir.join("model.safetensors").exists());
    let shards: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    assert!(shards.len() > 2, "expected several shards, got {}", shards.len());
    assert!(dir.join(INDEX_FILE).exists());

    let mut checkpoint = Checkpoint::open(&dir).unwrap();
    assert_eq!(checkpoint.config, config);
    assert!(checkpoint.tensors().iter().all(|(_, _, dtype)| dtype == "BF16"));
    let reloaded = checkpoint.load_model(&device).unwrap();
    let got = logits(&reloaded);
    let error = relative_l2(&got, &naive_logits(&config, &shards));
    assert!(error < 1e-5, "relative L2 error {error:e}");
    // ...and bf16 storage did round the weights.
    assert!(relative_l2(&got, &logits(&model)) > 1e-4);
    std::fs::remove_dir_all(dir).unwrap();
}
