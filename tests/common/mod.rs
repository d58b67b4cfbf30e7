//! Shared test helpers: fixture paths, tolerances, and an independent f64 reference forward.
#![allow(dead_code)]

pub mod naive;
pub mod training;

use std::path::PathBuf;

use bitdistill::checkpoint::{ModelFiles, SafetensorsFile};
use bitdistill::distill::student_from_teacher;
use bitdistill::model::{HunYuan, HunYuanConfig, SublnPlacement};
use burn::tensor::{Device, Tensor};

/// `../shared/fixtures/hymt-tiny-a`, or `$BITDISTILL_FIXTURES/hymt-tiny-a`.
pub fn fixture_dir() -> PathBuf {
    let root = std::env::var_os("BITDISTILL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    root.join("hymt-tiny-a")
}

/// The fixture's Stage-1 student with SubLN at `placement`: its config and model on `device`.
pub fn fixture_student(placement: SublnPlacement, device: &Device) -> (HunYuanConfig, HunYuan) {
    student_from_teacher(
        &ModelFiles::dir(fixture_dir()),
        placement,
        serde_json::Value::Null,
        device,
    )
    .unwrap()
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

/// Eight weights at and around the ternary thresholds ±Δ/2 for Δ = mean|W| = 0.25 (1/Δ = 4 exact), with the
/// official code's codes `RoundClip(W · (1/Δ), −1, 1)` (round half to even), by hand: ±0.125 → ±0.5 → 0 (a
/// tie, to even); ±(0.125 + x) → ±1; ±(0.125 − x) → 0; ±0.625 → ±2.5 → ±1.
fn threshold_tile(x: f32) -> ([f32; 8], [i8; 8]) {
    let weights = [
        0.125,
        -0.125,
        0.125 + x,
        -(0.125 + x),
        0.125 - x,
        -(0.125 - x),
        0.625,
        -0.625,
    ];
    (weights, [0, 0, 1, -1, 0, 0, 1, -1])
}

/// Weights `[2, 8]`: the tile with x = 2⁻¹³, then with x = 2⁻²⁰, where the earlier `W/(Δ + 1e-5)` put
/// 0.125 + x at 0.49998 → 0. Σ|W| = 4 is exact in f32 in any order (22 significant bits), so Δ = 0.25 exactly.
pub fn threshold_weights() -> (Vec<f32>, Vec<i8>) {
    let (coarse, codes) = threshold_tile(2f32.powi(-13));
    let (fine, _) = threshold_tile(2f32.powi(-20));
    ([coarse, fine].concat(), [codes, codes].concat())
}

/// `n` weights (a multiple of 8) tiling the x = 2⁻¹³ tile: mean|W| = 0.25 exactly (every partial sum is a
/// multiple of 2⁻¹³ below 2¹⁰, exact in f32), with the tile's codes.
pub fn threshold_tiles(n: usize) -> (Vec<f32>, Vec<i8>) {
    assert!(n.is_multiple_of(8));
    let (weights, codes) = threshold_tile(2f32.powi(-13));
    (weights.repeat(n / 8), codes.repeat(n / 8))
}

/// Runs the `bitdistill` binary: (success, stdout, stderr).
pub fn bitdistill(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bitdistill"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Vertices of each `<polyline>` of an SVG drawn in `stroke` (e.g. `#4285F4`), in document order.
pub fn polyline_vertices(svg: &str, stroke: &str) -> Vec<usize> {
    svg.lines()
        .filter(|l| l.contains("<polyline") && l.contains(&format!("stroke=\"{stroke}\"")))
        .map(|l| {
            let points = l.split("points=\"").nth(1).unwrap();
            points.split('"').next().unwrap().split_whitespace().count()
        })
        .collect()
}
