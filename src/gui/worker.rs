//! The training worker: `train::run` in the background, its events sent to the UI through a channel, and a
//! repaint requested for each so the UI thread never waits.

use std::sync::mpsc::{Receiver, channel};

use poll_promise::Promise;

use super::background::{JobResult, background};
use crate::report::{METRICS_FILE, MetricsLog};
use crate::train::{RunConfig, RunControl, RunOutcome, TrainEvent, run};

type Outcome = JobResult<RunOutcome>;

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
            let outcome = MetricsLog::append(&config.out.join(METRICS_FILE)).and_then(|mut metrics| {
                run(&config, resume, &worker_control, &mut |event| {
                    metrics.record(&event);
                    let _ = sender.send(event);
                    wake();
                })
            });
            wake();
            outcome.map_err(|e| e.to_string())
        });
        Self {
            control,
            events,
            running: Some(running),
            outcome: None,
        }
    }

    /// Events that arrived since the last call; a run that ended in an error (or a panic) ends with `Failed`.
    pub fn drain(&mut self) -> Vec<TrainEvent> {
        let mut events: Vec<TrainEvent> = self.events.try_iter().collect();
        if let Some(promise) = self.running.take() {
            match promise.try_take() {
                Ok(outcome) => {
                    events.extend(self.events.try_iter());
                    if let Err(message) = &outcome {
                        events.push(TrainEvent::Failed {
                            message: message.clone(),
                        });
                    }
                    self.outcome = Some(outcome);
                }
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
