//! Every malformed checkpoint gives an error that names the file and the tensor or key, never a panic.

mod common;

use std::path::Path;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use common::{fixture_dir, temp_dir};
use safetensors::tensor::{Dtype, TensorView};

/// A copy of the fixture's config with `model.safetensors` replaced by `tensors` (name, dtype, shape, bytes).
fn checkpoint_with(name: &str, tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>) -> std::path::PathBuf {
    let dir = temp_dir(name);
    std::fs::copy(fixture_dir().join("config.json"), dir.join("config.json")).unwrap();
    let views: Vec<_> = tensors
        .iter()
        .map(|(n, dtype, shape, bytes)| (n.to_string(), TensorView::new(*dtype, shape.clone(), bytes).unwrap()))
        .collect();
    std::fs::write(
        dir.join("model.safetensors"),
        safetensors::serialize(views, None).unwrap(),
    )
    .unwrap();
    dir
}

fn load_error(dir: &Path) -> String {
    match Checkpoint::open(dir).and_then(|mut c| c.load_model(&BackendKind::Ndarray.device())) {
        Ok(_) => panic!("{} loaded although it is malformed", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_tensor_is_named() {
    let dir = checkpoint_with("missing", vec![]);
    let message = load_error(&dir);
    assert_eq!(
        message,
        format!(
            "{}: missing tensor `model.embed_tokens.weight`",
            dir.join("model.safetensors").display()
        )
    );
}

#[test]
fn wrong_shape_is_named_with_both_shapes() {
    let dir = checkpoint_with(
        "shape",
        vec![(
            "model.embed_tokens.weight",
            Dtype::F32,
            vec![512, 63],
            vec![0; 512 * 63 * 4],
        )],
    );
    let message = load_error(&dir);
    assert!(
        message
            .ends_with("model.safetensors: tensor `model.embed_tokens.weight` has shape [512, 63], expected [512, 64]"),
        "{message}"
    );
}

#[test]
fn unsupported_dtype_is_named() {
    let dir = checkpoint_with(
        "dtype",
        vec![("model.embed_tokens.weight", Dtype::I8, vec![512, 64], vec![0; 512 * 64])],
    );
    let message = load_error(&dir);
    assert!(
        message.contains("tensor `model.embed_tokens.weight` has unsupported dtype I8"),
        "{message}"
    );
}

#[test]
fn truncated_safetensors_is_named() {
    let dir = temp_dir("truncated");
    std::fs::copy(fixture_dir().join("config.json"), dir.join("config.json")).unwrap();
    let bytes = std::fs::read(fixture_dir().join("model.safetensors")).unwrap();
    std::fs::write(dir.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let message = load_error(&dir);
    assert!(
        message.contains("model.safetensors: not a valid safetensors file"),
        "{message}"
    );
}

#[test]
fn unknown_model_type_and_malformed_json_name_config_json() {
    let dir = temp_dir("model-type");
    let config = std::fs::read_to_string(fixture_dir().join("config.json")).unwrap();
    std::fs::write(dir.join("config.json"), config.replace("hunyuan_v1_dense", "qwen2")).unwrap();
    let message = load_error(&dir);
    assert!(
        message.ends_with("config.json: unknown model_type `qwen2` (this crate implements `hunyuan_v1_dense`)"),
        "{message}"
    );

    std::fs::write(dir.join("config.json"), &config[..config.len() / 2]).unwrap();
    let message = load_error(&dir);
    assert!(message.contains("config.json: malformed JSON"), "{message}");
}

#[test]
fn missing_weights_and_broken_shard_index_are_named() {
    let dir = temp_dir("no-weights");
    std::fs::copy(fixture_dir().join("config.json"), dir.join("config.json")).unwrap();
    let message = load_error(&dir);
    assert!(
        message.contains("no weights: neither model.safetensors nor model.safetensors.index.json"),
        "{message}"
    );

    std::fs::write(
        dir.join("model.safetensors.index.json"),
        r#"{"weight_map": {"model.norm.weight": "shard-1.safetensors"}}"#,
    )
    .unwrap();
    let message = load_error(&dir);
    assert!(
        message.starts_with(&dir.join("shard-1.safetensors").display().to_string()),
        "{message}"
    );

    std::fs::write(dir.join("model.safetensors.index.json"), r#"{"weights": {}}"#).unwrap();
    let message = load_error(&dir);
    assert!(
        message.contains("model.safetensors.index.json: malformed JSON") && message.contains("weight_map"),
        "{message}"
    );
}

#[test]
fn missing_config_is_named() {
    let dir = temp_dir("no-config");
    let message = load_error(&dir);
    assert!(
        message.starts_with(&dir.join("config.json").display().to_string()),
        "{message}"
    );
}
