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
        stdout.contains("| teacher (bf16) | en-pt |")
            && stdout.contains("| student (1.58-bit, fake-quant) | en-zh |")
            && stdout.contains("| student packed2 (ternary kernel) | en-pt |"),
        "{stdout}"
    );

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    for model in ["teacher", "student", "packed"] {
        for pair in ["en-pt", "en-zh"] {
            let scores = &report[model]["scores"][pair];
            assert_eq!(scores["sentences"], 3, "{model} {pair}");
            let chrf = scores["chrf"].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&chrf), "{model} {pair} chrF {chrf}");
        }
    }
    assert_eq!(report["teacher"]["scores"]["en-zh"]["tokenize"], "zh");
    // 1024 Stage-2 tokens are 2 steps of 8 × 64, then 3 Stage-3 steps.
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2 + 3);
    // Stage-2 blocks are all full; Stage-3 pairs pad to the batch's longest.
    for step in steps {
        let share = step["padding_share"].as_f64().unwrap();
        match step["stage"].as_str().unwrap() {
            "pretrain" => assert_eq!(share, 0.0),
            _ => assert!((0.0..1.0).contains(&share), "{share}"),
        }
    }
    let markdown = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        markdown.contains("Stage 2: ") && markdown.contains("% of them padding"),
        "{markdown}"
    );
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
    // The packed export of the 4-layer teacher (widths multiples of 128, so no padding): 2 bits a weight plus
    // one 4-byte Δ per projection.
    let packed = &report["packed"];
    let bf16 = teacher["linear_bytes_bf16"].as_u64().unwrap();
    assert_eq!(
        packed["linear_bytes"].as_u64().unwrap(),
        bf16 / 8 + 4 * 7 * 4,
        "{packed}"
    );
    assert!(packed["model_bytes"].as_u64().unwrap() < teacher["model_bytes"].as_u64().unwrap());
    assert!(dir.join("student/model.safetensors").exists());
    assert!(dir.join("student-packed2/model.safetensors").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_shortened_ablation_trains_each_row_and_resumes_from_finished_rows() {
    let dir = common::temp_dir("ablate");
    let ablate = || {
        Command::new(env!("CARGO_BIN_EXE_bitdistill"))
            .args([
                "ablate",
                "--out",
                dir.to_str().unwrap(),
                "--rows",
                "fp-teacher,bitnet-sft,attention-kd",
            ])
            .args(["--stage2-tokens", "1024", "--stage3-steps", "2", "--eval-limit", "1"])
            .output()
            .unwrap()
    };
    let out = ablate();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("ablation.json")).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    let steps: Vec<u64> = rows.iter().map(|r| r["optimizer_steps"].as_u64().unwrap()).collect();
    // The teacher is evaluated untrained; BitNet-SFT has no Stage 2; BitDistill runs 2 Stage-2 steps (1024 tokens
    // of 8 × 64) and 2 Stage-3 steps.
    assert_eq!(steps, [0, 2, 4]);
    assert_eq!(rows[2]["label"], "+ attention distillation (= BitDistill)");
    for row in rows {
        assert_eq!(row["model"]["scores"]["en-pt"]["sentences"], 1);
    }
    let table = std::fs::read_to_string(dir.join("ablation.md")).unwrap();
    assert_eq!(table.lines().count(), 2 + 3, "{table}");

    // A second call reads the finished rows back instead of training them again.
    let first = std::fs::read(dir.join("bitnet-sft/result.json")).unwrap();
    std::fs::remove_dir_all(dir.join("bitnet-sft/checkpoints")).ok();
    let out = ablate();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(dir.join("bitnet-sft/result.json")).unwrap(), first);
    assert!(String::from_utf8_lossy(&out.stdout).contains("| BitNet-SFT |"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_sweep_shares_stage2_trains_each_point_and_resumes() {
    let dir = common::temp_dir("sweep");
    let dev = common::temp_dir("sweep-dev").join("dev.jsonl");
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    // Two held-out pairs stand in for a dev split here.
    let test = std::fs::read_to_string(assets.join("data/test.jsonl")).unwrap();
    std::fs::write(&dev, test.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
    let sweep = || {
        Command::new(env!("CARGO_BIN_EXE_bitdistill"))
            .args(["sweep", "--out", dir.to_str().unwrap(), "--dev", dev.to_str().unwrap()])
            .args(["--set", "stage3.gamma=0,1000", "--set", "stage3.tau=1"])
            .args(["--stage2-tokens", "1024", "--stage3-steps", "2", "--eval-limit", "1"])
            .output()
            .unwrap()
    };
    let out = sweep();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let points: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("sweep.json")).unwrap()).unwrap();
    let points = points.as_array().unwrap();
    // Stage 2 ran once (its own folder); each point ran only its 2 Stage-3 steps from that student.
    assert!(dir.join("stage2/student/config.json").exists());
    let steps: Vec<u64> = points.iter().map(|p| p["optimizer_steps"].as_u64().unwrap()).collect();
    assert_eq!(steps, [2, 2]);
    let settings: Vec<String> = points.iter().map(|p| p["settings"].to_string()).collect();
    assert_eq!(
        settings,
        [r#"[["Gamma",0.0],["Tau",1.0]]"#, r#"[["Gamma",1000.0],["Tau",1.0]]"#]
    );
    assert!(dir.join("gamma=1000,tau=1/student/config.json").exists());
    let table = std::fs::read_to_string(dir.join("sweep.md")).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2 + 2, "{table}");
    assert!(lines[0].starts_with("| gamma | tau | chrF en-pt |"), "{table}");
    assert!(lines[3].starts_with("| 1000 | 1 |"), "{table}");

    // A second call reads the finished points back.
    let first = std::fs::read(dir.join("gamma=0,tau=1/result.json")).unwrap();
    let out = sweep();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(dir.join("gamma=0,tau=1/result.json")).unwrap(), first);
    std::fs::remove_dir_all(dir).unwrap();
}
