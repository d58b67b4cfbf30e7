//! BitDistill Studio, the eframe app (wgpu renderer): Model, Quantize explorer, Train and Attention panels on
//! the training core's event stream. Heavy work (loading, reading weights, training) runs on other threads.

mod app;
mod attention_panel;
mod heatmap;
mod history;
mod model_panel;
mod quantize_panel;
mod screenshots;
mod ternary_view;
mod train_panel;
mod worker;

pub use app::{GuiOptions, Panel, Settings, StudioApp, run_gui};
pub use attention_panel::{AttentionPanel, matrix};
pub use heatmap::{Heatmap, colour};
pub use history::{RunHistory, smooth};
pub use model_panel::{ModelPanel, OpenedModel, model_bytes};
pub use quantize_panel::QuantizePanel;
pub use ternary_view::TernaryView;
pub use train_panel::TrainPanel;
