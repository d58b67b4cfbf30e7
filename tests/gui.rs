//! The app's panels driven headlessly with egui_kittest: each shows real content computed from the fixture,
//! the quantizer or the events it was given.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use bitdistill::gui::{
    AttentionPanel, Heatmap, ModelPanel, OpenedModel, Panel, QuantizePanel, Settings, StudioApp, TernaryView,
    TrainPanel, colour, matrix, model_bytes,
};
use bitdistill::quant::{absmean_scale, ternary_codes};
use bitdistill::train::{Snapshot, Stage, StepMetrics, TrainEvent};
use burn::tensor::{Tensor, TensorData};
use common::fixture_dir;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

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
    let mut harness = Harness::new_ui_state(
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
    let mut harness = Harness::new_ui_state(move |ui, panel: &mut QuantizePanel| panel.ui(ui, Some(&model)), panel);
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
    let mut harness = Harness::new_ui_state(|ui, panel: &mut TrainPanel| panel.ui(ui), panel);
    harness.run_steps(2);
    harness.get_by_label_contains("Distill step 9/150 · loss 0.556");
    assert_eq!(harness.state().history.series(|m| Some(m.loss)).len(), 9);
    assert_eq!(harness.state().history.series(|m| m.attention_kd).len(), 0);
    harness.get_by_label("Start");
    harness.get_by_label("λ (logits KD)");

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

    let mut harness = Harness::new_ui_state(
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
    ] {
        harness.get_by_label(title);
    }
}

#[test]
fn the_app_switches_panels_and_keeps_its_settings() {
    let settings = Settings::demo(&bitdistill::demo::assets_dir());
    let mut harness = Harness::new_ui_state(|ui, app: &mut StudioApp| app.show(ui), StudioApp::new(settings, None));
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
