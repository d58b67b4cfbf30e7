//! The training worker: `train::run` in the background, its events sent to the UI through a channel, and a
//! repaint requested for each so the UI thread never waits. Natively the run is a thread of the app, steered by
//! [`RunControl`]; in the browser it is a Web Worker of its own (`crate::web::train`) that fetches the run's
//! files, writes nothing, and can only be stopped (by ending the worker), not paused.

use std::sync::mpsc::{Receiver, channel};

use poll_promise::Promise;

use super::background::JobResult;
use crate::train::{RunConfig, RunControl, RunOutcome, TrainEvent};

type Outcome = JobResult<RunOutcome>;

pub struct TrainingWorker {
    pub control: RunControl,
    events: Receiver<TrainEvent>,
    running: Option<Promise<Outcome>>,
    outcome: Option<Outcome>,
    #[cfg(target_arch = "wasm32")]
    web: web_run::WebRun,
}

impl TrainingWorker {
    /// Whether a run can pause, take single steps and resume from its checkpoints (not in the browser).
    pub const STEERABLE: bool = cfg!(not(target_arch = "wasm32"));

    /// Starts (or with `resume`, continues) the run; `wake` is called after every event (a repaint request).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn start(config: RunConfig, resume: bool, wake: impl Fn() + Send + 'static) -> Self {
        use super::background::background;
        use crate::report::{METRICS_FILE, MetricsLog};
        use crate::train::run;

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

    /// Starts the run in a worker of the page (`resume` has nothing to continue from there).
    #[cfg(target_arch = "wasm32")]
    pub fn start(config: RunConfig, _resume: bool, wake: impl Fn() + 'static) -> Self {
        let (sender, events) = channel();
        let (running, web) = web_run::WebRun::start(config, sender, wake);
        Self {
            control: RunControl::default(),
            events,
            running: Some(running),
            outcome: None,
            web,
        }
    }

    /// Stops the run: natively after a checkpoint, so it can be resumed; in the browser at once.
    pub fn stop(&self) {
        self.control.stop();
        #[cfg(target_arch = "wasm32")]
        self.web.stop();
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

/// The browser's side of a run in its worker.
#[cfg(target_arch = "wasm32")]
mod web_run {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::mpsc::Sender;

    use poll_promise::Promise;

    use super::Outcome;
    use crate::train::{RunConfig, RunOutcome, TrainEvent};
    use crate::web::protocol::FromWorker;
    use crate::web::{WorkerClient, train};

    type Done = Rc<RefCell<Option<poll_promise::Sender<Outcome>>>>;

    pub struct WebRun {
        client: Option<WorkerClient>,
        done: Done,
    }

    impl WebRun {
        pub fn start(
            config: RunConfig,
            events: Sender<TrainEvent>,
            wake: impl Fn() + 'static,
        ) -> (Promise<Outcome>, Self) {
            let (sender, promise) = Promise::new();
            let done: Done = Rc::new(RefCell::new(Some(sender)));
            let finish = done.clone();
            let client = train(config, move |answer| {
                let outcome = match answer {
                    FromWorker::Train { event, .. } => {
                        let _ = events.send(event);
                        None
                    }
                    FromWorker::Trained { .. } => Some(Ok(RunOutcome::FinishedUnwritten)),
                    FromWorker::Failed { message, .. } => Some(Err(message)),
                    other => Some(Err(format!("the training worker answered {other:?}"))),
                };
                if let Some(outcome) = outcome
                    && let Some(sender) = finish.borrow_mut().take()
                {
                    sender.send(outcome);
                }
                wake();
            });
            let client = match client {
                Ok(client) => Some(client),
                Err(message) => {
                    if let Some(sender) = done.borrow_mut().take() {
                        sender.send(Err(message));
                    }
                    None
                }
            };
            (promise, Self { client, done })
        }

        pub fn stop(&self) {
            if let Some(client) = &self.client {
                client.terminate();
            }
            if let Some(sender) = self.done.borrow_mut().take() {
                sender.send(Ok(RunOutcome::Stopped));
            }
        }
    }
}
