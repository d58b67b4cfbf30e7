//! PNG figures of the demo drawn with plotters: the loss curves of both stages and chrF side by side.

use std::path::Path;

use plotters::prelude::*;

use super::report::DemoReport;
use crate::error::Result;
use crate::report::{plot_error, register_font};
use crate::train::Stage;

/// Writes `losses.png` and `chrf.png` into `dir`.
pub fn write_plots(report: &DemoReport, dir: &Path) -> Result<()> {
    register_font();
    draw_losses(report, &dir.join("losses.png"))?;
    draw_chrf(report, &dir.join("chrf.png"))
}

fn draw_losses(report: &DemoReport, path: &Path) -> Result<()> {
    let root = BitMapBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let points: Vec<(f64, f64, Stage)> = report
        .steps
        .iter()
        .enumerate()
        .map(|(i, m)| (i as f64, m.ce, m.stage))
        .collect();
    let max = points.iter().map(|p| p.1).fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Cross-entropy per optimizer step (Stage 2 then Stage 3)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..points.len().max(1) as f64, 0f64..max * 1.05)
        .map_err(|e| plot_error(path, e))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("CE")
        .draw()
        .map_err(|e| plot_error(path, e))?;
    for (stage, color) in [(Stage::Pretrain, BLUE), (Stage::Distill, RED)] {
        let series: Vec<(f64, f64)> = points.iter().filter(|p| p.2 == stage).map(|p| (p.0, p.1)).collect();
        chart
            .draw_series(LineSeries::new(series, color.stroke_width(2)))
            .map_err(|e| plot_error(path, e))?
            .label(format!("{stage:?}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_error(path, e))?;
    root.present().map_err(|e| plot_error(path, e))
}

fn draw_chrf(report: &DemoReport, path: &Path) -> Result<()> {
    let root = BitMapBackend::new(path, (700, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let pairs: Vec<String> = report.teacher.scores.keys().cloned().collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "chrF on the held-out split: teacher (blue) vs student (red)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(40)
        .build_cartesian_2d(0f64..(2 * pairs.len()) as f64 + 0.5, 0f64..100f64)
        .map_err(|e| plot_error(path, e))?;
    let labels = pairs.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * pairs.len() + 1)
        .x_label_formatter(&|x| {
            labels
                .get((x / 2.0).floor() as usize)
                .filter(|_| x.fract() == 0.5)
                .cloned()
                .unwrap_or_default()
        })
        .y_desc("chrF")
        .draw()
        .map_err(|e| plot_error(path, e))?;
    for (i, pair) in pairs.iter().enumerate() {
        for (offset, model, color) in [(0.0, &report.teacher, BLUE), (1.0, &report.student, RED)] {
            let value = model.scores.get(pair).map_or(0.0, |s| s.chrf);
            let x = 2.0 * i as f64 + offset + 0.1;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, 0.0), (x + 0.8, value)],
                    color.filled(),
                )))
                .map_err(|e| plot_error(path, e))?;
        }
    }
    root.present().map_err(|e| plot_error(path, e))
}
