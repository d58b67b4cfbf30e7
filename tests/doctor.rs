//! `bitdistill doctor`: the machine report, the memory estimate against a measured peak, and advice for a run
//! that does not fit.

mod common;

use bitdistill::doctor::BURN_VERSION;
use common::{bitdistill, temp_dir};
use serde_json::Value;

fn assets() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

fn doctor(extra: &[&str]) -> Value {
    let mut args = vec!["doctor", "--json"];
    args.extend(extra);
    let (ok, stdout, stderr) = bitdistill(&args);
    assert!(ok, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn the_machine_report_names_cpu_memory_devices_and_versions() {
    let report = doctor(&[]);
    let system = &report["system"];
    assert!(system["logical_cores"].as_u64().unwrap() >= 1);
    let path = system["ternary_kernel"].as_str().unwrap();
    assert!(["AVX-512 VNNI", "AVX2", "NEON", "portable"].contains(&path), "{path}");
    let (total, available) = (
        system["ram_total_bytes"].as_u64(),
        system["ram_available_bytes"].as_u64(),
    );
    if let (Some(total), Some(available)) = (total, available) {
        assert!(0 < available && available <= total);
    }
    assert_eq!(system["burn_version"], BURN_VERSION);
    // CI installs lavapipe: then wgpu sees at least that software Vulkan device.
    let lavapipe = std::fs::read_dir("/usr/share/vulkan/icd.d")
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("lvp")))
        .unwrap_or(false);
    let adapters = report["wgpu_adapters"].as_array().unwrap();
    if lavapipe {
        let cpu = adapters
            .iter()
            .find(|a| a["device_type"] == "Cpu")
            .expect("lavapipe is listed");
        assert!(cpu["max_buffer_size"].as_u64().unwrap() >= 128 << 20);
    }
    // The adapter burn's default wgpu device takes is one of those listed.
    if !adapters.is_empty() {
        let name = report["wgpu_default"]["name"].as_str().expect("a default adapter");
        assert!(adapters.iter().any(|a| a["name"] == name), "{name}");
    }
    assert!(report["estimate"].is_null());
}

#[test]
fn the_pinned_burn_version_is_the_one_reported() {
    let manifest =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("version = \"={BURN_VERSION}\"")),
        "Cargo.toml no longer pins burn {BURN_VERSION}"
    );
}

#[test]
fn the_estimate_is_within_a_quarter_of_the_measured_peak() {
    // `bench train-case` trains the bundled teacher at this shape and reports both its peak resident memory
    // (VmHWM) and doctor's estimate for the same run.
    let model = assets().join("tiny-hymt");
    let (ok, stdout, stderr) = bitdistill(&[
        "bench",
        "train-case",
        "--model",
        model.to_str().unwrap(),
        "--backend",
        "flex",
        "--kernels",
        "reference",
        "--steps",
        "2",
        "--batch",
        "8",
        "--block",
        "64",
        "--shards",
        "1",
    ]);
    assert!(ok, "{stderr}");
    let row: Value = serde_json::from_str(&stdout).unwrap();
    let (peak, estimate) = (
        row["peak_rss_mib"].as_f64().unwrap(),
        row["estimated_peak_mib"].as_f64().unwrap(),
    );
    eprintln!("measured peak {peak:.0} MiB, estimate {estimate:.0} MiB");
    assert!(
        (estimate - peak).abs() <= 0.25 * peak,
        "measured {peak:.0} MiB, estimated {estimate:.0} MiB"
    );
}

#[test]
fn a_run_that_cannot_fit_gets_a_batch_that_does() {
    let dir = temp_dir("doctor-advice");
    let demo = std::fs::read_to_string(assets().join("demo.toml")).unwrap();
    let assets = assets();
    let run = demo
        .replace(
            "teacher = \"tiny-hymt\"",
            &format!("teacher = \"{}\"", assets.join("tiny-hymt").display()),
        )
        .replace("\"data/", &format!("\"{}/data/", assets.display()))
        .replace("batch_size = 8", "batch_size = 100000");
    let path = dir.join("huge.toml");
    std::fs::write(&path, run).unwrap();
    let report = doctor(&["--config", path.to_str().unwrap()]);
    let verdict = &report["verdict"];
    assert_eq!(verdict["fits"], false, "{report}");
    let advice: Vec<&str> = verdict["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let suggestion = advice
        .iter()
        .find(|a| a.contains("optim.batch_size ="))
        .expect("a batch to use");
    let batch: usize = suggestion
        .split("optim.batch_size = ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..100000).contains(&batch), "{suggestion}");
    // The suggested batch is at the edge by the same estimate: 10% fewer rows fit, 10% more do not (the margin
    // absorbs what other processes do to the available memory meanwhile).
    let peak = |b: usize| {
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("batch_size = 100000", &format!("batch_size = {b}"));
        std::fs::write(dir.join("try.toml"), text).unwrap();
        let r = doctor(&["--config", dir.join("try.toml").to_str().unwrap()]);
        r["verdict"]["fits"].as_bool().unwrap()
    };
    assert!(
        peak(batch * 9 / 10) && !peak(batch * 11 / 10 + 1),
        "suggested batch {batch}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
