//! The Quantize explorer's activation probe: the error of int8-quantizing each token of a typed sentence at a
//! layer's attention input (`crate::train::ProbeModel`). Natively the model loads and runs on a background thread
//! and is kept for the next sentence; in the browser the page's worker does both (`crate::web::probe`).

use std::path::PathBuf;

use egui::Ui;
use egui_plot::{Bar, BarChart, Plot};
use poll_promise::Promise;

use crate::train::ActivationErrors;
#[cfg(not(target_arch = "wasm32"))]
use crate::train::ProbeModel;

/// A measurement, with the model it was made on where this side keeps it (natively).
#[cfg(not(target_arch = "wasm32"))]
type Measured = Result<(Box<ProbeModel>, ActivationErrors), String>;
#[cfg(target_arch = "wasm32")]
type Measured = Result<ActivationErrors, String>;

pub struct ActivationProbe {
    pub sentence: String,
    pub result: Option<ActivationErrors>,
    pub error: Option<String>,
    #[cfg(not(target_arch = "wasm32"))]
    cached: Option<Box<ProbeModel>>,
    running: Option<Promise<Measured>>,
}

impl Default for ActivationProbe {
    fn default() -> Self {
        Self {
            sentence: "Open the file and save your changes.".into(),
            result: None,
            error: None,
            #[cfg(not(target_arch = "wasm32"))]
            cached: None,
            running: None,
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn measure(cached: Option<Box<ProbeModel>>, dir: PathBuf, sentence: &str) -> Measured {
    let probe = match cached.filter(|c| c.root() == dir) {
        Some(probe) => probe,
        None => Box::new(ProbeModel::from_files(&crate::checkpoint::ModelFiles::dir(dir)).map_err(|e| e.to_string())?),
    };
    let errors = probe.measure(sentence).map_err(|e| e.to_string())?;
    Ok((probe, errors))
}

impl ActivationProbe {
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Measures the sentence on the model in `dir` (in the browser: at that URL) in the background.
    pub fn start(&mut self, dir: PathBuf) {
        let sentence = self.sentence.clone();
        self.error = None;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let cached = self.cached.take();
            self.running = Some(super::background::background("activation-probe", move || {
                measure(cached, dir, &sentence)
            }));
        }
        #[cfg(target_arch = "wasm32")]
        {
            use crate::web::protocol::FromWorker;
            let (sender, promise) = Promise::new();
            let mut sender = Some(sender);
            crate::web::probe(&dir.to_string_lossy(), &sentence, move |answer| {
                let measured = match answer {
                    FromWorker::Probed { result, .. } => Ok(result),
                    FromWorker::Failed { message, .. } => Err(message),
                    other => Err(format!("the model worker answered {other:?}")),
                };
                if let Some(sender) = sender.take() {
                    sender.send(measured);
                }
            });
            self.running = Some(promise);
        }
    }

    pub fn poll(&mut self) {
        let Some(promise) = self.running.take() else { return };
        match promise.try_take() {
            #[cfg(not(target_arch = "wasm32"))]
            Ok(Ok((model, result))) => {
                self.cached = Some(model);
                self.result = Some(result);
            }
            #[cfg(target_arch = "wasm32")]
            Ok(Ok(result)) => self.result = Some(result),
            Ok(Err(message)) => self.error = Some(message),
            Err(promise) => self.running = Some(promise),
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, dir: PathBuf, layer: usize) {
        self.poll();
        ui.separator();
        ui.strong("Activation quantization (int8, per-token absmax)");
        ui.horizontal(|ui| {
            let label = ui.label("Sentence:");
            ui.add(egui::TextEdit::singleline(&mut self.sentence).desired_width(420.0))
                .labelled_by(label.id);
            if ui
                .add_enabled(!self.is_running(), egui::Button::new("Measure"))
                .clicked()
            {
                self.start(dir);
            }
            if self.is_running() {
                ui.spinner();
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        let Some(result) = &self.result else { return };
        let Some(errors) = result.errors.get(layer) else { return };
        let mean = errors.iter().sum::<f64>() / errors.len() as f64;
        ui.label(format!(
            "layer {layer}, attention input: ‖x − int8(x)‖/‖x‖ per token, mean {mean:.5} over {} tokens",
            errors.len()
        ));
        let tokens = result.tokens.clone();
        let bars: Vec<Bar> = errors
            .iter()
            .enumerate()
            .map(|(i, &e)| Bar::new(i as f64, e).name(&tokens[i]).width(0.8))
            .collect();
        Plot::new("activation-errors")
            .height(160.0)
            .x_axis_formatter(move |mark, _| {
                let i = mark.value.round();
                if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                    tokens.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .show(ui, |plot| plot.bar_chart(BarChart::new("relative error", bars)));
    }
}
