//! The Quantize explorer's activation probe: the error of int8-quantizing each token of a typed sentence at a
//! layer's attention input. The model loads and runs on a background thread and is kept for the next sentence.

use std::path::PathBuf;

use egui::Ui;
use egui_plot::{Bar, BarChart, Plot};
use poll_promise::Promise;

use super::background::background;

use crate::backend::BackendKind;
use crate::checkpoint::Checkpoint;
use crate::generate::load_tokenizer;
use crate::model::HunYuan;
use crate::tokenizer::Tokenizer;
use crate::train::attention_input_errors;

/// A model and its tokenizer, loaded once per directory.
struct ProbeModel {
    dir: PathBuf,
    model: HunYuan,
    tokenizer: Tokenizer,
}

/// One measurement: token labels and `[layer][token]` relative errors.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationErrors {
    pub tokens: Vec<String>,
    pub errors: Vec<Vec<f64>>,
}

type Measured = Result<(Box<ProbeModel>, ActivationErrors), String>;

pub struct ActivationProbe {
    pub sentence: String,
    pub result: Option<ActivationErrors>,
    pub error: Option<String>,
    cached: Option<Box<ProbeModel>>,
    running: Option<Promise<Measured>>,
}

impl Default for ActivationProbe {
    fn default() -> Self {
        Self {
            sentence: "Open the file and save your changes.".into(),
            result: None,
            error: None,
            cached: None,
            running: None,
        }
    }
}

fn measure(cached: Option<Box<ProbeModel>>, dir: PathBuf, sentence: &str) -> Measured {
    let probe = match cached.filter(|c| c.dir == dir) {
        Some(probe) => probe,
        None => {
            let tokenizer = load_tokenizer(&dir)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{}: no tokenizer.json to encode the sentence with", dir.display()))?;
            let device = BackendKind::Flex.device();
            let model = Checkpoint::open(&dir)
                .and_then(|mut c| c.load_model(&device))
                .map_err(|e| e.to_string())?;
            Box::new(ProbeModel { dir, model, tokenizer })
        }
    };
    let ids = probe.tokenizer.encode(sentence).map_err(|e| e.to_string())?;
    if ids.is_empty() {
        return Err("type a sentence first".into());
    }
    let errors = attention_input_errors(&probe.model, &ids, &BackendKind::Flex.device());
    let tokens = probe.tokenizer.pieces(&ids);
    Ok((probe, ActivationErrors { tokens, errors }))
}

impl ActivationProbe {
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Measures the sentence on the model in `dir` in the background.
    pub fn start(&mut self, dir: PathBuf) {
        let cached = self.cached.take();
        let sentence = self.sentence.clone();
        self.error = None;
        self.running = Some(background("activation-probe", move || measure(cached, dir, &sentence)));
    }

    pub fn poll(&mut self) {
        let Some(promise) = self.running.take() else { return };
        match promise.try_take() {
            Ok(Ok((model, result))) => {
                self.cached = Some(model);
                self.result = Some(result);
            }
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
