//! The app: a panel bar, one panel at a time, persisted settings, and the close guard for a running training.

use serde::{Deserialize, Serialize};

use super::attention_panel::AttentionPanel;
use super::compare_section::CompareSection;
use super::model_panel::ModelPanel;
use super::quantize_panel::QuantizePanel;
use super::report_panel::ReportPanel;
use super::screenshots::ScreenshotTour;
use super::selftest::SelfTestRun;
use super::train_panel::TrainPanel;
use super::translate_panel::TranslatePanel;
use crate::report::METRICS_FILE;
use crate::web::picked::PickedModel;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Panel {
    Model,
    Quantize,
    Train,
    Attention,
    Translate,
    Report,
}

impl Panel {
    pub const ALL: [Panel; 6] = [
        Panel::Model,
        Panel::Quantize,
        Panel::Train,
        Panel::Attention,
        Panel::Translate,
        Panel::Report,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Panel::Model => "Model",
            Panel::Quantize => "Quantize",
            Panel::Train => "Train",
            Panel::Attention => "Attention",
            Panel::Translate => "Translate",
            Panel::Report => "Report",
        }
    }
}

/// The browser's run file, as the site serves it (`web/build.sh` copies `web/train.toml`).
pub const WEB_RUN_FILE: &str = "train.toml";

/// What survives a restart (eframe storage): paths, the open panel, the smoothing.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub model_dir: String,
    pub run_file: String,
    pub panel: Panel,
    pub smoothing: f64,
    pub teacher_dir: String,
    /// Empty until a run has finished or a student directory was typed.
    pub student_dir: String,
}

impl Settings {
    /// The embedded demo: the bundled teacher and the demo's run file.
    pub fn demo(assets: &std::path::Path) -> Self {
        Self {
            model_dir: assets.join("tiny-hymt").display().to_string(),
            run_file: assets.join(crate::demo::DEMO_RUN_FILE).display().to_string(),
            panel: Panel::Train,
            smoothing: 0.6,
            teacher_dir: assets.join("tiny-hymt").display().to_string(),
            student_dir: String::new(),
        }
    }

    /// The web page's: the bundled teacher and its distilled student as the site serves them
    /// (`web/build.sh` puts them under `models/`) and the browser's run file, on the Translate panel.
    pub fn web() -> Self {
        Self {
            model_dir: "models/teacher".into(),
            run_file: WEB_RUN_FILE.into(),
            panel: Panel::Translate,
            smoothing: 0.6,
            teacher_dir: "models/teacher".into(),
            student_dir: "models/student".into(),
        }
    }
}

pub struct StudioApp {
    pub panel: Panel,
    pub model: ModelPanel,
    pub quantize: QuantizePanel,
    pub train: TrainPanel,
    pub attention: AttentionPanel,
    pub translate: TranslatePanel,
    pub report: ReportPanel,
    confirm_close: bool,
    tour: Option<ScreenshotTour>,
    /// Start the run file's training on the first frame (`bitdistill demo` without `--headless`).
    pub start_on_open: bool,
    /// The page's `?selftest=...` check, while it runs.
    pub selftest: Option<SelfTestRun>,
}

impl StudioApp {
    pub fn new(settings: Settings, tour: Option<ScreenshotTour>) -> Self {
        let mut train = TrainPanel::new(settings.run_file.clone());
        train.smoothing = settings.smoothing;
        let mut model = ModelPanel::new(settings.model_dir.clone());
        model.load();
        let run_out = train.config.as_ref().map(|c| c.out.clone()).unwrap_or_default();
        let mut report = ReportPanel::new(
            run_out.join(METRICS_FILE).display().to_string(),
            run_out.join("report").display().to_string(),
        );
        let pairs = train
            .config
            .as_ref()
            .and_then(|c| c.stage3.pairs.clone())
            .unwrap_or_default();
        report.compare = CompareSection::new(
            settings.teacher_dir.clone(),
            settings.student_dir.clone(),
            pairs.display().to_string(),
        );
        Self {
            panel: settings.panel,
            model,
            quantize: QuantizePanel::default(),
            train,
            attention: AttentionPanel::default(),
            translate: TranslatePanel::new(settings.teacher_dir, settings.student_dir),
            report,
            confirm_close: false,
            tour,
            start_on_open: false,
            selftest: None,
        }
    }

    pub fn settings(&self) -> Settings {
        // A picked folder's `blob:` URLs end with the page: after a reload the field shows the served model again.
        let web = Settings::web();
        let lasting = |field: &str, served: String| match PickedModel::parse(field) {
            Some(_) => served,
            None => field.to_string(),
        };
        Settings {
            model_dir: lasting(&self.model.path, web.model_dir),
            run_file: self.train.run_file.clone(),
            panel: self.panel,
            smoothing: self.train.smoothing,
            teacher_dir: lasting(&self.translate.teacher.dir, web.teacher_dir),
            student_dir: lasting(&self.translate.student.dir, web.student_dir),
        }
    }

    /// One frame of the whole app inside `ui` (also what the tests drive).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.model.poll();
        self.train.poll();
        self.translate.poll();
        if let Some(student) = &self.train.history.student
            && self.translate.student.dir.is_empty()
        {
            self.translate.student.dir = student.clone();
        }
        self.guard_close(ui.ctx());
        if std::mem::take(&mut self.start_on_open) {
            self.train.start(false, ui.ctx());
        }
        if let Some(tour) = &mut self.tour {
            tour.advance(ui.ctx(), &mut self.panel, &mut self.train, &mut self.translate);
        }
        if let Some(selftest) = &mut self.selftest {
            selftest.advance(ui.ctx(), &mut self.panel, &mut self.translate, &mut self.train);
            if selftest.is_done() {
                self.selftest = None;
            }
        }
        ui.horizontal(|ui| {
            for panel in Panel::ALL {
                ui.selectable_value(&mut self.panel, panel, panel.name());
            }
        });
        ui.separator();
        egui::ScrollArea::vertical().show(ui, |ui| match self.panel {
            Panel::Model => self.model.ui(ui),
            Panel::Quantize => self.quantize.ui(ui, self.model.opened.as_ref()),
            Panel::Train => self.train.ui(ui),
            Panel::Attention => self.attention.ui(ui, self.train.history.latest_snapshot.as_deref()),
            Panel::Translate => self.translate.ui(ui),
            Panel::Report => {
                let histograms: Vec<Vec<u64>> = self
                    .train
                    .history
                    .latest_snapshot
                    .iter()
                    .flat_map(|s| s.layers.iter().map(|l| l.histogram.clone()))
                    .collect();
                self.report.ui(ui, &self.train.history.steps, &histograms)
            }
        });
        if self.train.is_running() || self.translate.is_running() || self.report.is_busy() {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(250));
        }
    }

    /// Closing the window while a run trains asks first; stopping checkpoints, so the run can be resumed.
    fn guard_close(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && self.train.is_running() && self.tour.is_none() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm_close = true;
        }
        if !self.confirm_close {
            return;
        }
        egui::Modal::new(egui::Id::unique("confirm-close")).show(ctx, |ui| {
            ui.label("A distillation is running. Stop it (after a checkpoint, so it can be resumed) and quit?");
            ui.horizontal(|ui| {
                if ui.button("Stop and quit").clicked() {
                    self.train.stop();
                    self.confirm_close = false;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Keep training").clicked() {
                    self.confirm_close = false;
                }
            });
        });
    }
}

impl eframe::App for StudioApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| self.show(ui));
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings());
    }

    fn on_exit(&mut self) {
        self.train.stop();
    }
}

/// Options of `bitdistill gui`.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Debug, Default)]
pub struct GuiOptions {
    pub assets: std::path::PathBuf,
    /// Take a PNG of every panel into this folder after a short demo run, then exit.
    pub screenshot_dir: Option<std::path::PathBuf>,
    /// Optimizer steps the screenshot run trains before the pictures.
    pub screenshot_steps: usize,
    /// Open on the demo and start its distillation at once.
    pub start_demo: bool,
}

/// Opens the window (blocks until it closes).
#[cfg(not(target_arch = "wasm32"))]
pub fn run_gui(options: GuiOptions) -> eframe::Result {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1100.0, 800.0])
            .with_title("BitDistill Studio"),
        ..Default::default()
    };
    eframe::run_native(
        "BitDistill Studio",
        native,
        Box::new(move |cc| {
            super::fonts::install_fonts(&cc.egui_ctx);
            let tour = options
                .screenshot_dir
                .clone()
                .map(|dir| ScreenshotTour::new(dir, options.screenshot_steps));
            let fresh = tour.is_some() || options.start_demo;
            let settings = match cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)) {
                Some(saved) if !fresh => saved,
                _ => Settings::demo(&options.assets),
            };
            let mut app = StudioApp::new(settings, tour);
            app.start_on_open = options.start_demo;
            Ok(Box::new(app))
        }),
    )
}
