//! The embedded demo, shortened to a few steps, end to end on the bundled assets (what CI runs).

mod common;

use std::process::Command;

#[test]
fn a_shortened_demo_distils_evaluates_and_reports() {
    let dir = common::temp_dir("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_bitdistill"))
        .args(["demo", "--headless", "--out", dir.to_str().unwrap()])
        .args(["--stage2-tokens", "1024", "--stage3-steps", "3", "--eval-limit", "3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| teacher (bf16) | en-pt |") && stdout.contains("| student (1.58-bit) | en-zh |"),
        "{stdout}"
    );

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    for model in ["teacher", "student"] {
        for pair in ["en-pt", "en-zh"] {
            let scores = &report[model]["scores"][pair];
            assert_eq!(scores["sentences"], 3, "{model} {pair}");
            let chrf = scores["chrf"].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&chrf), "{model} {pair} chrF {chrf}");
        }
    }
    assert_eq!(report["teacher"]["scores"]["en-zh"]["tokenize"], "zh");
    // 1024 Stage-2 tokens are 2 steps of 8 × 64, then 3 Stage-3 steps.
    assert_eq!(report["steps"].as_array().unwrap().len(), 2 + 3);
    let (teacher, student) = (&report["teacher"], &report["student"]);
    assert_eq!(teacher["linear_bytes"], teacher["linear_bytes_bf16"]);
    assert_eq!(
        student["linear_bytes"].as_u64().unwrap() * 8,
        teacher["linear_bytes_bf16"].as_u64().unwrap()
    );

    for png in ["losses.png", "chrf.png"] {
        let bytes = std::fs::read(dir.join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png} is not a PNG");
        // Not blank: a white canvas with plotted lines compresses far worse than an empty one.
        assert!(bytes.len() > 5_000, "{png} is only {} bytes", bytes.len());
    }
    assert!(dir.join("student/model.safetensors").exists());
    std::fs::remove_dir_all(dir).unwrap();
}
