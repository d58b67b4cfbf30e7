//! The rate and time left of a running stage, for the progress lines of the CLI and the app's status line.

use std::time::Duration;

use web_time::Instant;

use super::events::{Stage, StepMetrics};
use crate::data::CacheProgress;

/// Weight of the newest step in the moving average of seconds per step: steps of one stage vary with their
/// batch's length, so a short memory (about 10 steps) follows the rate without jumping with every batch.
const NEWEST_WEIGHT: f64 = 0.1;

/// Seconds per step of the current stage, an exponential moving average over the steps seen so far.
#[derive(Clone, Debug, Default)]
pub struct StepRate {
    /// The stage and step seen last.
    last: Option<(Stage, usize)>,
    last_step_at: Option<Instant>,
    seconds_per_step: Option<f64>,
}

impl StepRate {
    /// Takes in the step `metrics` reported now.
    pub fn observe(&mut self, metrics: &StepMetrics) {
        self.observe_at(metrics, Instant::now());
    }

    /// Takes in the step `metrics` reported at `now`; a new stage, or a step not after the last one (the next
    /// run of an ablation or sweep), starts the average afresh.
    pub fn observe_at(&mut self, metrics: &StepMetrics, now: Instant) {
        let continues = self
            .last
            .is_some_and(|(stage, step)| stage == metrics.stage && metrics.step > step);
        if !continues {
            *self = Self::default();
        }
        self.last = Some((metrics.stage, metrics.step));
        if let Some(last) = self.last_step_at {
            let seconds = now.duration_since(last).as_secs_f64();
            self.seconds_per_step = Some(
                self.seconds_per_step
                    .map_or(seconds, |s| (1.0 - NEWEST_WEIGHT) * s + NEWEST_WEIGHT * seconds),
            );
        }
        self.last_step_at = Some(now);
    }

    /// Steps per second, once two steps have been seen.
    pub fn steps_per_second(&self) -> Option<f64> {
        self.seconds_per_step.map(|s| 1.0 / s.max(1e-9))
    }

    /// Time left in the stage after `metrics`' step, at the current rate.
    pub fn time_left(&self, metrics: &StepMetrics) -> Option<Duration> {
        let steps_left = metrics.total_steps.saturating_sub(metrics.step) as f64;
        self.seconds_per_step.map(|s| Duration::from_secs_f64(s * steps_left))
    }

    /// "Distill step 640/12000 · 2.41 steps/s · ETA 1h18m" (rate and ETA once known).
    pub fn describe(&self, metrics: &StepMetrics) -> String {
        let mut line = format!("{:?} step {}/{}", metrics.stage, metrics.step, metrics.total_steps);
        if let (Some(rate), Some(left)) = (self.steps_per_second(), self.time_left(metrics)) {
            line.push_str(&format!(" · {rate:.2} steps/s · ETA {}", short_duration(left)));
        }
        line
    }
}

/// "tokenizing the corpus 312/2048 MB · 1.24M tokens/s · ETA 4m10s" (ETA while bytes remain).
pub fn describe_tokenizing(progress: &CacheProgress) -> String {
    let mut line = format!(
        "tokenizing the corpus {:.0}/{:.0} MB · {:.2}M tokens/s",
        progress.bytes_read as f64 / 1e6,
        progress.bytes_total as f64 / 1e6,
        progress.tokens_per_second() / 1e6
    );
    if let Some(left) = progress.seconds_left() {
        line.push_str(&format!(" · ETA {}", short_duration(Duration::from_secs_f64(left))));
    }
    line
}

/// "42s", "3m05s", "1h18m": two units at most, the way a progress line is read at a glance.
pub fn short_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64().round() as u64;
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(stage: Stage, step: usize, total_steps: usize) -> StepMetrics {
        StepMetrics {
            stage,
            step,
            total_steps,
            loss: 1.0,
            ce: 1.0,
            logits_kd: None,
            attention_kd: None,
            lr: 1e-3,
            grad_norm: 1.0,
            tokens_per_s: 100.0,
            padding_share: 0.0,
            quant_blend: 1.0,
        }
    }

    #[test]
    fn averages_seconds_per_step_and_restarts_with_each_stage() {
        let start = Instant::now();
        let at = |s: f64| start + Duration::from_secs_f64(s);
        let mut rate = StepRate::default();
        rate.observe_at(&step(Stage::Pretrain, 1, 100), at(0.0));
        assert_eq!(rate.steps_per_second(), None);
        assert_eq!(rate.describe(&step(Stage::Pretrain, 1, 100)), "Pretrain step 1/100");
        rate.observe_at(&step(Stage::Pretrain, 2, 100), at(2.0));
        rate.observe_at(&step(Stage::Pretrain, 3, 100), at(3.0));
        // 2 s, then 0.9 · 2 + 0.1 · 1 = 1.9 s per step; 97 steps left.
        assert!((rate.steps_per_second().unwrap() - 1.0 / 1.9).abs() < 1e-9);
        let left = rate.time_left(&step(Stage::Pretrain, 3, 100)).unwrap().as_secs_f64();
        assert!((left - 1.9 * 97.0).abs() < 1e-6, "{left}");
        assert_eq!(
            rate.describe(&step(Stage::Pretrain, 3, 100)),
            "Pretrain step 3/100 · 0.53 steps/s · ETA 3m04s"
        );
        rate.observe_at(&step(Stage::Distill, 1, 50), at(60.0));
        assert_eq!(rate.steps_per_second(), None, "the 57 s between stages is not a step");
        rate.observe_at(&step(Stage::Distill, 2, 50), at(61.0));
        rate.observe_at(&step(Stage::Distill, 1, 50), at(90.0));
        assert_eq!(
            rate.steps_per_second(),
            None,
            "nor the time between two runs of one stage"
        );
    }

    #[test]
    fn short_durations_keep_two_units() {
        let s = |secs: u64| short_duration(Duration::from_secs(secs));
        assert_eq!(
            [s(0), s(59), s(60), s(185), s(3599)],
            ["0s", "59s", "1m00s", "3m05s", "59m59s"]
        );
        assert_eq!([s(3600), s(4740), s(90_061)], ["1h00m", "1h19m", "25h01m"]);
    }

    #[test]
    fn the_tokenizing_line_gives_megabytes_rate_and_time_left() {
        let progress = CacheProgress {
            bytes_read: 312_000_000,
            bytes_total: 2_048_000_000,
            tokens: 62_000_000,
            documents: 1000,
            seconds: 50.0,
        };
        // 1736 MB left at 312 MB per 50 s: 278.2 s.
        assert_eq!(
            describe_tokenizing(&progress),
            "tokenizing the corpus 312/2048 MB · 1.24M tokens/s · ETA 4m38s"
        );
    }
}
