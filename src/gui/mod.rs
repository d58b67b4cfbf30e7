//! BitDistill Studio, the eframe app (wgpu renderer): Model, Quantize explorer, Train, Attention, Translate and
//! Report panels on the training core's event stream. Heavy work (loading, reading weights, training,
//! translating) runs in the background (`background.rs`).

mod activation_probe;
mod app;
mod attention_panel;
mod background;
mod compare_section;
mod file_dialog;
mod fonts;
mod heatmap;
mod history;
mod model_panel;
mod quantize_panel;
mod report_panel;
mod screenshots;
mod selftest;
mod ternary_view;
mod train_panel;
mod translate_job;
mod translate_panel;
#[cfg(target_arch = "wasm32")]
mod web;
mod worker;

pub use activation_probe::ActivationProbe;
#[cfg(not(target_arch = "wasm32"))]
pub use app::{GuiOptions, run_gui};
pub use app::{Panel, Settings, StudioApp};
pub use attention_panel::{AttentionPanel, matrix};
pub use compare_section::CompareSection;
pub use fonts::{font_definitions, install_fonts};
pub use heatmap::{Heatmap, colour};
pub use history::{RunHistory, smooth};
pub use model_panel::{ModelPanel, OpenedModel, model_bytes};
pub use quantize_panel::QuantizePanel;
pub use report_panel::{ExportRequest, ReportPanel, export_report};
pub use selftest::{SELFTEST_TRAIN_STEPS, SelfTest, SelfTestRun};
pub use ternary_view::TernaryView;
pub use train_panel::TrainPanel;
pub use translate_panel::{Side, Template, TranslatePanel};
#[cfg(target_arch = "wasm32")]
pub use web::start_web;
