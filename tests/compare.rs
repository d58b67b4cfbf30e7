//! `bitdistill compare` on the fixture: a teacher against itself, a Stage-1 student against an independent f64
//! computation, and a packed export against its latent student.

mod common;

use std::path::Path;

use bitdistill::checkpoint::Checkpoint;
use bitdistill::tokenizer::Tokenizer;
use common::naive::{NaiveLayer, NaiveModel, RelationForm, log_softmax, relation_kl_sum};
use common::training::{SENTENCES, training_setup};
use common::{bitdistill, temp_dir};
use serde_json::Value;

const HEADS: usize = 4;

fn compare(teacher: &Path, student: &Path, text: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["compare", "--teacher", teacher.to_str().unwrap(), "--student"];
    args.extend([student.to_str().unwrap(), "--text", text.to_str().unwrap(), "--json"]);
    args.extend(["--relation-heads", "4"]);
    args.extend(extra);
    let (ok, stdout, stderr) = bitdistill(&args);
    assert!(ok, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// A teacher (the fixture with a tokenizer), its Stage-1 student and a text file of the sentences.
fn setup(
    name: &str,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let dir = temp_dir(name);
    let teacher = training_setup(&dir);
    let student = dir.join("student");
    let (ok, _, stderr) = bitdistill(&[
        "student",
        "init",
        "--teacher",
        teacher.to_str().unwrap(),
        "--out",
        student.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let text = dir.join("text.txt");
    let lines: Vec<&str> = SENTENCES.iter().flat_map(|(en, pt)| [*en, *pt]).collect();
    std::fs::write(&text, lines.join("\n")).unwrap();
    (dir, teacher, student, text)
}

fn number(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no number `{key}` in {v}"))
}

#[test]
fn a_teacher_against_itself_agrees_everywhere() {
    let (dir, teacher, _, text) = setup("compare-self");
    let figure = dir.join("layers.svg");
    let report = compare(&teacher, &teacher, &text, &["--plot", figure.to_str().unwrap()]);
    // The figure names all seven per-layer curves; green is attention cosine and relation KL V: two curves of one
    // vertex per layer, and their two legend strokes.
    let svg = std::fs::read_to_string(&figure).unwrap();
    for name in [
        "hidden cosine",
        "attention relative L2",
        "relation KL Q",
        "relation KL V",
    ] {
        assert!(svg.contains(name), "{name} missing from the figure");
    }
    let green = common::polyline_vertices(&svg, "#0F9D58");
    assert_eq!(
        green,
        [2, 2, 2, 2],
        "two layers per curve, two points per legend stroke"
    );
    assert_eq!(number(&report, "kl"), 0.0);
    assert_eq!(number(&report, "top1_agreement"), 1.0);
    assert_eq!(number(&report, "top5_agreement"), 1.0);
    assert_eq!(
        number(&report, "teacher_perplexity"),
        number(&report, "student_perplexity")
    );
    let layers = report["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "one row per layer of the fixture");
    for layer in layers {
        for key in ["hidden_cosine", "attention_cosine"] {
            assert!((number(layer, key) - 1.0).abs() < 1e-6, "{key}: {layer}");
        }
        for key in [
            "hidden_relative_l2",
            "attention_relative_l2",
            "relation_kl_q",
            "relation_kl_k",
            "relation_kl_v",
        ] {
            assert_eq!(number(layer, key), 0.0, "{key}: {layer}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// One state of a layer, `[T][width]`, per sequence.
type Rows = Vec<Vec<f64>>;
/// Picks one state out of a naive layer.
type State = fn(&NaiveLayer) -> &Rows;

/// Mean per-row cosine and ‖S − T‖ / ‖T‖ over all rows of the sequences (teacher, student).
fn distance(pairs: &[(&Rows, &Rows)]) -> (f64, f64) {
    let (mut cosine, mut rows, mut diff, mut norm) = (0.0, 0, 0.0, 0.0);
    for (t, s) in pairs {
        for (t, s) in t.iter().zip(s.iter()) {
            let dot: f64 = t.iter().zip(s).map(|(a, b)| a * b).sum();
            let (nt, ns): (f64, f64) = (t.iter().map(|a| a * a).sum(), s.iter().map(|a| a * a).sum());
            cosine += dot / (nt.sqrt() * ns.sqrt());
            rows += 1;
            diff += t.iter().zip(s).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
            norm += nt;
        }
    }
    (cosine / rows as f64, (diff / norm).sqrt())
}

#[test]
fn a_stage1_student_matches_an_independent_f64_computation() {
    let (dir, teacher, student, text) = setup("compare-student");
    let report = compare(&teacher, &student, &text, &[]);

    let config = |d: &Path| Checkpoint::open(d).unwrap().config;
    let teacher_model = NaiveModel::new(&config(&teacher), &[teacher.join("model.safetensors")]);
    let student_model = NaiveModel::new(&config(&student), &[student.join("model.safetensors")]);
    let tokenizer = Tokenizer::from_file(&teacher.join("tokenizer.json")).unwrap();
    let (mut t_nll, mut s_nll, mut kl, mut top1, mut positions) = (0.0, 0.0, 0.0, 0, 0);
    let mut traces = Vec::new();
    for line in std::fs::read_to_string(&text).unwrap().lines() {
        let ids: Vec<usize> = tokenizer.encode(line).unwrap().iter().map(|&i| i as usize).collect();
        let (t_logits, t_layers) = teacher_model.trace(&ids);
        let (s_logits, s_layers) = student_model.trace(&ids);
        for t in 1..ids.len() {
            let (lt, ls) = (log_softmax(&t_logits[t - 1]), log_softmax(&s_logits[t - 1]));
            t_nll -= lt[ids[t]];
            s_nll -= ls[ids[t]];
            kl += lt.iter().zip(&ls).map(|(a, b)| a.exp() * (a - b)).sum::<f64>();
            let best = |l: &[f64]| (0..l.len()).fold(0, |b, i| if l[i] > l[b] { i } else { b });
            top1 += usize::from(best(&lt) == best(&ls));
            positions += 1;
        }
        traces.push((ids.len(), t_layers, s_layers));
    }
    let n = positions as f64;
    assert_eq!(report["positions"].as_u64().unwrap() as usize, positions);
    let close = |got: f64, want: f64, tolerance: f64, what: &str| {
        assert!(
            (got - want).abs() <= tolerance * want.abs().max(1e-3),
            "{what}: {got} vs {want}"
        );
    };
    close(
        number(&report, "teacher_perplexity"),
        (t_nll / n).exp(),
        1e-4,
        "teacher perplexity",
    );
    close(
        number(&report, "student_perplexity"),
        (s_nll / n).exp(),
        1e-4,
        "student perplexity",
    );
    close(number(&report, "kl"), kl / n, 1e-3, "KL");
    // A near-tie may flip between f32 and f64: at most one position.
    let agreement = number(&report, "top1_agreement") * n;
    assert!((agreement - top1 as f64).abs() <= 1.0, "top-1: {agreement} vs {top1}");

    let form = RelationForm {
        heads: HEADS,
        cosine: true,
        causal: false,
        clamp: true,
    };
    for (l, row) in report["layers"].as_array().unwrap().iter().enumerate() {
        let pick = |f: State| -> Vec<(&Rows, &Rows)> { traces.iter().map(|(_, t, s)| (f(&t[l]), f(&s[l]))).collect() };
        let (cosine, l2) = distance(&pick(|x| &x.output));
        close(number(row, "hidden_cosine"), cosine, 1e-5, "hidden cosine");
        close(number(row, "hidden_relative_l2"), l2, 1e-3, "hidden L2");
        let (cosine, l2) = distance(&pick(|x| &x.attention_output));
        close(number(row, "attention_cosine"), cosine, 1e-5, "attention cosine");
        close(number(row, "attention_relative_l2"), l2, 1e-3, "attention L2");
        // Official: Σ KL / (T · r) per sequence, ÷ r, averaged over sequences weighted by T.
        let states: [(&str, State); 3] = [
            ("relation_kl_q", |x| &x.q_attended),
            ("relation_kl_k", |x| &x.k_attended),
            ("relation_kl_v", |x| &x.v_proj),
        ];
        for (key, state) in states {
            let (mut sum, mut rows) = (0.0, 0);
            for (len, t, s) in &traces {
                let queries: Vec<usize> = (0..*len).collect();
                sum += relation_kl_sum(state(&t[l]), state(&s[l]), &queries, form) / (HEADS * HEADS) as f64;
                rows += len;
            }
            close(number(row, key), sum / rows as f64, 2e-3, key);
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_packed_export_compares_as_its_latent_student() {
    let (dir, teacher, student, text) = setup("compare-packed");
    let packed = dir.join("packed");
    let (ok, _, stderr) = bitdistill(&[
        "export",
        "--student",
        student.to_str().unwrap(),
        "--out",
        packed.to_str().unwrap(),
        "--embeddings",
        "f32",
    ]);
    assert!(ok, "{stderr}");
    let latent = compare(&teacher, &student, &text, &[]);
    let exported = compare(&teacher, &packed, &text, &[]);
    let close = |a: &Value, b: &Value, key: &str, tolerance: f64| {
        let (x, y) = (number(a, key), number(b, key));
        assert!(
            (x - y).abs() <= tolerance * x.abs().max(1e-3),
            "{key}: latent {x}, packed {y}"
        );
    };
    close(&latent, &exported, "student_perplexity", 1e-3);
    close(&latent, &exported, "kl", 1e-2);
    for (a, b) in latent["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(exported["layers"].as_array().unwrap())
    {
        for key in [
            "hidden_cosine",
            "attention_cosine",
            "hidden_relative_l2",
            "attention_relative_l2",
        ] {
            close(a, b, key, 1e-3);
        }
        for key in ["relation_kl_q", "relation_kl_k", "relation_kl_v"] {
            close(a, b, key, 2e-2);
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_corpora_and_mismatched_models_are_named() {
    let (dir, teacher, _, _) = setup("compare-errors");
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"text\": \"Open the file.\"}\n{\"sauce\": 1}\n").unwrap();
    let args = |text: &Path| {
        vec![
            "compare".to_string(),
            "--teacher".into(),
            teacher.display().to_string(),
            "--student".into(),
            teacher.display().to_string(),
            "--text".into(),
            text.display().to_string(),
        ]
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        bitdistill(&args)
    };
    let (ok, _, stderr) = run(args(&bad));
    assert!(
        !ok && stderr.contains("bad.jsonl:2") && stderr.contains("`text`"),
        "{stderr}"
    );
    let mut wrong_r = args(&dir.join("corpus.txt"));
    wrong_r.extend(["--relation-heads".into(), "3".into()]);
    let (ok, _, stderr) = run(wrong_r);
    assert!(!ok && stderr.contains("relation_heads = 3"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}
