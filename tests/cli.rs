//! The binary's subcommands, run as a user runs them.

mod common;

use bitdistill::checkpoint::SafetensorsFile;
use bitdistill::model::HunYuanConfig;
use common::{bitdistill, fixture_dir, reference, reference_values, relative_l2, temp_dir};

#[test]
fn inspect_counts_the_real_release_from_its_config_alone() {
    let dir = temp_dir("inspect-1.8b");
    let config = HunYuanConfig::hy_mt_1_8b().to_hf_json(false);
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let (ok, stdout, stderr) = bitdistill(&["inspect", "--model", dir.to_str().unwrap(), "--json"]);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["params"]["total"], 1_791_080_448u64);
    assert_eq!(json["params"]["linears"], 1_543_503_872u64);
    assert_eq!(json["params"]["lm_head"], 0);
    assert_eq!(json["bytes_bf16"], 2 * 1_791_080_448u64);
    let (ok, text, _) = bitdistill(&["inspect", "--model", dir.to_str().unwrap()]);
    assert!(ok && text.contains("parameters   1,791,080,448"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn inspect_reports_the_fixture_weights() {
    let (ok, stdout, stderr) = bitdistill(&["inspect", "--model", fixture_dir().to_str().unwrap(), "--json"]);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let total = json["params"]["total"].as_u64().unwrap();
    assert_eq!(json["stored"]["F32"]["bytes"].as_u64().unwrap(), 4 * total);
}

#[test]
fn logits_command_writes_reference_logits() {
    let dir = temp_dir("logits-cli");
    let out = dir.join("logits.safetensors");
    let input = fixture_dir().join("reference.safetensors");
    let (ok, _, stderr) = bitdistill(&[
        "logits",
        "--model",
        fixture_dir().to_str().unwrap(),
        "--input-ids",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let written = SafetensorsFile::open(&out).unwrap();
    assert_eq!(
        written.describe("logits").unwrap(),
        (vec![2, 13, 512], "F32".to_string())
    );
    let logits = written
        .read_f32("logits", None)
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap();
    assert!(relative_l2(&logits, &reference_values("logits")) < 1e-4);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn logits_command_names_a_missing_input_tensor() {
    let weights = fixture_dir().join("model.safetensors");
    let (ok, _, stderr) = bitdistill(&[
        "logits",
        "--model",
        fixture_dir().to_str().unwrap(),
        "--input-ids",
        weights.to_str().unwrap(),
        "--out",
        "/nonexistent/out.safetensors",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("model.safetensors: missing tensor `input_ids`"),
        "{stderr}"
    );
}

#[test]
fn generate_command_decodes_greedily_like_the_reference() {
    let (prefix, _) = reference().read_i64("greedy_prefix").unwrap();
    let (expected, _) = reference().read_i64("greedy_output").unwrap();
    let ids: Vec<String> = prefix.iter().map(|i| i.to_string()).collect();
    let (ok, stdout, stderr) = bitdistill(&[
        "generate",
        "--model",
        fixture_dir().to_str().unwrap(),
        "--prompt-ids",
        &ids.join(","),
        "--max-new-tokens",
        "12",
        "--ignore-eos",
    ]);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let output: Vec<i64> = serde_json::from_value(json["output_ids"].clone()).unwrap();
    assert_eq!(output, expected[prefix.len()..]);

    let (ok, _, stderr) = bitdistill(&[
        "generate",
        "--model",
        fixture_dir().to_str().unwrap(),
        "--prompt",
        "hello",
    ]);
    assert!(!ok && stderr.contains("no tokenizer.json"), "{stderr}");
}

/// `bench kernels --json` (on lavapipe here): one object per row with the documented keys; the int8 quantizer's
/// codes are exact, so its fused and reference outputs are equal.
#[test]
fn bench_kernels_prints_one_json_object_per_row() {
    let args = [
        "bench",
        "kernels",
        "--only",
        "act-quant",
        "--json",
        "--warmup",
        "0",
        "--iters",
        "1",
    ];
    let (ok, stdout, stderr) = bitdistill(&args);
    assert!(ok, "{stderr}");
    let rows: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    for row in &rows {
        assert_eq!(row["kernel"], "act_quant");
        assert_eq!(row["max_abs_err"], 0.0, "{row}");
        for key in ["fused_ms", "reference_ms"] {
            assert!(row[key].as_f64().is_some_and(|ms| ms > 0.0), "{key} in {row}");
        }
    }
    assert_eq!(rows[1]["shape"], "[512, 2048]");
}

#[test]
fn translate_batch_prints_what_each_line_translates_to_alone_in_order() {
    let dir = common::temp_dir("cli-translate-batch");
    let teacher = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/tiny-hymt");
    let sentences = [
        "Show hidden files",
        "",
        "Open a new window",
        "Save the document as a copy",
    ];
    let input = dir.join("sentences.txt");
    std::fs::write(&input, sentences.join("\n") + "\n").unwrap();
    let translate = |extra: &[&str]| {
        let mut args = vec!["translate", "--model", teacher, "--to", "pt", "--max-new-tokens", "32"];
        args.extend_from_slice(extra);
        common::bitdistill(&args)
    };
    let alone = |text: &str| {
        let (ok, stdout, stderr) = translate(&[text]);
        assert!(ok, "{stderr}");
        stdout.trim().to_string()
    };
    let (ok, stdout, stderr) = translate(&["--batch", input.to_str().unwrap(), "--batch-size", "2"]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[1], "", "an empty line stays empty");
    for (line, sentence) in lines.iter().zip(sentences).filter(|(_, s)| !s.is_empty()) {
        assert_eq!(*line, alone(sentence));
        assert!(!line.is_empty());
    }
    assert!(stderr.contains("translated 3/3"), "{stderr}");
    // The flag and the text exclude each other.
    let (ok, _, stderr) = common::bitdistill(&[
        "translate",
        "--model",
        teacher,
        "--to",
        "pt",
        "--batch",
        "x.txt",
        "hello",
    ]);
    assert!(!ok && stderr.contains("cannot be used with"), "{stderr}");
}
