//! The app's panels driven headlessly with egui_kittest: each shows real content computed from the fixture,
//! the quantizer or the events it was given.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::{Checkpoint, ModelFiles, SaveDtype, save_checkpoint};
use bitdistill::distill::{RelationReduction, student_from_teacher};
use bitdistill::export::{ExportFormat, export_student};
use bitdistill::generate::{Engine, GenerationConfig, Loaded};
use bitdistill::gui::{
    AttentionPanel, CompareSection, Heatmap, ModelPanel, OpenedModel, Panel, QuantizePanel, ReportPanel,
    SELFTEST_TRAIN_STEPS, SelfTest, SelfTestRun, Settings, StudioApp, Template, TernaryView, TrainPanel,
    TranslatePanel, colour, install_fonts, matrix, model_bytes,
};
use bitdistill::infer::EmbeddingStorage;
use bitdistill::kernels::Kernels;
use bitdistill::model::SublnPlacement;
use bitdistill::prompt::language;
use bitdistill::quant::{absmean_scale, ternary_codes};
use bitdistill::report::{METRICS_FILE, MetricsLog, read_metrics};
use bitdistill::train::{Snapshot, Stage, StepMetrics, TrainEvent};
use burn::tensor::{Tensor, TensorData};
use common::fixture_dir;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

/// A harness drawing with the app's fonts (kittest panics on a glyph no font has: Chinese output needs them).
fn studio_harness<'a, S>(app: impl FnMut(&mut egui::Ui, &mut S) + 'a, state: S) -> Harness<'a, S> {
    let harness = Harness::new_ui_state(app, state);
    install_fonts(&harness.ctx);
    harness
}

/// Steps `harness` until `done` holds (background threads finish between frames).
fn step_until<S>(harness: &mut Harness<'_, S>, done: impl Fn(&S) -> bool) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(2);
}

fn opened_fixture() -> Arc<OpenedModel> {
    Arc::new(OpenedModel {
        dir: fixture_dir(),
        checkpoint: Checkpoint::open(&fixture_dir()).unwrap(),
    })
}

#[test]
fn model_panel_loads_in_the_background_and_shows_the_parameter_breakdown() {
    let mut panel = ModelPanel::new(fixture_dir().display().to_string());
    panel.load();
    let mut harness = studio_harness(
        |ui, panel: &mut ModelPanel| {
            panel.poll();
            panel.ui(ui);
        },
        panel,
    );
    step_until(&mut harness, |p| p.opened.is_some() || p.error.is_some());
    let config = Checkpoint::open(&fixture_dir()).unwrap().config;
    let params = config.param_breakdown();
    harness.get_by_label(&format!("{} parameters", params.total()));
    harness.get_by_label(&config.hidden_size.to_string());
    let (bf16, ternary) = model_bytes(&params);
    assert_eq!(bf16, 2 * params.total());
    harness.get_by_label(&format!("bf16: {bf16} bytes"));
    harness.get_by_label(&format!(
        "1.58-bit linears (2-bit packing), the rest bf16: {ternary} bytes"
    ));

    harness.state_mut().path = "/nonexistent/model".into();
    harness.state_mut().load();
    step_until(&mut harness, |p| p.error.is_some());
    harness.get_by_label_contains("/nonexistent/model");
}

#[test]
fn quantize_panel_histogram_and_shares_come_from_the_selected_weights() {
    let model = opened_fixture();
    let mut panel = QuantizePanel::default();
    panel.layer = 1;
    panel.projection = 4; // gate_proj
    let mut harness = studio_harness(move |ui, panel: &mut QuantizePanel| panel.ui(ui, Some(&model)), panel);
    step_until(&mut harness, |p| p.view.is_some());
    let config = Checkpoint::open(&fixture_dir()).unwrap().config;
    let weights = Checkpoint::open(&fixture_dir())
        .unwrap()
        .read_f32(
            "model.layers.1.mlp.gate_proj.weight",
            &[config.intermediate_size, config.hidden_size],
        )
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap();
    let view = harness.state().view.clone().unwrap();
    assert_eq!(
        view.latent_counts.iter().sum::<u64>() as usize,
        weights.len(),
        "one count per weight"
    );
    assert_eq!(view, TernaryView::new(&weights, view.latent_counts.len(), 1.0));

    // The shares the panel prints are those of the training quantizer.
    let device = BackendKind::Ndarray.device();
    let w = Tensor::<2>::from_data(
        TensorData::new(weights.clone(), [config.intermediate_size, config.hidden_size]),
        &device,
    );
    let codes = ternary_codes(w.clone(), absmean_scale(w))
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let share = |c: f32| 100.0 * codes.iter().filter(|&&x| x == c).count() as f64 / codes.len() as f64;
    harness.get_by_label(&format!(
        "codes: −1 {:.1}%  0 {:.1}%  +1 {:.1}%",
        share(-1.0),
        share(0.0),
        share(1.0)
    ));

    // Moving λ to 0 redraws the blended histogram as the latent one.
    harness.state_mut().blend = 0.0;
    harness.run_steps(2);
    let view = harness.state().view.clone().unwrap();
    assert_eq!(view.blended_counts, view.latent_counts);
}

#[test]
fn quantize_panel_measures_the_int8_error_of_a_typed_sentence_per_token() {
    let dir = bitdistill::demo::assets_dir().join("tiny-hymt");
    let model = Arc::new(OpenedModel {
        dir: dir.clone(),
        checkpoint: Checkpoint::open(&dir).unwrap(),
    });
    let mut panel = QuantizePanel::default();
    panel.layer = 1;
    panel.activation.sentence = "Save the file.".into();
    let mut harness = studio_harness(move |ui, panel: &mut QuantizePanel| panel.ui(ui, Some(&model)), panel);
    step_until(&mut harness, |p| p.view.is_some());
    harness.get_by_label("Measure").click();
    harness.run_steps(1);
    step_until(&mut harness, |p| !p.activation.is_running());
    let result = harness.state().activation.result.clone().expect("measured");

    // One error per token of the sentence, for every layer.
    let tokenizer = bitdistill::tokenizer::Tokenizer::from_file(&dir.join("tokenizer.json")).unwrap();
    let ids = tokenizer.encode("Save the file.").unwrap();
    assert_eq!(result.tokens, tokenizer.pieces(&ids));
    let mut checkpoint = Checkpoint::open(&dir).unwrap();
    let config = checkpoint.config.clone();
    assert_eq!(result.errors.len(), config.num_hidden_layers);
    assert!(result.errors.iter().all(|layer| layer.len() == ids.len()));

    // Token 0 at layer 1 by hand in f64: RMSNorm of the layer's input, then absmax int8 (half to even).
    let device = BackendKind::Ndarray.device();
    let teacher = checkpoint.load_model(&device).unwrap();
    let probes = bitdistill::model::Probes {
        hidden_states: true,
        ..Default::default()
    };
    let hidden = teacher
        .forward(bitdistill::generate::ids_tensor(&ids, &device), None, &probes)
        .hidden_states[1]
        .clone()
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let gamma = checkpoint
        .read_f32("model.layers.1.input_layernorm.weight", &[config.hidden_size])
        .unwrap()
        .try_into_vec_as::<f32>()
        .unwrap();
    let x: Vec<f64> = hidden[..config.hidden_size].iter().map(|&v| v as f64).collect();
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64 + config.rms_norm_eps).sqrt();
    let normed: Vec<f64> = x.iter().zip(&gamma).map(|(v, g)| v / rms * *g as f64).collect();
    let scale = 127.0 / normed.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let error: f64 = normed
        .iter()
        .map(|v| (v - (v * scale).round_ties_even().clamp(-128.0, 127.0) / scale).powi(2))
        .sum();
    let want = (error / normed.iter().map(|v| v * v).sum::<f64>()).sqrt();
    assert!(
        (result.errors[1][0] - want).abs() < 1e-4 * want.max(1e-3),
        "{} vs {want}",
        result.errors[1][0]
    );
    harness.get_by_label_contains(&format!("over {} tokens", ids.len()));
}

fn step_event(step: usize, total: usize) -> TrainEvent {
    TrainEvent::Step(StepMetrics {
        stage: Stage::Distill,
        step,
        total_steps: total,
        loss: 5.0 / step as f64,
        ce: 4.0,
        logits_kd: Some(0.5),
        attention_kd: None,
        lr: 1e-4,
        grad_norm: 2.0,
        tokens_per_s: 300.0,
        padding_share: 0.25,
        quant_blend: 1.0,
    })
}

#[test]
fn train_panel_draws_one_point_per_step_event_and_reports_progress() {
    let run_file = bitdistill::demo::assets_dir().join("demo.toml");
    let mut panel = TrainPanel::new(run_file.display().to_string());
    assert!(panel.config.is_some(), "{:?}", panel.message);
    for step in 1..=9 {
        panel.history.push(step_event(step, 150));
    }
    let mut harness = studio_harness(|ui, panel: &mut TrainPanel| panel.ui(ui), panel);
    harness.run_steps(2);
    // The status line: stage and step, the rate and ETA (the events came in at once, so their values are not
    // checked here; train/progress.rs tests them), then the loss.
    for part in ["Distill step 9/150 · ", " steps/s · ETA ", " · loss 0.556"] {
        harness.get_by_label_contains(part);
    }
    assert_eq!(harness.state().history.series(|m| Some(m.loss)).len(), 9);
    assert_eq!(harness.state().history.series(|m| m.attention_kd).len(), 0);
    harness.get_by_label("Start");
    harness.get_by_label("λ (logits KD)");

    // The form's choices reach the run config: the kernel path of a wgpu run.
    assert_eq!(harness.state().config.as_ref().unwrap().kernels, Kernels::Fused);
    harness.get_by_label("kernels").click();
    harness.run_steps(2);
    harness.get_by_label("Reference").click();
    harness.run_steps(2);
    assert_eq!(harness.state().config.as_ref().unwrap().kernels, Kernels::Reference);
    // ...and the Stage-3 conventions: the relation reduction and causality start at the official code's.
    let stage3 = |h: &Harness<'_, TrainPanel>| h.state().config.as_ref().unwrap().stage3.clone();
    assert_eq!(
        (stage3(&harness).relation_reduction, stage3(&harness).causal),
        (RelationReduction::Official, false)
    );
    harness.get_by_label("relation reduction").click();
    harness.run_steps(2);
    harness.get_by_label("Mean").click();
    harness.run_steps(2);
    harness.get_by_label("causal relations").click();
    harness.run_steps(2);
    assert_eq!(
        (stage3(&harness).relation_reduction, stage3(&harness).causal),
        (RelationReduction::Mean, true)
    );
    harness.state_mut().history.push(TrainEvent::Notice {
        message: "the attention-relation term takes the reference path: a test".into(),
    });
    harness.run_steps(2);
    harness.get_by_label("note: the attention-relation term takes the reference path: a test");

    harness.state_mut().run_file = "/nonexistent/run.toml".into();
    harness.state_mut().load_run_file();
    harness.run_steps(1);
    harness.get_by_label_contains("/nonexistent/run.toml");
}

fn snapshot() -> Snapshot {
    // Two heads over three tokens: head h's matrix holds values 10h + i.
    let attention = |base: f32| {
        (0..2 * 9)
            .map(|i| base + (i / 9) as f32 * 10.0 + (i % 9) as f32)
            .collect::<Vec<f32>>()
    };
    Snapshot {
        stage: Stage::Distill,
        step: 5,
        layers: Vec::new(),
        tokens: vec!["Open".into(), " the".into(), " file".into()],
        attention_layer: 3,
        teacher_attention: attention(0.0),
        student_attention: attention(0.5),
        heads: 2,
        teacher_relations: (0..27).map(|i| i as f32).collect(),
        student_relations: (0..27).map(|i| 2.0 * i as f32).collect(),
        relation_form: "layer 3, cosine".into(),
    }
}

#[test]
fn attention_panel_colours_each_cell_from_its_own_matrix_value() {
    let s = snapshot();
    let head1 = matrix(&s.teacher_attention, 3, 1);
    assert_eq!(head1[0], 10.0);
    let map = Heatmap {
        title: "teacher attention",
        values: head1,
        labels: &s.tokens,
        cell: 10.0,
    };
    assert_eq!(map.cell_colour(2, 1), colour(17.0, 10.0, 18.0));
    // The difference map of V (matrix 2): student − teacher = i over i in 18..27, on a scale from 18 to 26.
    let diff: Vec<f32> = matrix(&s.student_relations, 3, 2)
        .iter()
        .zip(matrix(&s.teacher_relations, 3, 2))
        .map(|(a, b)| a - b)
        .collect();
    assert_eq!(diff[4], 22.0);

    let mut harness = studio_harness(
        move |ui, panel: &mut AttentionPanel| panel.ui(ui, Some(&s)),
        AttentionPanel::default(),
    );
    harness.run_steps(2);
    harness.get_by_label("Distill step 5 · layer 3 · probe of 3 tokens");
    for title in [
        "teacher attention",
        "student attention",
        "teacher relation",
        "student − teacher",
        "distilled relations: layer 3, cosine",
    ] {
        harness.get_by_label(title);
    }
}

/// While a distillation trains on the worker, the UI thread keeps producing frames: no frame of the whole app
/// (Train panel open, events arriving, snapshots drawn) takes longer than a second.
#[test]
fn the_ui_keeps_drawing_frames_while_a_run_trains() {
    let dir = common::temp_dir("gui-responsive");
    let settings = Settings::demo(&bitdistill::demo::assets_dir());
    let mut harness = studio_harness(|ui, app: &mut StudioApp| app.show(ui), StudioApp::new(settings, None));
    {
        let config = harness
            .state_mut()
            .train
            .config
            .as_mut()
            .expect("the demo run file loads");
        config.stage2.tokens = 2048;
        config.stage3.steps = 4;
        config.snapshot.every = 1;
        config.out = dir.clone();
    }
    let ctx = harness.ctx.clone();
    harness.state_mut().train.start(false, &ctx);
    let started = Instant::now();
    let (mut frames, mut slowest) = (0usize, Duration::ZERO);
    while harness.state().train.is_running() {
        assert!(started.elapsed() < Duration::from_secs(600), "the run did not finish");
        let frame = Instant::now();
        harness.step();
        slowest = slowest.max(frame.elapsed());
        frames += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.run_steps(2);
    let history = &harness.state().train.history;
    assert!(history.finished, "{:?}", history.failed);
    assert!(!history.steps.is_empty() && history.latest_snapshot.is_some());
    assert!(frames >= 10, "only {frames} frames while training");
    assert!(
        slowest < Duration::from_secs(1),
        "a frame took {slowest:?} while training"
    );
    // The worker logged the run like `bitdistill distill` does (serde_json may parse the last bit of an f64
    // differently from how it wrote it).
    let logged = read_metrics(&dir.join(METRICS_FILE)).unwrap();
    assert_eq!(logged.len(), history.steps.len());
    for (read, live) in logged.iter().zip(&history.steps) {
        assert_eq!((read.stage, read.step), (live.stage, live.step));
        assert!((read.loss - live.loss).abs() <= 1e-12 * live.loss.abs());
    }
}

#[test]
fn the_app_switches_panels_and_keeps_its_settings() {
    let settings = Settings::demo(&bitdistill::demo::assets_dir());
    let mut harness = studio_harness(|ui, app: &mut StudioApp| app.show(ui), StudioApp::new(settings, None));
    harness.run_steps(2);
    harness.get_by_label("Quantize").click();
    harness.run_steps(2);
    assert_eq!(harness.state().panel, Panel::Quantize);
    step_until(&mut harness, |app| app.quantize.view.is_some());
    harness.get_by_label("Attention").click();
    harness.run_steps(2);
    harness.get_by_label_contains("No snapshot yet");
    let saved = serde_json::to_string(&harness.state().settings()).unwrap();
    let restored: Settings = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored.panel, Panel::Attention);
    assert!(restored.model_dir.ends_with("tiny-hymt"));
}

/// A packed2 export of the bundled teacher's Stage-1 student, tokenizer included.
fn packed_demo_student(dir: &std::path::Path) -> std::path::PathBuf {
    let teacher = bitdistill::demo::assets_dir().join("tiny-hymt");
    let device = BackendKind::Ndarray.device();
    let (config, model) = student_from_teacher(
        &ModelFiles::dir(&teacher),
        SublnPlacement::Paper,
        serde_json::Value::Null,
        &device,
    )
    .unwrap();
    let latent = dir.join("latent");
    save_checkpoint(&model, &config, &latent, SaveDtype::F32, false, None).unwrap();
    std::fs::copy(teacher.join("tokenizer.json"), latent.join("tokenizer.json")).unwrap();
    let packed = dir.join("packed2");
    export_student(&latent, &packed, ExportFormat::Packed2, EmbeddingStorage::Bf16).unwrap();
    packed
}

#[test]
fn translate_panel_streams_both_models_side_by_side_as_the_translator_does() {
    let dir = common::temp_dir("gui-translate");
    let teacher = bitdistill::demo::assets_dir().join("tiny-hymt");
    let student = packed_demo_student(&dir);
    let mut panel = TranslatePanel::new(teacher.display().to_string(), student.display().to_string());
    panel.source = "Save the file before closing.".into();
    panel.to = "pt".into();
    panel.template = Template::Terminology;
    panel.source_term = "file".into();
    panel.target_term = "arquivo".into();
    panel.max_new_tokens = 12;
    let mut harness = studio_harness(|ui, panel: &mut TranslatePanel| panel.ui(ui), panel);
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Translate").click();
    harness.run_steps(1);
    assert!(harness.state().is_running(), "both sides run on their own threads");
    step_until(&mut harness, |p| !p.is_running());

    // Each column holds exactly what the shared translation path gives for the same request.
    let kind = harness.state().prompt_kind();
    let generation = GenerationConfig {
        max_new_tokens: 12,
        ..GenerationConfig::default()
    };
    for (side, model_dir) in [
        (&harness.state().teacher, &teacher),
        (&harness.state().student, &student),
    ] {
        assert_eq!(side.error, None, "{}", side.title);
        let loaded = Loaded::open(model_dir, None, Engine::Auto, BackendKind::Ndarray).unwrap();
        let mut partials = 0;
        let want = loaded
            .translator()
            .unwrap()
            .translate(
                "Save the file before closing.",
                language("en"),
                language("pt").unwrap(),
                &kind,
                &generation,
                |_| partials += 1,
            )
            .unwrap();
        assert!(partials > 0, "the translation streams");
        assert_eq!(side.text.trim(), want.text, "{}", side.title);
        let (tokens, rate) = side.tokens.expect("finished with a token count");
        assert_eq!(tokens, want.tokens, "{}", side.title);
        assert!(rate > 0.0);
        harness.get_by_label(&format!(
            "{tokens} tokens · {rate:.1} tokens/s · {}",
            side.engine.as_deref().unwrap()
        ));
    }
    assert_eq!(
        harness.state().student.engine.as_deref(),
        Some("ternary CPU engine"),
        "packed exports run on it"
    );
    assert_eq!(harness.state().teacher.engine.as_deref(), Some("burn (Flex)"));

    // A bad directory is an error in its column, not a crash; the other column still translates.
    harness.state_mut().student.dir = "/nonexistent/student".into();
    harness.get_by_role_and_label(Role::Button, "Translate").click();
    harness.run_steps(1);
    step_until(&mut harness, |p| !p.is_running());
    assert!(
        harness
            .state()
            .student
            .error
            .as_deref()
            .unwrap()
            .contains("/nonexistent/student")
    );
    assert!(harness.state().teacher.tokens.is_some());
}

fn metrics_file(dir: &std::path::Path, name: &str, steps: usize) -> std::path::PathBuf {
    let path = dir.join(name).join(METRICS_FILE);
    let mut log = MetricsLog::append(&path).unwrap();
    log.record(&TrainEvent::StageStarted {
        stage: Stage::Distill,
        total_steps: steps,
        start_step: 0,
    });
    for step in 1..=steps {
        log.record(&step_event(step, steps));
    }
    path
}

#[test]
fn report_panel_overlays_two_runs_and_exports_csv_jsonl_png_and_svg() {
    let dir = common::temp_dir("gui-report");
    let (a, b) = (metrics_file(&dir, "run-a", 9), metrics_file(&dir, "run-b", 5));
    let out = dir.join("report");
    let panel = ReportPanel::new(a.display().to_string(), out.display().to_string());
    let live: Vec<StepMetrics> = (1..=7)
        .map(|step| match step_event(step, 7) {
            TrainEvent::Step(m) => m,
            _ => unreachable!(),
        })
        .collect();
    let histogram: Vec<u64> = (0..60).map(|i| (i * 7 % 13) as u64).collect();
    let histograms = vec![vec![0u64; 60], histogram.clone()];
    let live_steps = live.clone();
    let mut harness = studio_harness(
        move |ui, panel: &mut ReportPanel| panel.ui(ui, &live_steps, &histograms),
        panel,
    );
    harness.state_mut().run_b = b.display().to_string();
    harness.state_mut().histogram_layer = 1;
    harness.run_steps(1);
    harness.get_by_label("Load runs").click();
    harness.run_steps(1);
    step_until(&mut harness, |p| !p.is_busy());
    let lengths: Vec<usize> = harness.state().runs.iter().map(|(_, s)| s.len()).collect();
    assert_eq!(lengths, [9, 5], "{:?}", harness.state().message);
    harness.get_by_label("run-a: 9 steps");
    harness.get_by_label("run-b: 5 steps");

    harness.get_by_label("Export CSV, JSONL, PNG and SVG").click();
    harness.run_steps(1);
    step_until(&mut harness, |p| !p.is_busy());
    harness.get_by_label_contains("wrote");

    // CSV: a header and one row per live step, with its values.
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1 + live.len());
    assert!(rows[0].starts_with("stage,step,total_steps,loss,ce,logits_kd,attention_kd"));
    let third: Vec<&str> = rows[3].split(',').collect();
    assert_eq!(
        third[..7],
        ["distill", "3", "7", &(5.0f64 / 3.0).to_string(), "4", "0.5", ""]
    );
    assert_eq!(third[9..], ["300", "0.25", "1"], "tokens/s, padding share, quant blend");
    // JSONL reads back to the same steps.
    assert_eq!(read_metrics(&out.join("metrics.jsonl")).unwrap(), live);
    // PNG figures: the requested size, not blank.
    for (name, size) in [("curves.png", (960, 480)), ("histogram-layer1.png", (800, 420))] {
        let image = image::open(out.join(name)).unwrap().to_rgba8();
        assert_eq!(image.dimensions(), size, "{name}");
        let colours: std::collections::HashSet<[u8; 4]> = image.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 20, "{name}: {} colours", colours.len());
    }
    // SVG curves: the loss line of the live run has one vertex per step, overlays one per step of theirs.
    let svg = std::fs::read_to_string(out.join("curves.svg")).unwrap();
    let vertices = common::polyline_vertices(&svg, "#4285F4");
    assert_eq!(vertices[..3], [7, 9, 5], "{vertices:?}");
    // SVG histogram: one bar per bin with a weight in it.
    let svg = std::fs::read_to_string(out.join("histogram-layer1.svg")).unwrap();
    let bars = svg.matches("<rect").count();
    assert!(bars >= histogram.iter().filter(|&&c| c > 0).count(), "{bars} rects");
}

/// The real app under Xvfb (lavapipe renders wgpu): a short demo run, then a PNG of every panel. The pictures
/// stay in `ci-artifacts/screenshots/` of the checkout (the CI artifact path in the README).
#[test]
fn the_app_saves_a_screenshot_of_every_panel_under_xvfb() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ci-artifacts/screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 1280x900x24",
            env!("CARGO_BIN_EXE_bitdistill"),
            "gui",
        ])
        .args(["--screenshot-dir", dir.to_str().unwrap(), "--screenshot-steps", "2"])
        .env("WGPU_BACKEND", "vulkan")
        .output()
        .expect("xvfb-run (apt-get install xvfb) runs the window");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for panel in Panel::ALL {
        let path = dir.join(format!("{}.png", panel.name().to_lowercase()));
        let image = image::open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .to_rgba8();
        assert!(
            image.width() >= 800 && image.height() >= 600,
            "{}: {:?}",
            path.display(),
            image.dimensions()
        );
        // Not blank: a panel with text, widgets and plots has many distinct colours.
        let colours: std::collections::HashSet<[u8; 4]> = image.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 50, "{}: only {} colours", path.display(), colours.len());
    }
}

#[test]
fn compare_section_runs_in_the_background_and_plots_one_point_per_layer() {
    let dir = common::temp_dir("gui-compare");
    let teacher = common::training::training_setup(&dir);
    let text = dir.join("corpus.txt");
    let section = CompareSection::new(
        teacher.display().to_string(),
        teacher.display().to_string(),
        text.display().to_string(),
    );
    let mut harness = studio_harness(move |ui, section: &mut CompareSection| section.ui(ui), section);
    harness.run_steps(1);
    harness.get_by_label("Compare").click();
    harness.run_steps(1);
    step_until(&mut harness, |s| !s.is_busy());
    let report = harness
        .state()
        .report
        .clone()
        .unwrap_or_else(|| panic!("{:?}", harness.state().message));
    // The teacher against itself: no divergence, full agreement, one row per layer of the fixture.
    assert_eq!((report.kl, report.top1_agreement), (0.0, 1.0));
    assert_eq!(report.layers.len(), 2);
    harness.get_by_label_contains("top-1 agreement 100.0%");
    // A missing corpus arrives as a message, not a panic.
    harness.state_mut().text = dir.join("missing.txt").display().to_string();
    harness.get_by_label("Compare").click();
    harness.run_steps(1);
    step_until(&mut harness, |s| !s.is_busy());
    assert!(
        harness
            .state()
            .message
            .as_deref()
            .is_some_and(|m| m.contains("missing.txt"))
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_translate_self_test_reports_what_the_cli_path_translates() {
    let dir = common::temp_dir("gui-selftest");
    let teacher = bitdistill::demo::assets_dir().join("tiny-hymt");
    let student = packed_demo_student(&dir);
    let mut settings = Settings::web();
    settings.teacher_dir = teacher.display().to_string();
    settings.student_dir = student.display().to_string();
    let test = SelfTest::from_query("?selftest=translate&from=en&to=pt&text=Show+hidden+files")
        .unwrap()
        .unwrap();
    let reported = std::rc::Rc::new(std::cell::RefCell::new(None));
    let sink = reported.clone();
    let mut app = StudioApp::new(settings, None);
    app.selftest = Some(SelfTestRun::new(test, move |result| *sink.borrow_mut() = Some(result)));
    let mut harness = studio_harness(|ui, app: &mut StudioApp| app.show(ui), app);
    harness.run_steps(1);
    assert_eq!(
        harness.state().panel,
        Panel::Translate,
        "the self-test drives the Translate panel"
    );
    step_until(&mut harness, |app| app.selftest.is_none());
    let result = reported.borrow_mut().take().expect("one report");
    assert_eq!(result["errors"], serde_json::json!([]));
    // Greedy, the panel's 64 new tokens: what `bitdistill translate --max-new-tokens 64` prints.
    for (key, model) in [("teacher", &teacher), ("student", &student)] {
        let loaded = Loaded::open(model, None, Engine::Auto, BackendKind::Flex).unwrap();
        let generation = GenerationConfig {
            max_new_tokens: 64,
            ..GenerationConfig::default()
        };
        let want = loaded
            .translator()
            .unwrap()
            .translate(
                "Show hidden files",
                language("en"),
                language("pt").unwrap(),
                &bitdistill::prompt::PromptKind::Plain,
                &generation,
                |_| {},
            )
            .unwrap();
        assert_eq!(result[key], serde_json::json!(want.text), "{key}");
        assert_eq!(
            result[format!("{key}_rate")]["tokens"],
            serde_json::json!(want.tokens),
            "{key}"
        );
    }
    assert_eq!(result["student_engine"], "ternary CPU engine");
    assert_eq!(result["teacher_engine"], "burn (Flex)");
}

#[test]
fn the_train_self_test_reports_two_finite_steps_of_every_loss_term_and_attention_maps() {
    let dir = common::temp_dir("gui-selftest-train");
    common::training::training_setup(&dir);
    let extra = "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 50\nlambda = 1.0\ngamma = 100.0\n\n[optim]\nbatch_size = 2\n\n[checkpoint]\nevery = 0\n";
    let run_file = common::training::write_run_file(&dir, "selftest", extra);
    let mut settings = Settings::web();
    settings.run_file = run_file.display().to_string();
    let reported = std::rc::Rc::new(std::cell::RefCell::new(None));
    let sink = reported.clone();
    let mut app = StudioApp::new(settings, None);
    let test = SelfTest::from_query("?selftest=train").unwrap().unwrap();
    app.selftest = Some(SelfTestRun::new(test, move |result| *sink.borrow_mut() = Some(result)));
    let mut harness = studio_harness(|ui, app: &mut StudioApp| app.show(ui), app);
    harness.run_steps(1);
    assert_eq!(
        harness.state().panel,
        Panel::Train,
        "the self-test drives the Train panel"
    );
    step_until(&mut harness, |app| app.selftest.is_none());
    let result = reported.borrow_mut().take().expect("one report");
    assert_eq!(result["errors"], serde_json::json!([]));
    // Two steps (not the run file's 50), each with its cross-entropy and both distillation terms, all finite,
    // and the total their weighted sum: CE + λ·LD + γ·AD with the run file's λ 1 and γ 100.
    let values = |key: &str| -> Vec<f64> {
        result[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: {result}"))
            .iter()
            .map(|v| {
                v.as_f64()
                    .unwrap_or_else(|| panic!("{key} holds {v}: not a finite number"))
            })
            .collect()
    };
    let (losses, ce, ld, ad) = (
        values("losses"),
        values("ce"),
        values("logits_kd"),
        values("attention_kd"),
    );
    assert_eq!(losses.len(), SELFTEST_TRAIN_STEPS);
    for step in 0..SELFTEST_TRAIN_STEPS {
        assert!(losses[step].is_finite() && ce[step] > 0.0 && ld[step] >= 0.0 && ad[step] >= 0.0);
        let sum = ce[step] + 1.0 * ld[step] + 100.0 * ad[step];
        assert!(
            (losses[step] - sum).abs() < 1e-4 * sum,
            "step {step}: {} vs {sum}",
            losses[step]
        );
    }
    // The snapshot at the last step brings the Attention panel its maps: one per query head of the fixture.
    assert_eq!(result["attention_maps"], serde_json::json!(4));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_example_sentence_fills_the_source_and_its_languages() {
    let panel = TranslatePanel::new(String::new(), String::new());
    let mut harness = studio_harness(|ui, panel: &mut TranslatePanel| panel.ui(ui), panel);
    harness.run_steps(1);
    harness.get_by_label("Examples").click();
    harness.run_steps(2);
    harness.get_by_label("en→zh: Close the window").click();
    harness.run_steps(2);
    let panel = harness.state();
    assert_eq!(
        (panel.from.as_str(), panel.to.as_str(), panel.source.as_str()),
        ("en", "zh", "Close the window")
    );
}
