//! Train: the run file as a form (load/save TOML), Start / Pause / Step / Resume / Stop, live curves of every
//! loss term, lr, grad norm and tokens/s with a smoothing slider, per-layer −1/0/+1 shares over time, and a
//! status line with ETA. The run lives on a worker thread; this panel only reads its events.

use std::path::PathBuf;

use egui::Ui;
use egui_plot::{Legend, Line, Plot};

use super::file_dialog::{Browse, Pick};
use super::history::{RunHistory, smooth, term_colour};
use super::worker::TrainingWorker;
use crate::backend::BackendKind;
use crate::distill::{LossPositions, RelationKind, RelationReduction, RelationStates};
#[cfg(not(target_arch = "wasm32"))]
use crate::kernels::Kernels;
use crate::model::SublnPlacement;
use crate::report::LOSS_TERMS;
use crate::train::{Method, RunConfig, RunOutcome};

/// The backends a run can pick: the browser build has Flex only (README, "Web").
#[cfg(not(target_arch = "wasm32"))]
const TRAINING_BACKENDS: &[BackendKind] = &[BackendKind::Ndarray, BackendKind::Flex, BackendKind::Wgpu];
#[cfg(target_arch = "wasm32")]
const TRAINING_BACKENDS: &[BackendKind] = &[BackendKind::Flex];

pub struct TrainPanel {
    pub config: Option<RunConfig>,
    pub run_file: String,
    pub smoothing: f64,
    pub share_layer: usize,
    pub history: RunHistory,
    pub worker: Option<TrainingWorker>,
    pub message: Option<String>,
    browse: Browse,
    /// The run file being fetched (the browser's).
    #[cfg(target_arch = "wasm32")]
    loading: Option<poll_promise::Promise<Result<RunConfig, String>>>,
}

impl TrainPanel {
    pub fn new(run_file: String) -> Self {
        let mut panel = Self {
            config: None,
            run_file,
            smoothing: 0.6,
            share_layer: 0,
            history: RunHistory::default(),
            worker: None,
            message: None,
            browse: Browse::default(),
            #[cfg(target_arch = "wasm32")]
            loading: None,
        };
        panel.load_run_file();
        panel
    }

    /// Reads the run file (in the browser: fetches it from the site; it arrives in a later [`Self::poll`]).
    pub fn load_run_file(&mut self) {
        let path = PathBuf::from(self.run_file.trim());
        #[cfg(not(target_arch = "wasm32"))]
        self.loaded(RunConfig::from_file(&path).map_err(|e| e.to_string()));
        #[cfg(target_arch = "wasm32")]
        {
            self.loading = Some(super::background::fetch_job(async move {
                let url = path.to_string_lossy();
                let bytes = crate::web::fetch_bytes(&url)
                    .await?
                    .ok_or_else(|| format!("{url}: not found (404)"))?;
                let text = String::from_utf8(bytes).map_err(|_| format!("{url}: not UTF-8 text"))?;
                RunConfig::from_text(&path, &text).map_err(|e| e.to_string())
            }));
        }
    }

    fn loaded(&mut self, config: Result<RunConfig, String>) {
        match config {
            Ok(config) => {
                self.config = Some(config);
                self.message = None;
            }
            Err(e) => self.message = Some(e),
        }
    }

    /// Whether the run file is still being fetched.
    pub fn is_loading(&self) -> bool {
        #[cfg(target_arch = "wasm32")]
        return self.loading.is_some();
        #[cfg(not(target_arch = "wasm32"))]
        false
    }

    fn save_run_file(&mut self) {
        let Some(config) = &self.config else { return };
        let path = PathBuf::from(self.run_file.trim());
        self.message = Some(match toml::to_string_pretty(config) {
            Ok(text) => match crate::atomic::write_atomic(&path, text.as_bytes()) {
                Ok(()) => format!("saved {}", path.display()),
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        });
    }

    pub fn is_running(&self) -> bool {
        self.worker.as_ref().is_some_and(TrainingWorker::is_running)
    }

    /// Starts the run of the form (fresh, or resuming from its last checkpoint).
    pub fn start(&mut self, resume: bool, ctx: &egui::Context) {
        let Some(config) = self.config.clone() else { return };
        if !resume {
            self.history = RunHistory::default();
        }
        let ctx = ctx.clone();
        self.worker = Some(TrainingWorker::start(config, resume, move || ctx.request_repaint()));
    }

    /// Moves the worker's new events into the history (and, in the browser, a fetched run file into the form).
    pub fn poll(&mut self) {
        #[cfg(target_arch = "wasm32")]
        if let Some(promise) = self.loading.take() {
            match promise.try_take() {
                Ok(config) => self.loaded(config),
                Err(promise) => self.loading = Some(promise),
            }
        }
        if let Some(worker) = &mut self.worker {
            for event in worker.drain() {
                self.history.push(event);
            }
            if let Some(Ok(RunOutcome::Stopped)) = worker.outcome() {
                self.message = Some(match TrainingWorker::STEERABLE {
                    true => "stopped after a checkpoint: Resume continues from it".into(),
                    false => "stopped (the browser keeps no checkpoints)".into(),
                });
            }
        }
    }

    pub fn stop(&mut self) {
        if let Some(worker) = &self.worker {
            worker.stop();
        }
    }

    fn form(&mut self, ui: &mut Ui) {
        let running = self.is_running();
        let Some(c) = &mut self.config else { return };
        ui.add_enabled_ui(!running, |ui| {
            egui::Grid::new("run-form").num_columns(2).show(ui, |ui| {
                let methods = [Method::Bitdistill, Method::BitnetSft, Method::FullPrecision];
                choice(ui, "method", &mut c.method, &methods);
                let placements = [SublnPlacement::Paper, SublnPlacement::All, SublnPlacement::None];
                choice(ui, "SubLN", &mut c.student.subln, &placements);
                choice(ui, "backend", &mut c.backend, TRAINING_BACKENDS);
                // The WGSL kernels run on wgpu: the browser's Flex-only build always takes the reference path.
                #[cfg(not(target_arch = "wasm32"))]
                choice(ui, "kernels", &mut c.kernels, &[Kernels::Fused, Kernels::Reference]);
                let label = ui.label("Stage-2 tokens");
                ui.add(egui::DragValue::new(&mut c.stage2.tokens).speed(512))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Stage-3 steps");
                ui.add(egui::DragValue::new(&mut c.stage3.steps)).labelled_by(label.id);
                ui.end_row();
                let label = ui.label("λ (logits KD)");
                ui.add(egui::DragValue::new(&mut c.stage3.lambda).speed(0.1))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("γ (attention KD)");
                ui.add(egui::DragValue::new(&mut c.stage3.gamma).speed(10.0))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("τ");
                ui.add(egui::DragValue::new(&mut c.stage3.tau).speed(0.1).range(0.1..=100.0))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("distilled layer (empty: default)");
                let mut layer = c.stage3.layer.map(|l| l.to_string()).unwrap_or_default();
                if ui.text_edit_singleline(&mut layer).labelled_by(label.id).changed() {
                    c.stage3.layer = layer.trim().parse().ok();
                }
                ui.end_row();
                let label = ui.label("relation heads");
                ui.add(egui::DragValue::new(&mut c.stage3.relation_heads).range(1..=1024))
                    .labelled_by(label.id);
                ui.end_row();
                let s3 = &mut c.stage3;
                let states = [RelationStates::Attention, RelationStates::Projections];
                choice(ui, "relation states", &mut s3.relation_states, &states);
                choice(
                    ui,
                    "relation",
                    &mut s3.relation,
                    &[RelationKind::Cosine, RelationKind::ScaledDot],
                );
                let positions = [LossPositions::All, LossPositions::Reply];
                choice(ui, "relation positions", &mut s3.relation_positions, &positions);
                let label = ui.label("causal relations");
                ui.checkbox(&mut s3.causal, "").labelled_by(label.id);
                ui.end_row();
                let reductions = [RelationReduction::Official, RelationReduction::Mean];
                choice(ui, "relation reduction", &mut s3.relation_reduction, &reductions);
                choice(ui, "logits KD positions", &mut s3.logits_positions, &positions);
                let label = ui.label("learning rate");
                ui.add(egui::DragValue::new(&mut c.optim.lr).speed(1e-5).max_decimals(6))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("batch size");
                ui.add(egui::DragValue::new(&mut c.optim.batch_size).range(1..=512))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("shards (0 = one per CPU thread)");
                ui.add(egui::DragValue::new(&mut c.optim.shards).range(0..=64))
                    .labelled_by(label.id)
                    .on_hover_text("rows of each batch computed side by side on the CPU cores; 1 on wgpu by default");
                ui.end_row();
            });
        });
    }

    pub fn ui(&mut self, ui: &mut Ui) {
        self.poll();
        ui.heading("Train");
        ui.horizontal(|ui| {
            let label = ui.label("Run file:");
            ui.text_edit_singleline(&mut self.run_file).labelled_by(label.id);
            if self.browse.button(ui, &mut self.run_file, Pick::File) | ui.button("Load").clicked() {
                self.load_run_file();
            }
            if TrainingWorker::STEERABLE && ui.button("Save").clicked() {
                self.save_run_file();
            }
            if self.is_loading() {
                ui.spinner();
            }
        });
        self.form(ui);
        let running = self.is_running();
        let paused = self.worker.as_ref().is_some_and(|w| w.control.is_paused());
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!running && self.config.is_some(), egui::Button::new("Start"))
                .clicked()
            {
                self.start(false, ui.ctx());
            }
            if !TrainingWorker::STEERABLE {
                if ui.add_enabled(running, egui::Button::new("Stop")).clicked() {
                    self.stop();
                }
                ui.label("(in the browser a run trains in a worker of the page: it can be stopped, not paused)");
                return;
            }
            if ui.add_enabled(running && !paused, egui::Button::new("Pause")).clicked()
                && let Some(w) = &self.worker
            {
                w.control.pause();
            }
            if ui
                .add_enabled(running && paused, egui::Button::new("Continue"))
                .clicked()
                && let Some(w) = &self.worker
            {
                w.control.resume();
            }
            if ui.add_enabled(running && paused, egui::Button::new("Step")).clicked()
                && let Some(w) = &self.worker
            {
                w.control.step_once();
            }
            if ui.add_enabled(running, egui::Button::new("Stop")).clicked() {
                self.stop();
            }
            if ui
                .add_enabled(!running && self.worker.is_some(), egui::Button::new("Resume"))
                .clicked()
            {
                self.start(true, ui.ctx());
            }
        });
        ui.label(self.history.status());
        for notice in &self.history.notices {
            ui.label(format!("note: {notice}"));
        }
        if let Some(message) = &self.message {
            ui.label(message);
        }
        ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.99).text("smoothing"));
        let h = &self.history;
        Plot::new("losses")
            .height(200.0)
            .legend(Legend::default())
            .show(ui, |plot| {
                for term in &LOSS_TERMS {
                    let points = h.series(term.value);
                    let colour = term_colour(term);
                    let raw = Line::new(format!("{} (raw)", term.name), points.clone()).width(1.0);
                    plot.line(raw.color(colour.gamma_multiply(0.35)));
                    plot.line(
                        Line::new(term.name, smooth(&points, self.smoothing))
                            .width(2.0)
                            .color(colour),
                    );
                }
            });
        ui.columns(3, |columns| {
            for (column, (name, points)) in columns.iter_mut().zip([
                ("lr", h.series(|m| Some(m.lr))),
                ("grad norm", h.series(|m| Some(m.grad_norm))),
                ("tokens/s", h.series(|m| Some(m.tokens_per_s))),
            ]) {
                Plot::new(name)
                    .height(120.0)
                    .legend(Legend::default())
                    .show(column, |plot| {
                        plot.line(Line::new(name, points));
                    });
            }
        });
        let layers = h.shares.last().map_or(0, |(_, s)| s.len());
        if layers > 0 {
            self.share_layer = self.share_layer.min(layers - 1);
            ui.add(egui::Slider::new(&mut self.share_layer, 0..=layers - 1).text("layer of the code shares"));
            let layer = self.share_layer;
            Plot::new("shares")
                .height(140.0)
                .legend(Legend::default())
                .show(ui, |plot| {
                    for (k, name) in ["−1", "0", "+1"].iter().enumerate() {
                        let points: Vec<[f64; 2]> = self
                            .history
                            .shares
                            .iter()
                            .map(|(step, s)| [*step as f64, s[layer][k]])
                            .collect();
                        plot.line(Line::new(format!("share {name}"), points));
                    }
                });
        }
    }
}

/// A labelled combo box row of the form: `value` picked from `options`, each shown by its `Debug` name.
fn choice<T: Copy + PartialEq + std::fmt::Debug>(ui: &mut Ui, label: &str, value: &mut T, options: &[T]) {
    let label = ui.label(label);
    egui::ComboBox::from_id_salt(label.id)
        .selected_text(format!("{value:?}"))
        .show_ui(ui, |ui| {
            for &option in options {
                ui.selectable_value(value, option, format!("{option:?}"));
            }
        })
        .response
        .labelled_by(label.id);
    ui.end_row();
}
