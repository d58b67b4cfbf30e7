//! The Stage-1 student of the fixture: its logits equal an independent computation of the same quantized
//! network, it saves and reloads as a student directory, and the model-core commands run it.

mod common;

use std::process::Command;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::{Checkpoint, SafetensorsFile};
use bitdistill::model::{Projection, SublnPlacement};
use burn::tensor::{Int, Tensor, TensorData};
use common::naive::NaiveModel;
use common::{fixture_dir, fixture_student, init_student, reference, relative_l2, temp_dir, values};

const IDS: [i64; 10] = [3, 141, 59, 265, 358, 97, 93, 238, 462, 64];

#[test]
fn paper_placement_puts_subln_on_o_proj_and_down_proj_only() {
    let device = BackendKind::Ndarray.device();
    let (config, student) = fixture_student(SublnPlacement::Paper, &device);
    assert_eq!(config.student.as_ref().unwrap().subln, SublnPlacement::Paper);
    for layer in &student.layers {
        let (a, m) = (&layer.self_attn, &layer.mlp);
        let with_subln = |p: &Projection| matches!(p, Projection::Ternary(bit) if bit.rms_norm.is_some());
        assert!(with_subln(&a.o_proj) && with_subln(&m.down_proj));
        for p in [&a.q_proj, &a.k_proj, &a.v_proj, &m.gate_proj, &m.up_proj] {
            assert!(matches!(p, Projection::Ternary(bit) if bit.rms_norm.is_none()));
        }
    }
}

/// f32 burn vs the f64 loops: a token whose activation sits within float error of an int8 rounding boundary can
/// land one step apart, so the bound is 1e-3 rather than the teacher's 1e-4.
#[test]
fn student_logits_equal_the_dequantized_network_computed_independently() {
    for (placement, name) in [("paper", "student-paper"), ("all", "student-all")] {
        let dir = temp_dir(name);
        init_student(&dir, placement);
        let written = SafetensorsFile::open(&dir.join("model.safetensors")).unwrap();
        let subln_names: Vec<String> = written.names().into_iter().filter(|n| n.contains("rms_norm")).collect();
        let expected_count = if placement == "paper" { 2 * 2 } else { 7 * 2 };
        assert_eq!(subln_names.len(), expected_count, "{subln_names:?}");
        assert!(subln_names.contains(&"model.layers.0.self_attn.o_proj.rms_norm.weight".to_string()));

        let device = BackendKind::Ndarray.device();
        let mut checkpoint = Checkpoint::open(&dir).unwrap();
        let student = checkpoint.load_model(&device).unwrap();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(IDS.to_vec(), [1, IDS.len()]), &device);
        let got = values(student.logits(ids));
        let naive = NaiveModel::new(&checkpoint.config, &[dir.join("model.safetensors")]);
        let ids: Vec<usize> = IDS.iter().map(|&i| i as usize).collect();
        let expected: Vec<f32> = naive.logits(&ids).into_iter().flatten().map(|v| v as f32).collect();
        let error = relative_l2(&got, &expected);
        eprintln!("{placement} student: relative L2 error {error:e}");
        assert!(error < 1e-3, "{placement}: relative L2 error {error:e}");

        // The quantization changed the network: the teacher's logits are far away.
        let teacher = NaiveModel::new(
            &Checkpoint::open(&fixture_dir()).unwrap().config,
            &[fixture_dir().join("model.safetensors")],
        );
        let teacher: Vec<f32> = teacher.logits(&ids).into_iter().flatten().map(|v| v as f32).collect();
        assert!(relative_l2(&got, &teacher) > 100.0 * error);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn logits_and_generate_run_on_a_student_directory() {
    let dir = temp_dir("student-cli");
    init_student(&dir, "paper");
    let out = dir.join("logits.safetensors");
    let input = fixture_dir().join("reference.safetensors");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_bitdistill"))
            .args(args)
            .output()
            .unwrap()
    };
    let result = run(&[
        "logits",
        "--model",
        dir.to_str().unwrap(),
        "--input-ids",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let logits = SafetensorsFile::open(&out)
        .unwrap()
        .read_f32("logits", None)
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap();

    // The command's default backend, so that the values can agree exactly.
    let device = BackendKind::default().device();
    let student = Checkpoint::open(&dir).unwrap().load_model(&device).unwrap();
    let (ids, shape) = reference().read_i64("input_ids").unwrap();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [shape[0], shape[1]]), &device);
    // The commands run the student with its weights quantized once (frozen): the same function up to the
    // rounding of w + (q(w) − w) versus q(w).
    let latent = values(student.logits(ids.clone()));
    let frozen = values(student.frozen_for_inference().logits(ids));
    assert_eq!(logits, frozen);
    let error = relative_l2(&frozen, &latent);
    assert!(error < 1e-6, "frozen vs latent: relative L2 error {error:e}");

    let result = run(&[
        "generate",
        "--model",
        dir.to_str().unwrap(),
        "--prompt-ids",
        "1,2,3",
        "--max-new-tokens",
        "5",
        "--ignore-eos",
    ]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let json: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(json["output_ids"].as_array().unwrap().len(), 5);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn quantization_warmup_at_zero_is_the_teacher_and_at_one_the_student() {
    let device = BackendKind::Ndarray.device();
    let (_, student) = fixture_student(SublnPlacement::None, &device);
    let teacher = Checkpoint::open(&fixture_dir()).unwrap().load_model(&device).unwrap();
    let ids = || Tensor::<2, Int>::from_data(TensorData::new(IDS.to_vec(), [1, IDS.len()]), &device);
    let quantized = values(student.logits(ids()));
    let student = student.with_quant_blend(0.0);
    assert_eq!(values(student.logits(ids())), values(teacher.logits(ids())));
    let student = student.with_quant_blend(1.0);
    assert_eq!(values(student.logits(ids())), quantized);
    assert_eq!(bitdistill::quant::warmup_blend(5, 20), 0.25);
    assert_eq!(bitdistill::quant::warmup_blend(40, 20), 1.0);
}
