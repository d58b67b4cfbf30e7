//! The training worker: `train::run` on its own thread, its events sent to the UI through a channel, and a
//! repaint requested for each so the UI thread never waits.

use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;

use crate::error::Result;
use crate::train::{RunConfig, RunControl, RunOutcome, TrainEvent, run};

pub struct TrainingWorker {
    pub control: RunControl,
    events: Receiver<TrainEvent>,
    handle: Option<JoinHandle<Result<RunOutcome>>>,
    outcome: Option<std::result::Result<RunOutcome, String>>,
}

impl TrainingWorker {
    /// Starts (or with `resume`, continues) the run; `wake` is called after every event (a repaint request).
    pub fn start(config: RunConfig, resume: bool, wake: impl Fn() + Send + 'static) -> Self {
        let control = RunControl::default();
        let (sender, events) = channel();
        let worker_control = control.clone();
        let handle = std::thread::Builder::new()
            .name("bitdistill-training".into())
            .spawn(move || {
                let result = run(&config, resume, &worker_control, &mut |event| {
                    let _ = sender.send(event);
                    wake();
                });
                if let Err(error) = &result {
                    let _ = sender.send(TrainEvent::Failed {
                        message: error.to_string(),
                    });
                }
                wake();
                result
            })
            .expect("spawning the training thread");
        Self {
            control,
            events,
            handle: Some(handle),
            outcome: None,
        }
    }

    /// Events that arrived since the last call.
    pub fn drain(&mut self) -> Vec<TrainEvent> {
        let events: Vec<TrainEvent> = self.events.try_iter().collect();
        if self.handle.as_ref().is_some_and(|h| h.is_finished()) {
            let handle = self.handle.take().expect("checked above");
            self.outcome = Some(match handle.join() {
                Ok(result) => result.map_err(|e| e.to_string()),
                Err(_) => Err("the training thread panicked".into()),
            });
        }
        events
    }

    pub fn is_running(&self) -> bool {
        self.handle.is_some()
    }

    /// How the run ended, once it has.
    pub fn outcome(&self) -> Option<&std::result::Result<RunOutcome, String>> {
        self.outcome.as_ref()
    }
}
