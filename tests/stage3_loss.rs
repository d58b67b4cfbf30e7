//! `bitdistill loss` against an independent f64 computation of the Stage-3 terms on the shared fixture: the
//! official code's conventions (the defaults) and the earlier conventions the options keep reachable, plus the
//! errors of bad batch files and of relation-head counts that do not divide the states.

mod common;

use std::path::{Path, PathBuf};

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use bitdistill::data::BatchTensors;
use bitdistill::kernels::Kernels;
use bitdistill::train::Stage3Section;
use common::naive::{NaiveLayer, NaiveModel, RelationForm, log_softmax, relation_kl_sum};
use common::{bitdistill, fixture_dir, init_student, reference, temp_dir};
use safetensors::Dtype;
use safetensors::tensor::TensorView;

/// The batch: the fixture's two reference rows; row 1 right-padded after 10 tokens; the "reply" (the CE
/// targets) is tokens 6.. of row 0 and 5..10 of row 1.
const LEN: usize = 13;
const REAL: [usize; 2] = [13, 10];
const REPLY_FROM: [usize; 2] = [6, 5];

fn ids() -> Vec<i64> {
    reference().read_i64("input_ids").unwrap().0
}

fn mask(f: impl Fn(usize, usize) -> bool) -> Vec<i64> {
    (0..2 * LEN).map(|i| f(i / LEN, i % LEN) as i64).collect()
}

fn attention_mask() -> Vec<i64> {
    mask(|b, t| t < REAL[b])
}

fn labels_mask() -> Vec<i64> {
    mask(|b, t| t >= REPLY_FROM[b] && t < REAL[b])
}

/// Writes a batch file of named i64 tensors `[2, 13]` (or the given raw dtype and shape).
fn write_inputs(path: &Path, tensors: &[Stored]) {
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| (*name, TensorView::new(*dtype, shape.clone(), bytes).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

fn i64_bytes(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn batch_file(dir: &Path) -> PathBuf {
    let path = dir.join("batch.safetensors");
    let shape = vec![2, LEN];
    write_inputs(
        &path,
        &[
            ("input_ids", Dtype::I64, shape.clone(), i64_bytes(&ids())),
            (
                "attention_mask",
                Dtype::I64,
                shape.clone(),
                i64_bytes(&attention_mask()),
            ),
            ("labels_mask", Dtype::I64, shape, i64_bytes(&labels_mask())),
        ],
    );
    path
}

/// `bitdistill loss --json` with `extra` settings: (ce, logits_kd, attention_kd).
fn loss_command(student: &Path, inputs: &Path, extra: &[&str]) -> [f64; 3] {
    let teacher = fixture_dir();
    let mut args = vec![
        "loss",
        "--teacher",
        teacher.to_str().unwrap(),
        "--student",
        student.to_str().unwrap(),
        "--inputs",
        inputs.to_str().unwrap(),
        "--json",
    ];
    args.extend(extra);
    let (ok, stdout, stderr) = bitdistill(&args);
    assert!(ok, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    ["ce", "logits_kd", "attention_kd"].map(|k| value[k].as_f64().unwrap_or_else(|| panic!("{k} in {stdout}")))
}

/// The conventions an expected value is computed under (the independent mirror of the run-file options).
#[derive(Clone, Copy)]
struct Conventions {
    layer: usize,
    heads: usize,
    tau: f64,
    /// Q/K after RoPE and qk-norm (true) or raw projections.
    attended: bool,
    cosine: bool,
    causal: bool,
    /// Relations and logits KD over every real token (true) or the CE positions only.
    all_positions: bool,
    /// Clamp at 1e-8 and ÷ r once more (true), or the plain mean.
    official_reduction: bool,
}

const OFFICIAL: Conventions = Conventions {
    layer: 0,
    heads: 4,
    tau: 5.0,
    attended: true,
    cosine: true,
    causal: false,
    all_positions: true,
    official_reduction: true,
};

impl Conventions {
    fn form(self) -> RelationForm {
        RelationForm {
            heads: self.heads,
            cosine: self.cosine,
            causal: self.causal,
            clamp: self.official_reduction,
        }
    }
}

/// (ce, logits_kd, attention_kd) of the batch under `c`, from the naive f64 forwards of teacher and student.
fn expected_terms(teacher: &NaiveModel, student: &NaiveModel, c: Conventions) -> [f64; 3] {
    let ids: Vec<usize> = ids().iter().map(|&i| i as usize).collect();
    let (mut ce, mut ce_count) = (0.0, 0usize);
    let (mut ld, mut ld_count) = (0.0, 0usize);
    let (mut ad, mut ad_rows) = (0.0, 0usize);
    for b in 0..2 {
        let row = &ids[b * LEN..b * LEN + REAL[b]];
        let (t_logits, t_states) = teacher.trace(row);
        let (s_logits, s_states) = student.trace(row);
        // CE: token t (a label) predicted from position t − 1.
        for t in REPLY_FROM[b]..REAL[b] {
            ce -= log_softmax(&s_logits[t - 1])[row[t]];
            ce_count += 1;
        }
        // The positions the distillation terms count: all real tokens, or those predicting a label.
        let positions: Vec<usize> = match c.all_positions {
            true => (0..REAL[b]).collect(),
            false => (REPLY_FROM[b] - 1..REAL[b] - 1).collect(),
        };
        for &t in &positions {
            let scaled = |z: &[f64]| -> Vec<f64> { z.iter().map(|v| v / c.tau).collect() };
            let (lt, ls) = (log_softmax(&scaled(&t_logits[t])), log_softmax(&scaled(&s_logits[t])));
            ld += c.tau * c.tau * lt.iter().zip(&ls).map(|(a, b)| a.exp() * (a - b)).sum::<f64>();
            ld_count += 1;
        }
        let pick = |q: &NaiveLayer| -> [Vec<Vec<f64>>; 3] {
            match c.attended {
                true => [q.q_attended.clone(), q.k_attended.clone(), q.v_proj.clone()],
                false => [q.q_proj.clone(), q.k_proj.clone(), q.v_proj.clone()],
            }
        };
        for (t, s) in pick(&t_states[c.layer]).iter().zip(pick(&s_states[c.layer]).iter()) {
            ad += relation_kl_sum(t, s, &positions, c.form());
        }
        ad_rows += positions.len();
    }
    let r = c.heads as f64;
    let rows = ad_rows as f64 * r;
    let ad = if c.official_reduction { ad / rows / r } else { ad / rows };
    [ce / ce_count as f64, ld / ld_count as f64, ad]
}

fn models(student_dir: &Path) -> (NaiveModel, NaiveModel) {
    let teacher = NaiveModel::new(
        &Checkpoint::open(&fixture_dir()).unwrap().config,
        &[fixture_dir().join("model.safetensors")],
    );
    let student = NaiveModel::new(
        &Checkpoint::open(student_dir).unwrap().config,
        &[student_dir.join("model.safetensors")],
    );
    (teacher, student)
}

fn assert_terms(got: [f64; 3], want: [f64; 3], label: &str) {
    for (name, (g, w)) in ["ce", "logits_kd", "attention_kd"].iter().zip(got.iter().zip(want)) {
        let error = (g - w).abs() / w.abs();
        eprintln!("{label} {name}: {g:.8} vs f64 {w:.8} (relative {error:.1e})");
        assert!(error < 1e-4, "{label} {name}: {g} vs {w} (relative {error:e})");
    }
}

#[test]
fn loss_equals_the_official_formulas_computed_independently() {
    let dir = temp_dir("loss-official");
    let student = dir.join("student");
    init_student(&student, "paper");
    let inputs = batch_file(&dir);
    let (teacher_model, student_model) = models(&student);
    for (layer, heads) in [(0usize, 4usize), (1, 8)] {
        let c = Conventions {
            layer,
            heads,
            ..OFFICIAL
        };
        let want = expected_terms(&teacher_model, &student_model, c);
        assert!(want.iter().all(|v| *v > 0.0), "{want:?}");
        let (layer, heads) = (layer.to_string(), heads.to_string());
        let got = loss_command(&student, &inputs, &["--layer", &layer, "--relation-heads", &heads]);
        assert_terms(got, want, &format!("official, layer {layer}, r {heads}"));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Without a teacher (full-precision and BitNet-SFT training) the objective runs the head at the reply
/// positions only; its cross-entropy must still be the whole batch's, for a dense and a ternary model.
#[test]
fn cross_entropy_alone_from_the_reply_logits_equals_the_naive_one() {
    let dir = temp_dir("loss-ce-alone");
    let student = dir.join("student");
    init_student(&student, "paper");
    let (teacher_model, student_model) = models(&student);
    let device = BackendKind::Flex.device();
    let (ids, attention, labels) = (ids(), attention_mask(), labels_mask());
    // Position t predicts token t + 1, trained where that token is a label.
    let next = |i: usize| (i % LEN + 1 < LEN).then_some(i + 1);
    let targets: Vec<i64> = (0..2 * LEN).map(|i| next(i).map_or(0, |j| ids[j])).collect();
    let trained: Vec<f32> = (0..2 * LEN)
        .map(|i| next(i).map_or(0.0, |j| labels[j] as f32))
        .collect();
    let real: Vec<f32> = attention.iter().map(|&a| a as f32).collect();
    let batch = BatchTensors::new([2, LEN], ids, targets, trained, real, &device);
    let objective = Stage3Section::default().objective(2, Kernels::default());
    for (dir, naive) in [(fixture_dir(), &teacher_model), (student.clone(), &student_model)] {
        let model = Checkpoint::open(&dir).unwrap().load_model(&device).unwrap();
        let ce = objective.terms(&model, None, &batch, false).ce.into_scalar::<f32>() as f64;
        let want = expected_terms(naive, naive, OFFICIAL)[0];
        let error = (ce - want).abs() / want;
        assert!(
            error < 1e-5,
            "{}: CE {ce} vs f64 {want} (relative {error:e})",
            dir.display()
        );
    }
    // A batch with nothing to train on has a cross-entropy of 0, not NaN.
    let ids = self::ids();
    let none = BatchTensors::new(
        [2, LEN],
        ids.clone(),
        ids,
        vec![0.0; 2 * LEN],
        vec![1.0; 2 * LEN],
        &device,
    );
    let model = Checkpoint::open(&fixture_dir()).unwrap().load_model(&device).unwrap();
    assert_eq!(objective.terms(&model, None, &none, false).ce.into_scalar::<f32>(), 0.0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_options_reproduce_the_earlier_conventions() {
    let dir = temp_dir("loss-legacy");
    let student = dir.join("student");
    init_student(&student, "paper");
    let inputs = batch_file(&dir);
    let (teacher_model, student_model) = models(&student);
    // Raw projections, scaled dot, causal, reply positions, plain mean: the terms before the official
    // conventions became the defaults.
    let legacy = Conventions {
        layer: 1,
        heads: 8,
        tau: 2.0,
        attended: false,
        cosine: false,
        causal: true,
        all_positions: false,
        official_reduction: false,
    };
    let settings = [
        "--layer",
        "1",
        "--relation-heads",
        "8",
        "--tau",
        "2",
        "--relation-states",
        "projections",
        "--relation",
        "scaled-dot",
        "--causal",
        "--relation-positions",
        "reply",
        "--logits-positions",
        "reply",
        "--relation-reduction",
        "mean",
    ];
    let got = loss_command(&student, &inputs, &settings);
    assert_terms(
        got,
        expected_terms(&teacher_model, &student_model, legacy),
        "earlier conventions",
    );
    // Each option changes its own term: the reduction alone divides the relation term by r exactly.
    let official_reduction = loss_command(&student, &inputs, &settings[..settings.len() - 2]);
    let ratio = got[2] / official_reduction[2];
    assert!((ratio - 8.0).abs() < 1e-3, "mean / official = {ratio}");
    assert_eq!(
        official_reduction[..2],
        got[..2],
        "the reduction leaves CE and logits KD alone"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// One named tensor of a batch file: name, dtype, shape, little-endian bytes.
type Stored = (&'static str, Dtype, Vec<usize>, Vec<u8>);

fn i64_tensor(name: &'static str, values: &[i64]) -> Stored {
    (name, Dtype::I64, vec![2, LEN], i64_bytes(values))
}

#[test]
fn bad_batch_files_and_relation_heads_are_named() {
    let dir = temp_dir("loss-errors");
    let student = dir.join("student");
    init_student(&student, "paper");
    let teacher = fixture_dir();
    let loss = |name: &str, tensors: &[Stored], extra: &[&str]| -> (bool, String, String, PathBuf) {
        let path = dir.join(format!("{name}.safetensors"));
        write_inputs(&path, tensors);
        let mut args = vec!["loss", "--teacher", teacher.to_str().unwrap(), "--student"];
        args.extend([student.to_str().unwrap(), "--inputs", path.to_str().unwrap()]);
        args.extend(extra);
        let (ok, stdout, stderr) = bitdistill(&args);
        (ok, stdout, stderr, path)
    };
    let (ids, labels) = (
        i64_tensor("input_ids", &ids()),
        i64_tensor("labels_mask", &labels_mask()),
    );

    // Without an attention mask every token is real: accepted, and i32 ids read like i64.
    let ids32: Vec<u8> = self::ids().iter().flat_map(|&v| (v as i32).to_le_bytes()).collect();
    let i32_ids = ("input_ids", Dtype::I32, vec![2, LEN], ids32);
    let (ok, stdout, stderr, _) = loss("i32", &[i32_ids, labels.clone()], &[]);
    assert!(ok && stdout.contains("attention_kd"), "{stderr}");

    let f32_ids: Vec<u8> = self::ids().iter().flat_map(|&v| (v as f32).to_le_bytes()).collect();
    let mut outside = self::ids();
    outside[3] = 512;
    let mut two = labels_mask();
    two[7] = 2;
    let mut left_padded = attention_mask();
    left_padded[0] = 0;
    let short_labels = (
        "labels_mask",
        Dtype::I64,
        vec![2, LEN - 1],
        i64_bytes(&labels_mask()[2..]),
    );
    let cases: [(&str, Vec<Stored>, &[&str]); 6] = [
        ("missing tensor `labels_mask`", vec![ids.clone()], &[]),
        (
            "`input_ids` has unsupported dtype F32",
            vec![("input_ids", Dtype::F32, vec![2, LEN], f32_ids), labels.clone()],
            &[],
        ),
        ("`labels_mask` has shape [2, 12]", vec![ids.clone(), short_labels], &[]),
        (
            "token id 512 is outside the vocabulary (0..512)",
            vec![i64_tensor("input_ids", &outside), labels.clone()],
            &[],
        ),
        (
            "holds 2 at index 7; a mask holds only 0 and 1",
            vec![ids.clone(), i64_tensor("labels_mask", &two)],
            &[],
        ),
        (
            "row 0 has a real token at position 1 after padding: only right padding",
            vec![ids.clone(), labels.clone(), i64_tensor("attention_mask", &left_padded)],
            &[],
        ),
    ];
    for (index, (expected, tensors, extra)) in cases.iter().enumerate() {
        let (ok, _, stderr, path) = loss(&format!("bad-{index}"), tensors, extra);
        assert!(!ok, "{expected}: accepted");
        assert!(
            stderr.contains(path.to_str().unwrap()) && stderr.contains(expected),
            "{stderr}"
        );
    }
    // r = 3 divides neither Q (64) nor K/V (32): the message names the teacher, both widths and what would work.
    let (ok, _, stderr, _) = loss("heads", &[ids, labels], &["--relation-heads", "3"]);
    assert!(!ok, "r = 3 was accepted");
    for part in [
        "config.json",
        "relation_heads = 3",
        "Q is 64",
        "K and V are 32",
        "1, 2, 4, 8, 16, 32",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
