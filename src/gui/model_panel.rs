//! Model: open a teacher or student directory (loaded in the background) and show its architecture, the
//! parameter breakdown, and bytes at bf16 and at 1.58 bits.

use std::path::PathBuf;
use std::sync::Arc;

use egui::Ui;
use poll_promise::Promise;

#[cfg(not(target_arch = "wasm32"))]
use super::background::background;
#[cfg(target_arch = "wasm32")]
use super::background::fetch_job;

use super::file_dialog::{Browse, Pick};
use crate::checkpoint::{Checkpoint, ModelFiles};
use crate::model::{HunYuanConfig, ParamBreakdown};
use crate::web::picked::display_name;

/// An opened checkpoint: config, tensors mapped, not decoded.
pub struct OpenedModel {
    pub dir: PathBuf,
    pub checkpoint: Checkpoint,
}

impl OpenedModel {
    pub fn config(&self) -> &HunYuanConfig {
        &self.checkpoint.config
    }
}

/// Bytes of the model with bf16 weights, and with the linears at 2-bit ternary packing (the rest bf16).
pub fn model_bytes(params: &ParamBreakdown) -> (usize, usize) {
    let bf16 = 2 * params.total();
    (bf16, bf16 - 2 * params.linears + params.linears.div_ceil(4))
}

pub struct ModelPanel {
    pub path: String,
    loading: Option<Promise<Result<Arc<OpenedModel>, String>>>,
    pub opened: Option<Arc<OpenedModel>>,
    pub error: Option<String>,
    browse: Browse,
}

impl ModelPanel {
    pub fn new(path: String) -> Self {
        Self {
            path,
            loading: None,
            opened: None,
            error: None,
            browse: Browse::default(),
        }
    }

    /// Opens `self.path` on a background thread (in the browser: fetches the model directory at that URL).
    pub fn load(&mut self) {
        let dir = PathBuf::from(self.path.trim());
        self.error = None;
        let open = |dir: PathBuf, files: &ModelFiles| {
            Checkpoint::from_files(files, None)
                .map(|checkpoint| Arc::new(OpenedModel { dir, checkpoint }))
                .map_err(|e| e.to_string())
        };
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.loading = Some(background("open-model", move || {
                open(dir.clone(), &ModelFiles::dir(&dir))
            }));
        }
        #[cfg(target_arch = "wasm32")]
        {
            self.loading = Some(fetch_job(async move {
                let files = crate::web::fetch_model(&dir.to_string_lossy()).await?;
                open(dir, &files)
            }));
        }
    }

    /// Takes a finished load; true when a model has just arrived.
    pub fn poll(&mut self) -> bool {
        let Some(ready) = self.loading.as_ref().and_then(|p| p.ready()) else {
            return false;
        };
        let arrived = match ready {
            Ok(model) => {
                self.opened = Some(model.clone());
                true
            }
            Err(message) => {
                self.error = Some(message.clone());
                false
            }
        };
        self.loading = None;
        arrived
    }

    pub fn ui(&mut self, ui: &mut Ui) {
        ui.heading("Model");
        ui.horizontal(|ui| {
            let label = ui.label("Directory:");
            ui.text_edit_singleline(&mut self.path).labelled_by(label.id);
            if self.browse.button(ui, &mut self.path, Pick::Folder) | ui.button("Open").clicked() {
                self.load();
            }
            if self.loading.is_some() {
                ui.spinner();
                ui.label("loading…");
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        let Some(model) = &self.opened else {
            ui.label("No model open.");
            return;
        };
        let c = model.config();
        let kind = match &c.student {
            Some(s) if s.packing.is_some() => "packed 1.58-bit export",
            Some(_) => "BitDistill student (latent weights)",
            None => "full-precision teacher",
        };
        ui.label(format!("{} — {kind}", display_name(&model.dir.to_string_lossy())));
        egui::Grid::new("architecture").striped(true).show(ui, |ui| {
            for (name, value) in [
                ("hidden size", c.hidden_size),
                ("layers", c.num_hidden_layers),
                ("query heads", c.num_attention_heads),
                ("key/value heads", c.num_key_value_heads),
                ("head dim", c.head_dim),
                ("MLP width", c.intermediate_size),
                ("vocabulary", c.vocab_size),
            ] {
                ui.label(name);
                ui.label(value.to_string());
                ui.end_row();
            }
            ui.label("RoPE base");
            ui.label(format!("{:.1}", c.rope_base()));
            ui.end_row();
        });
        let params = c.param_breakdown();
        ui.separator();
        egui::Grid::new("parameters").striped(true).show(ui, |ui| {
            for (name, count) in [
                ("embeddings", params.embeddings),
                ("lm_head (untied)", params.lm_head),
                ("linears", params.linears),
                ("norms", params.norms),
                ("total", params.total()),
            ] {
                ui.label(name);
                ui.label(format!("{count} parameters"));
                ui.end_row();
            }
        });
        let (bf16, ternary) = model_bytes(&params);
        ui.label(format!("bf16: {bf16} bytes"));
        ui.label(format!(
            "1.58-bit linears (2-bit packing), the rest bf16: {ternary} bytes"
        ));
    }
}
