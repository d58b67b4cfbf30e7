//! HY-MT1.5's translation prompts, word for word from the model card.

use super::languages::Language;

/// Which of the model card's prompts to use.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PromptKind {
    /// ZH<=>XX or XX<=>XX, chosen by the languages.
    Plain,
    /// Terminology intervention: translate `source_term` as `target_term`.
    Terminology { source_term: String, target_term: String },
    /// Contextual translation: `context` informs but is not translated.
    Context { context: String },
    /// Formatted translation keeping `<sn></sn>` tags, answering as `<target>...</target>`.
    Formatted,
}

/// The user prompt asking to translate `source_text` into `target`. `source` is the source language when
/// known; the Chinese template is used when either side is Chinese (an unknown source counts as Chinese when
/// the text contains Han characters).
pub fn translation_prompt(
    source_text: &str,
    source: Option<&Language>,
    target: &Language,
    kind: &PromptKind,
) -> String {
    let chinese_side = target.is_chinese() || source.map_or_else(|| contains_han(source_text), |l| l.is_chinese());
    let to = target.chinese;
    match kind {
        PromptKind::Plain if chinese_side => {
            format!("将以下文本翻译为{to}，注意只需要输出翻译后的结果，不要额外解释：\n\n{source_text}")
        }
        PromptKind::Plain => format!(
            "Translate the following segment into {}, without additional explanation.\n\n{source_text}",
            target.english
        ),
        PromptKind::Terminology {
            source_term,
            target_term,
        } => format!(
            "参考下面的翻译：\n{source_term} 翻译成 {target_term}\n\n将以下文本翻译为{to}，注意只需要输出翻译后的结果，不要额外解释：\n{source_text}"
        ),
        PromptKind::Context { context } => format!(
            "{context}\n参考上面的信息，把下面的文本翻译成{to}，注意不需要翻译上文，也不要额外解释：\n{source_text}\n"
        ),
        PromptKind::Formatted => format!(
            "将以下<source></source>之间的文本翻译为{to}，注意只需要输出翻译后的结果，不要额外解释，原文中的<sn></sn>标签表示标签内文本包含格式信息，需要在译文中相应的位置尽量保留该标签。输出格式为：<target>str</target>\n\n<source>{source_text}</source>"
        ),
    }
}

fn contains_han(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}'))
}
