//! Everything the Train and Attention panels draw, accumulated from the trainer's event stream.

use crate::data::CacheProgress;
use crate::report::{LossTerm, metric_points};
use crate::train::{Snapshot, Stage, StepMetrics, StepRate, TrainEvent, describe_tokenizing};

#[derive(Debug, Default)]
pub struct RunHistory {
    pub steps: Vec<StepMetrics>,
    /// (index into `steps` when taken, per-layer share of −1/0/+1).
    pub shares: Vec<(usize, Vec<[f64; 3]>)>,
    pub latest_snapshot: Option<Box<Snapshot>>,
    pub stage: Option<(Stage, usize)>,
    pub finished: bool,
    /// Where the finished run wrote its student (none in the browser).
    pub student: Option<String>,
    pub failed: Option<String>,
    /// The run's notices (e.g. a reference-path fallback), in order.
    pub notices: Vec<String>,
    /// How far the tokenization of Stage 2's corpus is, while it runs before the first step.
    pub tokenizing: Option<CacheProgress>,
    rate: StepRate,
}

impl RunHistory {
    pub fn push(&mut self, event: TrainEvent) {
        match event {
            TrainEvent::StageStarted { stage, total_steps, .. } => self.stage = Some((stage, total_steps)),
            TrainEvent::Step(metrics) => {
                self.rate.observe(&metrics);
                self.steps.push(metrics);
            }
            TrainEvent::Snapshot(snapshot) => {
                self.shares.push((
                    self.steps.len(),
                    snapshot.layers.iter().map(|l| l.ternary_share).collect(),
                ));
                self.latest_snapshot = Some(snapshot);
            }
            TrainEvent::Finished { student } => {
                self.finished = true;
                self.student = student;
            }
            TrainEvent::Failed { message } => self.failed = Some(message),
            TrainEvent::Notice { message } => self.notices.push(message),
            TrainEvent::Tokenizing(progress) => self.tokenizing = Some(progress),
            TrainEvent::Checkpoint { .. } | TrainEvent::StageFinished { .. } => {}
        }
    }

    /// `[x, y]` points of one metric over all steps so far (see [`metric_points`]).
    pub fn series(&self, metric: impl Fn(&StepMetrics) -> Option<f64>) -> Vec<[f64; 2]> {
        metric_points(&self.steps, metric)
    }

    /// Status line: stage, step, speed and estimated time left in the current stage.
    pub fn status(&self) -> String {
        if let Some(message) = &self.failed {
            return format!("failed: {message}");
        }
        if self.finished {
            return match &self.student {
                Some(student) => format!("finished: student in {student}"),
                None => "finished (nothing written: a run in the browser keeps no student)".into(),
            };
        }
        let Some(last) = self.steps.last() else {
            return self
                .tokenizing
                .as_ref()
                .map_or("not started".into(), describe_tokenizing);
        };
        format!("{} · loss {:.3}", self.rate.describe(last), last.loss)
    }
}

/// The colour a loss term is drawn in (the same as in exported figures).
pub fn term_colour(term: &LossTerm) -> egui::Color32 {
    let [r, g, b] = term.rgb;
    egui::Color32::from_rgb(r, g, b)
}

/// Exponential moving average with weight `smoothing` ∈ [0, 1) on the past (0 = raw), TensorBoard-style with
/// debiasing so the first points are not pulled towards zero.
pub fn smooth(points: &[[f64; 2]], smoothing: f64) -> Vec<[f64; 2]> {
    let mut average = 0.0;
    let mut weight = 0.0;
    points
        .iter()
        .map(|&[x, y]| {
            average = smoothing * average + (1.0 - smoothing) * y;
            weight = smoothing * weight + (1.0 - smoothing);
            [x, average / weight]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step: usize, loss: f64, kd: Option<f64>) -> TrainEvent {
        TrainEvent::Step(StepMetrics {
            stage: Stage::Distill,
            step,
            total_steps: 10,
            loss,
            ce: loss,
            logits_kd: kd,
            attention_kd: None,
            lr: 1e-4,
            grad_norm: 1.0,
            tokens_per_s: 100.0,
            padding_share: 0.0,
            quant_blend: 1.0,
        })
    }

    #[test]
    fn a_curve_has_one_point_per_step_event() {
        let mut history = RunHistory::default();
        for i in 1..=7 {
            history.push(step(i, 10.0 - i as f64, (i % 2 == 0).then_some(0.5)));
        }
        let loss = history.series(|m| Some(m.loss));
        assert_eq!(loss.len(), 7);
        assert_eq!(loss[6], [7.0, 3.0]);
        assert_eq!(history.series(|m| m.logits_kd).len(), 3);
        let status = history.status();
        assert!(
            status.starts_with("Distill step 7/10 · ")
                && status.contains(" steps/s · ETA ")
                && status.ends_with(" · loss 3.000"),
            "{status}"
        );
    }

    #[test]
    fn the_status_shows_the_tokenization_until_the_first_step() {
        let mut history = RunHistory::default();
        assert_eq!(history.status(), "not started");
        history.push(TrainEvent::Tokenizing(CacheProgress {
            bytes_read: 50_000_000,
            bytes_total: 200_000_000,
            tokens: 10_000_000,
            documents: 5,
            seconds: 10.0,
        }));
        assert_eq!(
            history.status(),
            "tokenizing the corpus 50/200 MB · 1.00M tokens/s · ETA 30s"
        );
        history.push(step(1, 2.0, None));
        assert!(
            history.status().starts_with("Distill step 1/10"),
            "{}",
            history.status()
        );
    }

    #[test]
    fn smoothing_is_debiased_and_zero_is_raw() {
        let points = [[1.0, 4.0], [2.0, 2.0]];
        assert_eq!(smooth(&points, 0.0), points.to_vec());
        // 0.5: a1 = 2, w1 = 0.5 → 4; a2 = 1 + 1 = 2, w2 = 0.75 → 2.666…
        let s = smooth(&points, 0.5);
        assert_eq!(s[0], [1.0, 4.0]);
        assert!((s[1][1] - 8.0 / 3.0).abs() < 1e-12);
    }
}
