//! The messages between the page and its worker, as JSON text: the page asks, the worker (which holds the
//! models) answers, each answer naming the job it belongs to.

use serde::{Deserialize, Serialize};

use crate::generate::TranslationRequest;
use crate::train::{ActivationErrors, RunConfig, TrainEvent};

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Translate with the model directory at URL `model` (fetched and kept the first time).
    Translate {
        job: u64,
        model: String,
        request: TranslationRequest,
    },
    /// Train the run file's stages on the CPU backend, fetching its teacher and data files by the paths it gives
    /// (URLs relative to the page); nothing is written.
    Train { job: u64, config: Box<RunConfig> },
    /// Measure the int8 error of `sentence`'s activations with the model directory at URL `model` (the Quantize
    /// panel's probe; the model is fetched and kept the first time).
    Probe { job: u64, model: String, sentence: String },
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker listens; what the page sent before this is sent again.
    Ready,
    /// The growing translation.
    Text {
        job: u64,
        text: String,
    },
    Done {
        job: u64,
        text: String,
        tokens: usize,
        /// Seconds spent generating (fetching and loading excluded).
        seconds: f64,
        engine: String,
    },
    Failed {
        job: u64,
        message: String,
    },
    /// One event of a training job.
    Train {
        job: u64,
        event: TrainEvent,
    },
    /// The training job ran all its stages.
    Trained {
        job: u64,
    },
    /// The probe's measurement.
    Probed {
        job: u64,
        result: ActivationErrors,
    },
}

impl FromWorker {
    pub fn job(&self) -> Option<u64> {
        match self {
            Self::Ready => None,
            Self::Text { job, .. }
            | Self::Done { job, .. }
            | Self::Failed { job, .. }
            | Self::Train { job, .. }
            | Self::Trained { job }
            | Self::Probed { job, .. } => Some(*job),
        }
    }

    /// Whether this is the job's last message.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Done { .. } | Self::Failed { .. } | Self::Trained { .. } | Self::Probed { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::GenerationConfig;
    use crate::prompt::PromptKind;

    #[test]
    fn messages_survive_their_json_text() {
        let ask = ToWorker::Translate {
            job: 3,
            model: "models/student".into(),
            request: TranslationRequest {
                source: "Open the file.".into(),
                from: Some("en".into()),
                to: "pt".into(),
                kind: PromptKind::Terminology {
                    source_term: "file".into(),
                    target_term: "arquivo".into(),
                },
                generation: GenerationConfig::default(),
            },
        };
        let text = serde_json::to_string(&ask).unwrap();
        assert_eq!(serde_json::from_str::<ToWorker>(&text).unwrap(), ask);
        let done = FromWorker::Done {
            job: 3,
            text: "Abra o arquivo.".into(),
            tokens: 6,
            seconds: 0.25,
            engine: "ternary CPU engine".into(),
        };
        let back: FromWorker = serde_json::from_str(&serde_json::to_string(&done).unwrap()).unwrap();
        assert_eq!(back, done);
        assert_eq!((back.job(), back.is_final()), (Some(3), true));
        let text = FromWorker::Text {
            job: 4,
            text: "Abra".into(),
        };
        assert_eq!((text.job(), text.is_final()), (Some(4), false));
        assert_eq!((FromWorker::Ready.job(), FromWorker::Ready.is_final()), (None, false));
        let event = FromWorker::Train {
            job: 5,
            event: TrainEvent::Notice {
                message: "the browser trains on the CPU".into(),
            },
        };
        let back: FromWorker = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!((back.job(), back.is_final()), (Some(5), false));
        assert_eq!(back, event);
        assert_eq!(
            (
                FromWorker::Trained { job: 5 }.job(),
                FromWorker::Trained { job: 5 }.is_final()
            ),
            (Some(5), true)
        );
        let config = RunConfig::from_text(
            std::path::Path::new("site/train.toml"),
            "teacher = \"models/teacher\"\nout = \"\"\n[stage2]\ntokens = 0\n[stage3]\npairs = \"data/pairs.jsonl\"\n",
        )
        .unwrap();
        let ask = ToWorker::Train {
            job: 6,
            config: Box::new(config),
        };
        assert_eq!(
            serde_json::from_str::<ToWorker>(&serde_json::to_string(&ask).unwrap()).unwrap(),
            ask
        );
        let ask = ToWorker::Probe {
            job: 7,
            model: "models/teacher".into(),
            sentence: "Save the file.".into(),
        };
        assert_eq!(
            serde_json::from_str::<ToWorker>(&serde_json::to_string(&ask).unwrap()).unwrap(),
            ask
        );
        let probed = FromWorker::Probed {
            job: 7,
            result: ActivationErrors {
                tokens: vec!["Save".into(), "Ġthe".into()],
                errors: vec![vec![0.0125, 0.5]],
            },
        };
        let back: FromWorker = serde_json::from_str(&serde_json::to_string(&probed).unwrap()).unwrap();
        assert_eq!((back.job(), back.is_final()), (Some(7), true));
        assert_eq!(back, probed);
    }
}
