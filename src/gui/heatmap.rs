//! A matrix drawn as coloured cells with token labels on both axes and a colour legend.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Ui, Vec2, pos2, vec2};

/// Viridis at five stops, linearly interpolated: dark blue at the low end, yellow at the high end.
const STOPS: [[u8; 3]; 5] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
];

/// Colour of `value` on a scale from `low` to `high` (clamped).
pub fn colour(value: f32, low: f32, high: f32) -> Color32 {
    let t = if high > low {
        ((value - low) / (high - low)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let position = t * (STOPS.len() - 1) as f32;
    let i = (position as usize).min(STOPS.len() - 2);
    let f = position - i as f32;
    let mix = |c: usize| (STOPS[i][c] as f32 + f * (STOPS[i + 1][c] as f32 - STOPS[i][c] as f32)).round() as u8;
    Color32::from_rgb(mix(0), mix(1), mix(2))
}

/// A square `[n][n]` matrix (row-major) with labels, or a signed one (difference) on a symmetric scale.
pub struct Heatmap<'a> {
    pub title: &'a str,
    pub values: &'a [f32],
    pub labels: &'a [String],
    /// Cell side in points.
    pub cell: f32,
}

impl Heatmap<'_> {
    /// The value range the colours span: [min, max], or [−m, m] when values have both signs.
    pub fn range(&self) -> (f32, f32) {
        let (low, high) = self
            .values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        if low < 0.0 && high > 0.0 {
            let m = low.abs().max(high);
            (-m, m)
        } else {
            (low.min(high), high)
        }
    }

    /// Colour of cell (row, col).
    pub fn cell_colour(&self, row: usize, col: usize) -> Color32 {
        let n = self.labels.len();
        let (low, high) = self.range();
        colour(self.values[row * n + col], low, high)
    }

    pub fn show(&self, ui: &mut Ui) {
        let n = self.labels.len();
        if n == 0 || self.values.len() != n * n {
            ui.label(format!("{}: no data yet", self.title));
            return;
        }
        ui.label(self.title);
        let label_width = 70.0;
        let size = vec2(
            label_width + n as f32 * self.cell + 60.0,
            label_width + n as f32 * self.cell,
        );
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let painter = ui.painter_at(rect);
        let origin = rect.min + vec2(label_width, 0.0);
        let font = egui::FontId::proportional(10.0);
        let text = ui.visuals().text_color();
        for row in 0..n {
            for col in 0..n {
                let min = origin + vec2(col as f32 * self.cell, row as f32 * self.cell);
                painter.rect_filled(
                    Rect::from_min_size(min, Vec2::splat(self.cell)),
                    0.0,
                    self.cell_colour(row, col),
                );
            }
            let y = origin.y + (row as f32 + 0.5) * self.cell;
            painter.text(
                pos2(origin.x - 4.0, y),
                egui::Align2::RIGHT_CENTER,
                &self.labels[row],
                font.clone(),
                text,
            );
        }
        let bottom = origin.y + n as f32 * self.cell + 4.0;
        for (col, label) in self.labels.iter().enumerate() {
            let x = origin.x + (col as f32 + 0.5) * self.cell;
            let galley = painter.layout_no_wrap(label.clone(), font.clone(), text);
            let shape = egui::epaint::TextShape::new(Pos2::new(x - 5.0, bottom + galley.size().x), galley, text)
                .with_angle(-std::f32::consts::FRAC_PI_2);
            painter.add(shape);
        }
        // Legend: a vertical bar from low (bottom) to high (top).
        let (low, high) = self.range();
        let legend = Rect::from_min_size(
            origin + vec2(n as f32 * self.cell + 10.0, 0.0),
            vec2(12.0, n as f32 * self.cell),
        );
        let steps = 32;
        for s in 0..steps {
            let t = s as f32 / (steps - 1) as f32;
            let y = legend.max.y - (s + 1) as f32 * legend.height() / steps as f32;
            let band = Rect::from_min_size(
                pos2(legend.min.x, y),
                vec2(legend.width(), legend.height() / steps as f32),
            );
            painter.rect_filled(band, 0.0, colour(low + t * (high - low), low, high));
        }
        painter.rect_stroke(legend, 0.0, Stroke::new(1.0, text), egui::StrokeKind::Outside);
        painter.text(
            legend.right_top() + vec2(3.0, 0.0),
            egui::Align2::LEFT_TOP,
            format!("{high:.2}"),
            font.clone(),
            text,
        );
        painter.text(
            legend.right_bottom() + vec2(3.0, 0.0),
            egui::Align2::LEFT_BOTTOM,
            format!("{low:.2}"),
            font,
            text,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_the_first_to_the_last_stop() {
        assert_eq!(colour(0.0, 0.0, 1.0), Color32::from_rgb(68, 1, 84));
        assert_eq!(colour(1.0, 0.0, 1.0), Color32::from_rgb(253, 231, 37));
        assert_eq!(colour(0.5, 0.0, 1.0), Color32::from_rgb(33, 145, 140));
        // Halfway between stops 0 and 1: (68+59)/2 = 63.5 → 64, (1+82)/2 = 41.5 → 42, (84+139)/2 = 111.5 → 112.
        assert_eq!(colour(0.125, 0.0, 1.0), Color32::from_rgb(64, 42, 112));
        assert_eq!(colour(7.0, 0.0, 1.0), colour(1.0, 0.0, 1.0), "clamped");
    }

    #[test]
    fn a_cell_takes_the_colour_of_its_own_value() {
        let labels: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let values = [0.1f32, 0.9, 0.5, 0.3];
        let map = Heatmap {
            title: "t",
            values: &values,
            labels: &labels,
            cell: 10.0,
        };
        assert_eq!(map.range(), (0.1, 0.9));
        assert_eq!(map.cell_colour(0, 1), colour(0.9, 0.1, 0.9));
        assert_eq!(map.cell_colour(1, 0), colour(0.5, 0.1, 0.9));
        let signed = [-0.2f32, 0.1, 0.4, 0.0];
        let diff = Heatmap {
            title: "d",
            values: &signed,
            labels: &labels,
            cell: 10.0,
        };
        assert_eq!(diff.range(), (-0.4, 0.4));
        assert_eq!(diff.cell_colour(1, 1), colour(0.0, -0.4, 0.4));
    }
}
