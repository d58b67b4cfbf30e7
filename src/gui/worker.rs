//! The training worker: `train::run` in the background, its events sent to the UI through a channel, and a
//! repaint requested for each so the UI thread never waits.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, channel};

use poll_promise::Promise;

use super::background::background;
use crate::report::{METRICS_FILE, MetricsLog};
use crate::train::{RunConfig, RunControl, RunOutcome, TrainEvent, run};

type Outcome = Result<RunOutcome, String>;

pub struct TrainingWorker {
    pub control: RunControl,
    events: Receiver<TrainEvent>,
    running: Option<Promise<Outcome>>,
    outcome: Option<Outcome>,
}

impl TrainingWorker {
    /// Starts (or with `resume`, continues) the run; `wake` is called after every event (a repaint request).
    pub fn start(config: RunConfig, resume: bool, wake: impl Fn() + Send + 'static) -> Self {
        let control = RunControl::default();
        let (sender, events) = channel();
        let worker_control = control.clone();
        let running = background("bitdistill-training", move || {
            // The same `metrics.jsonl` as `bitdistill distill` writes, so the Report panel can compare runs.
            let train = || {
                MetricsLog::append(&config.out.join(METRICS_FILE)).and_then(|mut metrics| {
                    run(&config, resume, &worker_control, &mut |event| {
                        metrics.record(&event);
                        let _ = sender.send(event);
                        wake();
                    })
                })
            };
            let outcome = match std::panic::catch_unwind(AssertUnwindSafe(train)) {
                Ok(result) => result.map_err(|e| e.to_string()),
                Err(_) => Err("the training thread panicked".to_string()),
            };
            if let Err(message) = &outcome {
                let _ = sender.send(TrainEvent::Failed {
                    message: message.clone(),
                });
            }
            wake();
            outcome
        });
        Self {
            control,
            events,
            running: Some(running),
            outcome: None,
        }
    }

    /// Events that arrived since the last call.
    pub fn drain(&mut self) -> Vec<TrainEvent> {
        let events: Vec<TrainEvent> = self.events.try_iter().collect();
        if let Some(promise) = self.running.take() {
            match promise.try_take() {
                Ok(outcome) => self.outcome = Some(outcome),
                Err(promise) => self.running = Some(promise),
            }
        }
        events
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// How the run ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }
}
