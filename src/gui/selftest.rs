//! The page's self-test hook for automated checks: opened with
//! `?selftest=translate&from=en&to=pt&text=<url-encoded>`, the app translates the text greedily in its Translate
//! panel with the teacher and the student, exactly as a user pressing Translate, and reports one JSON object
//! (`{"teacher": ..., "student": ..., "student_engine": ...}`; the page logs it, see `web.rs`). With
//! `?selftest=train` it runs the Train panel's run file for two Stage-3 steps, as a user pressing Start, and
//! reports the steps' losses (`{"losses": [...], ...}`).

use serde_json::{Value, json};

use super::app::Panel;
use super::train_panel::TrainPanel;
use super::translate_panel::{Template, TranslatePanel};

/// What the query asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelfTest {
    Translate { from: String, to: String, text: String },
    Train,
}

/// Optimizer steps of the train self-test.
pub const SELFTEST_TRAIN_STEPS: usize = 2;

impl SelfTest {
    /// Reads `?selftest=...` from a URL's query string (with or without the `?`); `Ok(None)` without one.
    pub fn from_query(query: &str) -> Result<Option<Self>, String> {
        let pairs: Vec<(String, String)> = query
            .trim_start_matches('?')
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                Ok((percent_decode(key)?, percent_decode(value)?))
            })
            .collect::<Result<_, String>>()?;
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        match get("selftest").as_deref() {
            None => Ok(None),
            Some("translate") => Ok(Some(Self::Translate {
                from: get("from").unwrap_or_else(|| "en".into()),
                to: get("to").ok_or("selftest=translate needs to=<language code>")?,
                text: get("text").ok_or("selftest=translate needs text=<url-encoded text>")?,
            })),
            Some("train") => Ok(Some(Self::Train)),
            Some(other) => Err(format!("unknown selftest `{other}` (known: translate, train)")),
        }
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte, the bytes UTF-8.
fn percent_decode(text: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = rest
                    .get(..2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad percent escape in `{text}`"))?;
                bytes.push(hex);
                rest = &rest[2..];
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("`{text}` does not decode to UTF-8"))
}

/// A self-test under way: on its first frame it opens the panel and presses the button (once the run file is
/// there), and it reports once the panel's job has finished.
pub struct SelfTestRun {
    test: SelfTest,
    started: bool,
    report: Option<Box<dyn FnOnce(Value)>>,
}

impl SelfTestRun {
    pub fn new(test: SelfTest, report: impl FnOnce(Value) + 'static) -> Self {
        Self {
            test,
            started: false,
            report: Some(Box::new(report)),
        }
    }

    pub fn is_done(&self) -> bool {
        self.report.is_none()
    }

    /// One frame of the self-test.
    pub fn advance(
        &mut self,
        ctx: &egui::Context,
        panel: &mut Panel,
        translate: &mut TranslatePanel,
        train: &mut TrainPanel,
    ) {
        if !self.started {
            self.started = match &self.test {
                SelfTest::Translate { from, to, text } => {
                    *panel = Panel::Translate;
                    translate.source = text.clone();
                    translate.from = from.clone();
                    translate.to = to.clone();
                    translate.template = Template::Plain;
                    translate.translate(ctx);
                    true
                }
                SelfTest::Train => {
                    *panel = Panel::Train;
                    self.start_training(ctx, train)
                }
            };
            return;
        }
        let busy = match self.test {
            SelfTest::Translate { .. } => translate.is_running(),
            SelfTest::Train => train.is_running(),
        };
        if busy {
            return;
        }
        if let Some(report) = self.report.take() {
            report(match self.test {
                SelfTest::Translate { .. } => translate_report(translate),
                SelfTest::Train => train_report(train),
            });
        }
    }

    /// Starts the run file's Stage 3 (with its losses: CE, and for BitDistill λ·LD + γ·AD) for [`SELFTEST_TRAIN_STEPS`] steps (no Stage 2), with a snapshot at the
    /// end; true once started. A run file that failed to load is reported at once.
    fn start_training(&mut self, ctx: &egui::Context, train: &mut TrainPanel) -> bool {
        if train.is_loading() {
            return false;
        }
        let Some(config) = &mut train.config else {
            let message = train.message.clone().unwrap_or_else(|| "no run file".into());
            if let Some(report) = self.report.take() {
                report(json!({ "losses": [], "errors": [message] }));
            }
            return true;
        };
        config.stage2.tokens = 0;
        config.stage3.steps = SELFTEST_TRAIN_STEPS;
        config.snapshot.every = SELFTEST_TRAIN_STEPS;
        train.start(false, ctx);
        true
    }
}

/// What a finished train self-test reports: each step's total loss and its terms, whether the snapshot came
/// with attention maps, and any failure.
fn train_report(train: &TrainPanel) -> Value {
    let steps = &train.history.steps;
    let snapshot = train.history.latest_snapshot.as_deref();
    let mut errors: Vec<String> = train.history.failed.iter().cloned().collect();
    if steps.len() != SELFTEST_TRAIN_STEPS && errors.is_empty() {
        errors.push(format!("{} steps ran, not {SELFTEST_TRAIN_STEPS}", steps.len()));
    }
    json!({
        "losses": steps.iter().map(|m| m.loss).collect::<Vec<_>>(),
        "ce": steps.iter().map(|m| m.ce).collect::<Vec<_>>(),
        "logits_kd": steps.iter().map(|m| m.logits_kd).collect::<Vec<_>>(),
        "attention_kd": steps.iter().map(|m| m.attention_kd).collect::<Vec<_>>(),
        "tokens_per_second": steps.iter().map(|m| m.tokens_per_s).collect::<Vec<_>>(),
        "attention_maps": snapshot.map_or(0, |s| s.heads),
        "errors": errors,
    })
}

/// What a finished translate self-test reports.
fn translate_report(translate: &TranslatePanel) -> Value {
    let side = |side: &super::translate_panel::Side| {
        (
            side.text.clone(),
            side.engine.clone(),
            side.tokens
                .map(|(tokens, rate)| json!({"tokens": tokens, "tokens_per_second": rate})),
            side.error.clone(),
        )
    };
    let (teacher, teacher_engine, teacher_rate, teacher_error) = side(&translate.teacher);
    let (student, student_engine, student_rate, student_error) = side(&translate.student);
    let errors: Vec<String> = [teacher_error, student_error].into_iter().flatten().collect();
    json!({
        "teacher": teacher,
        "student": student,
        "teacher_engine": teacher_engine,
        "student_engine": student_engine,
        "teacher_rate": teacher_rate,
        "student_rate": student_rate,
        "errors": errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_the_test_and_its_text() {
        assert_eq!(SelfTest::from_query("").unwrap(), None);
        assert_eq!(SelfTest::from_query("?lang=pt").unwrap(), None);
        assert_eq!(SelfTest::from_query("?selftest=train").unwrap(), Some(SelfTest::Train));
        assert_eq!(
            SelfTest::from_query("?selftest=translate&from=en&to=zh&text=Open+the+file%2E%20Now%21").unwrap(),
            Some(SelfTest::Translate {
                from: "en".into(),
                to: "zh".into(),
                text: "Open the file. Now!".into()
            })
        );
        // UTF-8 bytes escaped one by one: "ã" is C3 A3.
        assert_eq!(
            SelfTest::from_query("selftest=translate&to=en&from=pt&text=Ol%C3%A3").unwrap(),
            Some(SelfTest::Translate {
                from: "pt".into(),
                to: "en".into(),
                text: "Olã".into()
            })
        );
        assert!(
            SelfTest::from_query("?selftest=translate&text=x")
                .unwrap_err()
                .contains("to=")
        );
        assert!(
            SelfTest::from_query("?selftest=dance")
                .unwrap_err()
                .contains("unknown selftest `dance` (known: translate, train)")
        );
        assert!(
            SelfTest::from_query("?selftest=translate&to=pt&text=%G1")
                .unwrap_err()
                .contains("percent")
        );
        assert!(
            SelfTest::from_query("?selftest=translate&to=pt&text=%FF")
                .unwrap_err()
                .contains("UTF-8")
        );
    }
}
