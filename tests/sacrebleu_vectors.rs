//! BLEU, chrF and chrF++ against sacreBLEU 2.6.0's own numbers in ../shared/metrics/sacrebleu_vectors.json.

mod common;

use std::path::PathBuf;
use std::process::Command;

use bitdistill::eval::{Tokenize, corpus_scores, sentence_bleu, sentence_chrf};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let root = std::env::var_os("BITDISTILL_METRICS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/metrics"));
    let text = std::fs::read_to_string(root.join("sacrebleu_vectors.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["cases"].as_array().unwrap().clone()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn tokenize(case: &Value) -> Tokenize {
    match case["tokenize"].as_str().unwrap() {
        "13a" => Tokenize::Thirteen,
        "zh" => Tokenize::Zh,
        "intl" => Tokenize::Intl,
        "char" => Tokenize::Char,
        other => panic!("no tokenizer {other}"),
    }
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 0.01, "{what}: got {got}, sacreBLEU says {want}");
}

#[test]
fn corpus_scores_match_sacrebleu() {
    let all = cases();
    assert_eq!(all.len(), 3);
    for case in all {
        let (hyps, refs) = (strings(&case["hypotheses"]), strings(&case["references"]));
        let scores = corpus_scores(&hyps, &[refs], tokenize(&case));
        let name = format!("{} → {}", case["hyp_lang"], case["ref_lang"]);
        close(
            scores.bleu,
            case["corpus"]["bleu"].as_f64().unwrap(),
            &format!("{name} BLEU"),
        );
        close(
            scores.chrf,
            case["corpus"]["chrf"].as_f64().unwrap(),
            &format!("{name} chrF"),
        );
        close(
            scores.chrf_pp,
            case["corpus"]["chrf_pp"].as_f64().unwrap(),
            &format!("{name} chrF++"),
        );
        assert_eq!(scores.signature, case["signature_bleu"].as_str().unwrap());
    }
}

#[test]
fn sentence_scores_match_sacrebleu() {
    for case in cases() {
        let (hyps, refs) = (strings(&case["hypotheses"]), strings(&case["references"]));
        let expected = case["sentence"].as_array().unwrap();
        assert!(!expected.is_empty());
        for (i, want) in expected.iter().enumerate() {
            let what = format!("{} line {i}", case["tokenize"]);
            close(
                sentence_bleu(&hyps[i], &[&refs[i]], tokenize(&case)),
                want["bleu"].as_f64().unwrap(),
                &format!("{what} BLEU"),
            );
            close(
                sentence_chrf(&hyps[i], &[&refs[i]], 0),
                want["chrf"].as_f64().unwrap(),
                &format!("{what} chrF"),
            );
        }
    }
}

#[test]
fn score_command_prints_the_corpus_scores_as_json() {
    let case = &cases()[1];
    let dir = common::temp_dir("score-cli");
    let (hyp, reference) = (dir.join("hyp.txt"), dir.join("ref.txt"));
    std::fs::write(&hyp, strings(&case["hypotheses"]).join("\n") + "\n").unwrap();
    std::fs::write(&reference, strings(&case["references"]).join("\n") + "\n").unwrap();
    let score = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_bitdistill"))
            .args([
                "score",
                "--hyp",
                hyp.to_str().unwrap(),
                "--ref",
                reference.to_str().unwrap(),
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = score(&["--tokenize", "zh", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["bleu", "chrf", "chrf_pp"] {
        close(json[key].as_f64().unwrap(), case["corpus"][key].as_f64().unwrap(), key);
    }

    std::fs::write(&reference, "only one line\n").unwrap();
    let out = score(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("ref.txt has 1 lines but") && stderr.contains("hyp.txt has 300"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
