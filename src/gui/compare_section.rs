//! The Report panel's "Compare" section: `bitdistill compare` on a background thread, its summary, and the
//! per-layer curves (the same curves `compare --plot` draws).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use egui::Ui;
use egui_plot::{Legend, Line, Plot};
use poll_promise::Promise;

use super::background::background;
use super::file_dialog::{Browse, Pick};
use crate::backend::BackendKind;
use crate::compare::{CompareReport, CorpusSequences, compare, default_relation_heads};
use crate::generate::{Engine, Loaded};
use crate::report::{LAYER_DISTANCES, LAYER_RELATIONS, LayerCurve};

pub struct CompareSection {
    pub teacher: String,
    pub student: String,
    pub text: String,
    pub max_tokens: usize,
    pub report: Option<CompareReport>,
    pub message: Option<String>,
    running: Option<Promise<Result<CompareReport, String>>>,
    /// Tokens compared so far by the running job.
    tokens: Arc<AtomicUsize>,
    browse: [Browse; 3],
}

impl CompareSection {
    pub fn new(teacher: String, student: String, text: String) -> Self {
        Self {
            teacher,
            student,
            text,
            max_tokens: 2000,
            report: None,
            message: None,
            running: None,
            tokens: Arc::default(),
            browse: Default::default(),
        }
    }

    pub fn is_busy(&self) -> bool {
        self.running.is_some()
    }

    /// Starts the comparison on a background thread.
    pub fn start(&mut self) {
        let (teacher, student, text) = (
            PathBuf::from(&self.teacher),
            PathBuf::from(&self.student),
            PathBuf::from(&self.text),
        );
        let (max_tokens, tokens) = (self.max_tokens, self.tokens.clone());
        tokens.store(0, Ordering::Relaxed);
        self.message = None;
        self.running = Some(background("compare", move || {
            let open = |dir: &PathBuf| Loaded::open(dir, None, Engine::Auto, BackendKind::Flex);
            let (teacher, student) = (
                open(&teacher).map_err(|e| e.to_string())?,
                open(&student).map_err(|e| e.to_string())?,
            );
            let tokenizer = teacher.tokenizer().map_err(|e| e.to_string())?;
            let corpus = CorpusSequences::open(&text, tokenizer, 256, ("en", "pt")).map_err(|e| e.to_string())?;
            let heads = default_relation_heads(&teacher.config);
            compare(&teacher, &student, corpus, heads, Some(max_tokens), &mut |p| {
                tokens.store(p.tokens, Ordering::Relaxed)
            })
            .map_err(|e| e.to_string())
        }));
    }

    fn poll(&mut self) {
        if let Some(promise) = self.running.take() {
            match promise.try_take() {
                Ok(Ok(report)) => self.report = Some(report),
                Ok(Err(message)) => self.message = Some(message),
                Err(promise) => self.running = Some(promise),
            }
        }
    }

    pub fn ui(&mut self, ui: &mut Ui) {
        self.poll();
        ui.heading("Compare student and teacher");
        egui::Grid::new("compare-paths").num_columns(2).show(ui, |ui| {
            let [teacher, student, text] = &mut self.browse;
            for (name, field, browse, pick) in [
                ("Teacher:", &mut self.teacher, teacher, Pick::Folder),
                ("Student:", &mut self.student, student, Pick::Folder),
                ("Text or JSONL:", &mut self.text, text, Pick::File),
            ] {
                let label = ui.label(name);
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(field).desired_width(480.0))
                        .labelled_by(label.id);
                    browse.button(ui, field, pick);
                });
                ui.end_row();
            }
            let label = ui.label("Tokens:");
            ui.add(egui::DragValue::new(&mut self.max_tokens).range(16..=1_000_000))
                .labelled_by(label.id);
            ui.end_row();
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!self.is_busy(), egui::Button::new("Compare")).clicked() {
                self.start();
            }
            if self.is_busy() {
                ui.spinner();
                ui.label(format!(
                    "compared {} of {} tokens",
                    self.tokens.load(Ordering::Relaxed),
                    self.max_tokens
                ));
                ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
            }
        });
        if let Some(message) = &self.message {
            ui.colored_label(egui::Color32::RED, message);
        }
        let Some(report) = &self.report else { return };
        ui.label(format!(
            "{} positions: perplexity teacher {:.3}, student {:.3}; KL {:.4} nats; top-1 agreement {:.1}%, \
             teacher's top-1 in student's top-5 {:.1}%",
            report.positions,
            report.teacher_perplexity,
            report.student_perplexity,
            report.kl,
            100.0 * report.top1_agreement,
            100.0 * report.top5_agreement
        ));
        ui.columns(2, |columns| {
            layer_plot(&mut columns[0], "compare-distances", report, &LAYER_DISTANCES);
            layer_plot(&mut columns[1], "compare-relations", report, &LAYER_RELATIONS);
        });
    }
}

fn layer_plot(ui: &mut Ui, id: &str, report: &CompareReport, curves: &[LayerCurve]) {
    Plot::new(id)
        .height(200.0)
        .legend(Legend::default())
        .x_axis_label("layer")
        .show(ui, |plot| {
            for curve in curves {
                let points: Vec<[f64; 2]> = report
                    .layers
                    .iter()
                    .map(|l| [l.layer as f64, (curve.value)(l)])
                    .collect();
                let [r, g, b] = curve.rgb;
                plot.line(Line::new(curve.name, points).color(egui::Color32::from_rgb(r, g, b)));
            }
        });
}
