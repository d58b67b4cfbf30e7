//! Shared test helpers: fixture paths, tolerances, and an independent f64 reference forward.
#![allow(dead_code)]

pub mod naive;
pub mod training;

use std::path::PathBuf;

use bitdistill::checkpoint::SafetensorsFile;
use burn::tensor::Tensor;

/// `../shared/fixtures/hymt-tiny-a`, or `$BITDISTILL_FIXTURES/hymt-tiny-a`.
pub fn fixture_dir() -> PathBuf {
    let root = std::env::var_os("BITDISTILL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    root.join("hymt-tiny-a")
}

pub fn reference() -> SafetensorsFile {
    SafetensorsFile::open(&fixture_dir().join("reference.safetensors")).unwrap()
}

/// A reference tensor as f32 values.
pub fn reference_values(name: &str) -> Vec<f32> {
    reference()
        .read_f32(name, None)
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap()
}

pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_into_vec_as::<f32>().unwrap()
}

/// ‖got − want‖₂ / ‖want‖₂.
pub fn relative_l2(got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len(), "length mismatch");
    let (mut diff, mut norm) = (0f64, 0f64);
    for (g, w) in got.iter().zip(want) {
        diff += (*g as f64 - *w as f64).powi(2);
        norm += (*w as f64).powi(2);
    }
    (diff / norm).sqrt()
}

/// A fresh, empty temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bitdistill-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `bitdistill student init` of the fixture into `dir` with SubLN placement `subln`.
pub fn init_student(dir: &std::path::Path, subln: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bitdistill"))
        .args([
            "student",
            "init",
            "--teacher",
            fixture_dir().to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ])
        .args(["--subln", subln])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
