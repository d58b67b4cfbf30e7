//! Report: overlay two runs' metrics (each run's `metrics.jsonl`), and export the current run's metrics as CSV
//! and JSONL and its curves and latest weight histogram as PNG and SVG figures (plotters), off the UI thread.

use std::path::{Path, PathBuf};

use egui::Ui;
use egui_plot::{Legend, Line, Plot};
use poll_promise::Promise;

use super::background::background;
use super::compare_section::CompareSection;
use super::file_dialog::{Browse, Pick};
use super::history::term_colour;
use crate::compare::CompareReport;
use crate::report::{
    LOSS_TERMS, draw_curves, draw_histogram, draw_layer_drift, metric_points, read_metrics, write_metrics_csv,
    write_metrics_jsonl,
};
use crate::train::{HISTOGRAM_RANGE, StepMetrics};

type Loading = Promise<Result<Vec<(String, Vec<StepMetrics>)>, String>>;

pub struct ReportPanel {
    /// `metrics.jsonl` of the runs to overlay (B may stay empty).
    pub run_a: String,
    pub run_b: String,
    /// The loaded runs: (file, steps).
    pub runs: Vec<(String, Vec<StepMetrics>)>,
    loading: Option<Loading>,
    pub out_dir: String,
    pub histogram_layer: usize,
    exporting: Option<Promise<Result<Vec<PathBuf>, String>>>,
    pub message: Option<String>,
    /// Dialogs of run A, run B and the export folder.
    browse: [Browse; 3],
    /// `compare` of a student against its teacher.
    pub compare: CompareSection,
}

/// What an export writes: the steps of the current run and, when a snapshot exists, one layer's histogram.
pub struct ExportRequest {
    pub dir: PathBuf,
    pub steps: Vec<StepMetrics>,
    /// (layer, histogram counts of W/Δ).
    pub histogram: Option<(usize, Vec<u64>)>,
    /// Runs drawn with the current one in `curves.*`.
    pub overlay: Vec<(String, Vec<StepMetrics>)>,
    /// The last `compare` report, drawn as `layers.*`.
    pub compare: Option<CompareReport>,
}

/// Writes `metrics.csv`, `metrics.jsonl`, `curves.{png,svg}`, `histogram-layer<L>.{png,svg}` and, after a
/// comparison, `layers.{png,svg}` into the request's directory and returns the files written.
pub fn export_report(request: &ExportRequest) -> crate::error::Result<Vec<PathBuf>> {
    let dir = &request.dir;
    std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::io(dir, e))?;
    let mut written = vec![dir.join("metrics.csv"), dir.join("metrics.jsonl")];
    write_metrics_csv(&request.steps, &written[0])?;
    write_metrics_jsonl(&request.steps, &written[1])?;
    let mut runs: Vec<(&str, &[StepMetrics])> = vec![("this run", &request.steps)];
    runs.extend(
        request
            .overlay
            .iter()
            .map(|(name, steps)| (run_name(name), steps.as_slice())),
    );
    for extension in ["png", "svg"] {
        let path = dir.join(format!("curves.{extension}"));
        draw_curves(&runs, &path)?;
        written.push(path);
        if let Some((layer, counts)) = &request.histogram {
            let path = dir.join(format!("histogram-layer{layer}.{extension}"));
            let title = format!("Layer {layer}: latent weights in units of Δ, thresholds ±Δ/2");
            draw_histogram(&title, counts, HISTOGRAM_RANGE, &path)?;
            written.push(path);
        }
        if let Some(report) = &request.compare {
            let path = dir.join(format!("layers.{extension}"));
            draw_layer_drift(report, &path)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// A short name for a run's metrics file: its run directory.
fn run_name(file: &str) -> &str {
    Path::new(file)
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or(file)
}

impl ReportPanel {
    pub fn new(run_a: String, out_dir: String) -> Self {
        Self {
            run_a,
            run_b: String::new(),
            runs: Vec::new(),
            loading: None,
            out_dir,
            histogram_layer: 0,
            exporting: None,
            message: None,
            browse: Default::default(),
            compare: CompareSection::new(String::new(), String::new(), String::new()),
        }
    }

    /// Reads the runs' metrics on a background thread.
    pub fn load(&mut self) {
        let files: Vec<String> = [&self.run_a, &self.run_b]
            .into_iter()
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect();
        self.loading = Some(background("read-metrics", move || {
            files
                .into_iter()
                .map(|file| read_metrics(Path::new(&file)).map(|steps| (file, steps)))
                .collect::<crate::error::Result<Vec<_>>>()
                .map_err(|e| e.to_string())
        }));
    }

    pub fn export(&mut self, request: ExportRequest) {
        self.exporting = Some(background("export-report", move || {
            export_report(&request).map_err(|e| e.to_string())
        }));
    }

    pub fn is_busy(&self) -> bool {
        self.loading.is_some() || self.exporting.is_some()
    }

    pub fn poll(&mut self) {
        if let Some(result) = self.loading.as_ref().and_then(|p| p.ready()) {
            match result {
                Ok(runs) => {
                    self.runs = runs.clone();
                    self.message = None;
                }
                Err(message) => self.message = Some(message.clone()),
            }
            self.loading = None;
        }
        if let Some(result) = self.exporting.as_ref().and_then(|p| p.ready()) {
            self.message = Some(match result {
                Ok(files) => format!(
                    "wrote {}",
                    files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(message) => message.clone(),
            });
            self.exporting = None;
        }
    }

    /// `steps`: the current run's; `histograms`: the latest snapshot's per-layer counts.
    pub fn ui(&mut self, ui: &mut Ui, steps: &[StepMetrics], histograms: &[Vec<u64>]) {
        self.poll();
        ui.heading("Report");
        egui::Grid::new("report-runs").num_columns(2).show(ui, |ui| {
            let [browse_a, browse_b, _] = &mut self.browse;
            for (name, file, browse) in [
                ("Run A metrics.jsonl:", &mut self.run_a, browse_a),
                ("Run B metrics.jsonl:", &mut self.run_b, browse_b),
            ] {
                let label = ui.label(name);
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(file).desired_width(480.0))
                        .labelled_by(label.id);
                    browse.button(ui, file, Pick::File);
                });
                ui.end_row();
            }
        });
        if ui
            .add_enabled(!self.is_busy(), egui::Button::new("Load runs"))
            .clicked()
        {
            self.load();
        }
        for (file, steps) in &self.runs {
            ui.label(format!("{}: {} steps", run_name(file), steps.len()));
        }
        // The live run (if any) first, then the loaded runs.
        let live = (!steps.is_empty()).then_some(("this run", steps));
        let runs: Vec<(&str, &[StepMetrics])> = live
            .into_iter()
            .chain(self.runs.iter().map(|(file, s)| (run_name(file), s.as_slice())))
            .collect();
        Plot::new("report-overlay")
            .height(240.0)
            .legend(Legend::default())
            .show(ui, |plot| {
                for (run, (name, steps)) in runs.iter().enumerate() {
                    let dim = if run == 0 { 1.0 } else { 0.45 };
                    for term in &LOSS_TERMS {
                        let points = metric_points(steps, term.value);
                        if !points.is_empty() {
                            let line = Line::new(format!("{name}: {}", term.name), points);
                            plot.line(line.color(term_colour(term).gamma_multiply(dim)));
                        }
                    }
                }
            });
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Export to:");
            ui.add(egui::TextEdit::singleline(&mut self.out_dir).desired_width(420.0))
                .labelled_by(label.id);
            self.browse[2].button(ui, &mut self.out_dir, Pick::Folder);
        });
        if !histograms.is_empty() {
            self.histogram_layer = self.histogram_layer.min(histograms.len() - 1);
            ui.add(egui::Slider::new(&mut self.histogram_layer, 0..=histograms.len() - 1).text("histogram layer"));
        }
        // The live run with the loaded runs overlaid; without one, run A with run B overlaid.
        let (source, overlay) = match self.runs.split_first() {
            Some(((_, first), rest)) if steps.is_empty() => (first.clone(), rest.to_vec()),
            _ => (steps.to_vec(), self.runs.clone()),
        };
        let enabled = !self.is_busy() && !source.is_empty() && !self.out_dir.trim().is_empty();
        if ui
            .add_enabled(enabled, egui::Button::new("Export CSV, JSONL, PNG and SVG"))
            .clicked()
        {
            let request = ExportRequest {
                dir: PathBuf::from(self.out_dir.trim()),
                steps: source,
                histogram: histograms
                    .get(self.histogram_layer)
                    .map(|counts| (self.histogram_layer, counts.clone())),
                overlay,
                compare: self.compare.report.clone(),
            };
            self.export(request);
        }
        if self.is_busy() {
            ui.spinner();
        }
        if let Some(message) = &self.message {
            ui.label(message);
        }
        ui.separator();
        self.compare.ui(ui);
    }
}
