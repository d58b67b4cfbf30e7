//! Quantize explorer: one projection's latent weights, the ternary thresholds, the −1/0/+1 shares, Δ, the
//! reconstruction error, the warm-up blend λ drawn live, and the int8 error of a typed sentence's activations.

use std::sync::Arc;

use egui::Ui;
use egui_plot::{Bar, BarChart, Plot, VLine};
use poll_promise::Promise;

use super::activation_probe::ActivationProbe;
use super::background::background;
use super::model_panel::OpenedModel;
use super::ternary_view::TernaryView;
use crate::export::projection_names;

const BINS: usize = 61;

/// (layer, projection).
type Selection = (usize, usize);
/// Weights being read in the background.
type Reading = Promise<Result<Vec<f32>, String>>;

pub struct QuantizePanel {
    pub layer: usize,
    pub projection: usize,
    pub blend: f32,
    /// (layer, projection) the weights below belong to.
    weights: Option<(Selection, Arc<Vec<f32>>)>,
    reading: Option<(Selection, Reading)>,
    pub view: Option<TernaryView>,
    view_blend: f32,
    pub error: Option<String>,
    pub activation: ActivationProbe,
}

impl Default for QuantizePanel {
    fn default() -> Self {
        Self {
            layer: 0,
            projection: 0,
            blend: 1.0,
            weights: None,
            reading: None,
            view: None,
            view_blend: f32::NAN,
            error: None,
            activation: ActivationProbe::default(),
        }
    }
}

impl QuantizePanel {
    /// Keeps the weights of the selected projection current (read in the background) and the view in step
    /// with λ. Returns the view once available.
    pub fn update(&mut self, model: &Arc<OpenedModel>) {
        let key = (self.layer, self.projection);
        if let Some((pending, promise)) = &self.reading
            && let Some(result) = promise.ready()
        {
            match result {
                Ok(values) => self.weights = Some((*pending, Arc::new(values.clone()))),
                Err(message) => self.error = Some(message.clone()),
            }
            self.reading = None;
            self.view_blend = f32::NAN;
        }
        let current = self.weights.as_ref().is_some_and(|(k, _)| *k == key);
        let pending = self.reading.as_ref().is_some_and(|(k, _)| *k == key);
        if !current && !pending {
            let (name, _, rows, cols) = projection_names(self.layer, model.config())[self.projection].clone();
            let model = model.clone();
            self.reading = Some((
                key,
                background("read-weights", move || {
                    let data = model.checkpoint.read_f32(&format!("{name}.weight"), &[rows, cols]);
                    data.map(|d| d.try_into_vec_as::<f32>().expect("f32"))
                        .map_err(|e| e.to_string())
                }),
            ));
        }
        if let Some((k, weights)) = &self.weights
            && *k == key
            && self.view_blend != self.blend
        {
            self.view = Some(TernaryView::new(weights, BINS, self.blend));
            self.view_blend = self.blend;
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, model: Option<&Arc<OpenedModel>>) {
        ui.heading("Quantize explorer");
        let Some(model) = model else {
            ui.label("Open a model in the Model panel first.");
            return;
        };
        let layers = model.config().num_hidden_layers;
        let names = projection_names(0, model.config()).map(|(_, short, _, _)| short);
        ui.horizontal(|ui| {
            ui.add(egui::Slider::new(&mut self.layer, 0..=layers - 1).text("layer"));
            let label = ui.label("projection");
            egui::ComboBox::from_id_salt("projection")
                .selected_text(names[self.projection])
                .show_ui(ui, |ui| {
                    for (i, name) in names.iter().enumerate() {
                        ui.selectable_value(&mut self.projection, i, *name);
                    }
                })
                .response
                .labelled_by(label.id);
        });
        ui.add(egui::Slider::new(&mut self.blend, 0.0..=1.0).text("warm-up λ (0 = latent, 1 = ternary)"));
        self.update(model);
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        let Some(view) = &self.view else {
            ui.spinner();
            return;
        };
        ui.label(format!("Δ = mean|W| = {:.6}", view.delta));
        ui.label(format!(
            "codes: −1 {:.1}%  0 {:.1}%  +1 {:.1}%",
            100.0 * view.shares[0],
            100.0 * view.shares[1],
            100.0 * view.shares[2]
        ));
        ui.label(format!(
            "reconstruction error ||W − Δ·codes|| / ||W|| = {:.4}",
            view.reconstruction_error
        ));
        let width = 2.0 * super::ternary_view::HISTOGRAM_RANGE as f64 / BINS as f64;
        let bars = |counts: &[u64]| -> Vec<Bar> {
            counts
                .iter()
                .enumerate()
                .map(|(i, &c)| Bar::new(view.bin_centre(i), c as f64).width(width))
                .collect()
        };
        Plot::new("weight-histogram").height(260.0).show(ui, |plot| {
            plot.bar_chart(BarChart::new("latent W/Δ", bars(&view.latent_counts)));
            plot.bar_chart(BarChart::new(
                format!("blended, λ = {:.2}", self.blend),
                bars(&view.blended_counts),
            ));
            plot.vline(VLine::new("threshold −Δ/2", -0.5));
            plot.vline(VLine::new("threshold +Δ/2", 0.5));
        });
        self.activation.ui(ui, model.dir.clone(), self.layer);
    }
}
