//! The page's self-test hook for automated checks: opened with
//! `?selftest=translate&from=en&to=pt&text=<url-encoded>`, the app translates the text greedily in its Translate
//! panel with the teacher and the student, exactly as a user pressing Translate, and reports one JSON object
//! (`{"teacher": ..., "student": ..., "student_engine": ...}`; the page logs it, see `web.rs`).

use serde_json::{Value, json};

use super::app::Panel;
use super::translate_panel::{Template, TranslatePanel};

/// What the query asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelfTest {
    Translate { from: String, to: String, text: String },
}

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
            Some(other) => Err(format!("unknown selftest `{other}` (known: translate)")),
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

/// A self-test under way: it fills the Translate panel on the first frame, presses Translate, and reports once
/// both columns have finished.
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
    pub fn advance(&mut self, ctx: &egui::Context, panel: &mut Panel, translate: &mut TranslatePanel) {
        let SelfTest::Translate { from, to, text } = &self.test;
        if !self.started {
            *panel = Panel::Translate;
            translate.source = text.clone();
            translate.from = from.clone();
            translate.to = to.clone();
            translate.template = Template::Plain;
            translate.translate(ctx);
            self.started = true;
            return;
        }
        if translate.is_running() {
            return;
        }
        if let Some(report) = self.report.take() {
            report(translate_report(translate));
        }
    }
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
                .contains("unknown selftest `dance`")
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
