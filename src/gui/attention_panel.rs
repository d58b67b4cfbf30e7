//! Attention: teacher and student attention maps of the distilled layer per head, and the Q/K/V relation
//! matrices that attention distillation compares, with their difference, on the run's probe sentence.

use egui::Ui;

use super::heatmap::Heatmap;
use crate::train::Snapshot;

#[derive(Default)]
pub struct AttentionPanel {
    pub head: usize,
    /// 0, 1, 2 = Q, K, V.
    pub relation: usize,
}

/// Matrix `index` of a `[count][n][n]` flattened block.
pub fn matrix(values: &[f32], n: usize, index: usize) -> &[f32] {
    &values[index * n * n..(index + 1) * n * n]
}

impl AttentionPanel {
    pub fn ui(&mut self, ui: &mut Ui, snapshot: Option<&Snapshot>) {
        ui.heading("Attention");
        let Some(s) = snapshot else {
            ui.label("No snapshot yet: start a run in the Train panel (snapshots come every `snapshot.every` steps).");
            return;
        };
        let n = s.tokens.len();
        ui.label(format!(
            "{:?} step {} · layer {} · probe of {n} tokens",
            s.stage, s.step, s.attention_layer
        ));
        ui.add(egui::Slider::new(&mut self.head, 0..=s.heads.max(1) - 1).text("head"));
        let cell = (360.0 / n.max(1) as f32).clamp(6.0, 28.0);
        ui.columns(2, |columns| {
            Heatmap {
                title: "teacher attention",
                values: matrix(&s.teacher_attention, n, self.head),
                labels: &s.tokens,
                cell,
            }
            .show(&mut columns[0]);
            Heatmap {
                title: "student attention",
                values: matrix(&s.student_attention, n, self.head),
                labels: &s.tokens,
                cell,
            }
            .show(&mut columns[1]);
        });
        ui.separator();
        ui.horizontal(|ui| {
            ui.label("relation of");
            for (i, name) in ["Q", "K", "V"].iter().enumerate() {
                ui.selectable_value(&mut self.relation, i, *name);
            }
        });
        if s.teacher_relations.len() < 3 * n * n {
            ui.label("This run does not distil relations (γ = 0 or Stage 2).");
            return;
        }
        ui.label(format!("distilled relations: {}", s.relation_form));
        let teacher = matrix(&s.teacher_relations, n, self.relation);
        let student = matrix(&s.student_relations, n, self.relation);
        let difference: Vec<f32> = student.iter().zip(teacher).map(|(s, t)| s - t).collect();
        ui.columns(3, |columns| {
            Heatmap {
                title: "teacher relation",
                values: teacher,
                labels: &s.tokens,
                cell: cell * 0.7,
            }
            .show(&mut columns[0]);
            Heatmap {
                title: "student relation",
                values: student,
                labels: &s.tokens,
                cell: cell * 0.7,
            }
            .show(&mut columns[1]);
            Heatmap {
                title: "student − teacher",
                values: &difference,
                labels: &s.tokens,
                cell: cell * 0.7,
            }
            .show(&mut columns[2]);
        });
    }
}
