//! Figures drawn with plotters, as PNG or SVG by the file's extension: loss curves of one or more runs, a
//! histogram of latent weights in units of Δ with the ternary thresholds ±Δ/2, and `compare`'s per-layer curves.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::compare::{CompareReport, LayerComparison};
use crate::error::{Error, Result};
use crate::train::StepMetrics;

/// Registers the bundled DejaVu Sans as plotters' "sans-serif" (no system fonts are assumed). In the browser
/// plotters draws text with the page's fonts and has no registry.
pub fn register_font() {
    #[cfg(not(target_arch = "wasm32"))]
    {
        static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let _ = plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT);
        });
    }
}

pub fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{}: drawing failed: {e}", path.display()))
}

/// The file type a figure is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FigureFormat {
    Png,
    Svg,
}

impl FigureFormat {
    pub fn of(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("png") => Ok(Self::Png),
            Some("svg") => Ok(Self::Svg),
            _ => Err(Error::Invalid(format!(
                "{}: a figure is written as .png or .svg",
                path.display()
            ))),
        }
    }
}

enum Canvas<'a> {
    // Never built in the browser (no bitmap files there); the drawing code stays one for both targets.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    Png(DrawingArea<BitMapBackend<'a>, Shift>),
    Svg(DrawingArea<SVGBackend<'a>, Shift>),
}

/// A white canvas of `size` in the format `path` names.
fn canvas(path: &Path, size: (u32, u32)) -> Result<Canvas<'_>> {
    register_font();
    Ok(match FigureFormat::of(path)? {
        #[cfg(not(target_arch = "wasm32"))]
        FigureFormat::Png => Canvas::Png(BitMapBackend::new(path, size).into_drawing_area()),
        #[cfg(target_arch = "wasm32")]
        FigureFormat::Png => {
            return Err(Error::Invalid(format!(
                "{}: PNG figures are written by the native app only",
                path.display()
            )));
        }
        FigureFormat::Svg => Canvas::Svg(SVGBackend::new(path, size).into_drawing_area()),
    })
}

/// plotters' errors as text (their types differ per backend).
type Drawn = std::result::Result<(), String>;

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The curves of each metric of every run (`(name, steps)`), against the optimizer step across stages.
pub fn draw_curves(runs: &[(&str, &[StepMetrics])], path: &Path) -> Result<()> {
    match canvas(path, (960, 480))? {
        Canvas::Png(root) => curves_on(root, runs),
        Canvas::Svg(root) => curves_on(root, runs),
    }
    .map_err(|e| plot_error(path, e))
}

/// One loss term of the curves (the app's plots and the exported figures share these).
pub struct LossTerm {
    pub name: &'static str,
    /// The term's value at a step; `None` where the step has no such term (the KD terms in Stage 2).
    pub value: fn(&StepMetrics) -> Option<f64>,
    pub rgb: [u8; 3],
}

pub const LOSS_TERMS: [LossTerm; 4] = [
    LossTerm {
        name: "loss",
        value: |m| Some(m.loss),
        rgb: [66, 133, 244],
    },
    LossTerm {
        name: "CE",
        value: |m| Some(m.ce),
        rgb: [219, 68, 55],
    },
    LossTerm {
        name: "logits KD",
        value: |m| m.logits_kd,
        rgb: [244, 180, 0],
    },
    LossTerm {
        name: "attention KD",
        value: |m| m.attention_kd,
        rgb: [15, 157, 88],
    },
];

/// `[x, y]` points of one metric of a run (x = optimizer steps across stages, from 1); steps without the
/// metric (e.g. the KD terms in Stage 2) are left out.
pub fn metric_points(steps: &[StepMetrics], value: impl Fn(&StepMetrics) -> Option<f64>) -> Vec<[f64; 2]> {
    steps
        .iter()
        .enumerate()
        .filter_map(|(i, m)| value(m).map(|v| [(i + 1) as f64, v]))
        .collect()
}

fn curves_on<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, runs: &[(&str, &[StepMetrics])]) -> Drawn {
    root.fill(&WHITE).map_err(text)?;
    let steps = runs.iter().map(|(_, s)| s.len()).max().unwrap_or(0).max(1);
    let top = runs
        .iter()
        .flat_map(|(_, s)| s.iter().map(|m| m.loss.max(m.ce)))
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption("Loss terms per optimizer step", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..steps as f64 + 1.0, 0f64..top * 1.05)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss")
        .draw()
        .map_err(text)?;
    for (run, (name, steps)) in runs.iter().enumerate() {
        for term in &LOSS_TERMS {
            let points: Vec<(f64, f64)> = metric_points(steps, term.value)
                .into_iter()
                .map(|[x, y]| (x, y))
                .collect();
            if points.is_empty() {
                continue;
            }
            // The second run is drawn lighter so an overlay stays readable.
            let [r, g, b] = term.rgb;
            let style = RGBColor(r, g, b).mix(if run == 0 { 1.0 } else { 0.45 }).stroke_width(2);
            labelled_line(&mut chart, points, style, format!("{name}: {}", term.name))?;
        }
    }
    draw_legend(&mut chart)?;
    root.present().map_err(text)
}

/// Bars of `counts` over W/Δ in `[-range, range]` (equal bins), with the thresholds ±1/2 drawn.
pub fn draw_histogram(title: &str, counts: &[u64], range: f64, path: &Path) -> Result<()> {
    match canvas(path, (800, 420))? {
        Canvas::Png(root) => histogram_on(root, title, counts, range),
        Canvas::Svg(root) => histogram_on(root, title, counts, range),
    }
    .map_err(|e| plot_error(path, e))
}

fn histogram_on<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, title: &str, counts: &[u64], range: f64) -> Drawn {
    root.fill(&WHITE).map_err(text)?;
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let width = 2.0 * range / counts.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(-range..range, 0f64..top * 1.05)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("W / Δ")
        .y_desc("weights")
        .draw()
        .map_err(text)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(i, &c)| {
            let left = -range + i as f64 * width;
            Rectangle::new([(left, 0.0), (left + width, c as f64)], BLUE.mix(0.7).filled())
        }))
        .map_err(text)?;
    for threshold in [-0.5, 0.5] {
        chart
            .draw_series(LineSeries::new(
                [(threshold, 0.0), (threshold, top * 1.05)],
                RED.stroke_width(2),
            ))
            .map_err(text)?;
    }
    root.present().map_err(text)
}

/// One per-layer curve of a `compare` report (the app's plot and the exported figure share these).
pub struct LayerCurve {
    pub name: &'static str,
    pub value: fn(&LayerComparison) -> f64,
    pub rgb: [u8; 3],
}

const fn layer_curve(name: &'static str, value: fn(&LayerComparison) -> f64, rgb: [u8; 3]) -> LayerCurve {
    LayerCurve { name, value, rgb }
}

/// Distances of the student's states from the teacher's, per layer.
pub const LAYER_DISTANCES: [LayerCurve; 4] = [
    layer_curve("hidden cosine", |l| l.hidden_cosine, [66, 133, 244]),
    layer_curve("attention cosine", |l| l.attention_cosine, [15, 157, 88]),
    layer_curve("hidden relative L2", |l| l.hidden_relative_l2, [219, 68, 55]),
    layer_curve("attention relative L2", |l| l.attention_relative_l2, [244, 180, 0]),
];

/// The Q/K/V relation KLs of Stage 3's term, per layer.
pub const LAYER_RELATIONS: [LayerCurve; 3] = [
    layer_curve("relation KL Q", |l| l.relation_kl_q, [66, 133, 244]),
    layer_curve("relation KL K", |l| l.relation_kl_k, [219, 68, 55]),
    layer_curve("relation KL V", |l| l.relation_kl_v, [15, 157, 88]),
];

/// The per-layer curves of a `compare` report: distances on the left, relation KLs on the right.
pub fn draw_layer_drift(report: &CompareReport, path: &Path) -> Result<()> {
    match canvas(path, (1200, 440))? {
        Canvas::Png(root) => layer_drift_on(root, report),
        Canvas::Svg(root) => layer_drift_on(root, report),
    }
    .map_err(|e| plot_error(path, e))
}

fn layer_drift_on<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, report: &CompareReport) -> Drawn {
    root.fill(&WHITE).map_err(text)?;
    let (left, right) = root.split_horizontally(600);
    let panels = [
        (
            left,
            &LAYER_DISTANCES[..],
            "Student vs teacher states per layer",
            "cosine / relative L2",
        ),
        (right, &LAYER_RELATIONS[..], "Q/K/V relation KL per layer", "KL"),
    ];
    let layers = report.layers.len().max(1) as f64;
    for (area, curves, caption, y_desc) in panels {
        let top = report
            .layers
            .iter()
            .flat_map(|l| curves.iter().map(move |c| (c.value)(l)))
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
            .max(if y_desc == "KL" { 1e-9 } else { 1.0 });
        let mut chart = ChartBuilder::on(&area)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5f64..layers - 0.5, 0f64..top * 1.05)
            .map_err(text)?;
        chart
            .configure_mesh()
            .x_desc("layer")
            .y_desc(y_desc)
            .draw()
            .map_err(text)?;
        for curve in curves {
            let [r, g, b] = curve.rgb;
            let style = RGBColor(r, g, b).stroke_width(2);
            let points = report.layers.iter().map(|l| (l.layer as f64, (curve.value)(l)));
            labelled_line(&mut chart, points, style, curve.name.to_string())?;
        }
        draw_legend(&mut chart)?;
    }
    root.present().map_err(text)
}

type LineChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One line with its legend entry.
fn labelled_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut LineChart<'a, DB>,
    points: impl IntoIterator<Item = (f64, f64)>,
    style: ShapeStyle,
    label: String,
) -> Drawn {
    chart
        .draw_series(LineSeries::new(points, style))
        .map_err(text)?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
    Ok(())
}

/// The legend box of the lines drawn so far.
fn draw_legend<'a, DB: DrawingBackend + 'a>(chart: &mut LineChart<'a, DB>) -> Drawn {
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(text)
}
