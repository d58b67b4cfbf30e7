//! Run reports: metrics as CSV / JSONL (and read back from a run's `metrics.jsonl`), and the curves and
//! weight histograms as PNG or SVG figures drawn with plotters.

mod figures;
mod metrics;

pub use figures::{
    FigureFormat, LAYER_DISTANCES, LAYER_RELATIONS, LOSS_TERMS, LayerCurve, LossTerm, draw_curves, draw_histogram,
    draw_layer_drift, metric_points, plot_error, register_font,
};
pub use metrics::{METRICS_FILE, MetricsLog, read_metrics, write_metrics_csv, write_metrics_jsonl};
