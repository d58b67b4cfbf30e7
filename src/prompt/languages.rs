//! The 38 languages HY-MT1.5 translates, with the names its prompts use (model card, "Supported languages").

/// One supported language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Language {
    /// The model card's code (`zh`, `en`, `zh-Hant`, ...).
    pub code: &'static str,
    /// Name used by the English template.
    pub english: &'static str,
    /// Name used by the Chinese templates.
    pub chinese: &'static str,
}

impl Language {
    /// Chinese sources or targets select the Chinese (ZH<=>XX) template.
    pub fn is_chinese(&self) -> bool {
        matches!(self.code, "zh" | "zh-Hant")
    }
}

macro_rules! languages {
    ($(($code:literal, $english:literal, $chinese:literal)),* $(,)?) => {
        /// Every supported language, in the model card's order.
        pub const LANGUAGES: &[Language] = &[$(Language { code: $code, english: $english, chinese: $chinese }),*];
    };
}

languages![
    ("zh", "Chinese", "中文"),
    ("en", "English", "英语"),
    ("fr", "French", "法语"),
    ("pt", "Portuguese", "葡萄牙语"),
    ("es", "Spanish", "西班牙语"),
    ("ja", "Japanese", "日语"),
    ("tr", "Turkish", "土耳其语"),
    ("ru", "Russian", "俄语"),
    ("ar", "Arabic", "阿拉伯语"),
    ("ko", "Korean", "韩语"),
    ("th", "Thai", "泰语"),
    ("it", "Italian", "意大利语"),
    ("de", "German", "德语"),
    ("vi", "Vietnamese", "越南语"),
    ("ms", "Malay", "马来语"),
    ("id", "Indonesian", "印尼语"),
    ("tl", "Filipino", "菲律宾语"),
    ("hi", "Hindi", "印地语"),
    ("zh-Hant", "Traditional Chinese", "繁体中文"),
    ("pl", "Polish", "波兰语"),
    ("cs", "Czech", "捷克语"),
    ("nl", "Dutch", "荷兰语"),
    ("km", "Khmer", "高棉语"),
    ("my", "Burmese", "缅甸语"),
    ("fa", "Persian", "波斯语"),
    ("gu", "Gujarati", "古吉拉特语"),
    ("ur", "Urdu", "乌尔都语"),
    ("te", "Telugu", "泰卢固语"),
    ("mr", "Marathi", "马拉地语"),
    ("he", "Hebrew", "希伯来语"),
    ("bn", "Bengali", "孟加拉语"),
    ("ta", "Tamil", "泰米尔语"),
    ("uk", "Ukrainian", "乌克兰语"),
    ("bo", "Tibetan", "藏语"),
    ("kk", "Kazakh", "哈萨克语"),
    ("mn", "Mongolian", "蒙古语"),
    ("ug", "Uyghur", "维吾尔语"),
    ("yue", "Cantonese", "粤语"),
];

/// Finds a language by code (case-insensitive) or by its English name.
pub fn language(name: &str) -> Option<&'static Language> {
    LANGUAGES
        .iter()
        .find(|l| l.code.eq_ignore_ascii_case(name) || l.english.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_eight_distinct_languages() {
        assert_eq!(LANGUAGES.len(), 38);
        let mut codes: Vec<_> = LANGUAGES.iter().map(|l| l.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 38);
        assert_eq!(language("ZH-hant").unwrap().chinese, "繁体中文");
        assert_eq!(language("portuguese").unwrap().code, "pt");
        assert!(language("xx").is_none());
    }
}
