//! HY-MT's chat template and translation prompts, with exact expected strings, and a round trip through a
//! tokenizer.json that the test trains with the `tokenizers` crate.

mod common;

use bitdistill::prompt::{PromptKind, language, render_chat, translation_prompt};
use bitdistill::tokenizer::{Tokenizer, train_byte_level_bpe};

fn lang(code: &str) -> &'static bitdistill::prompt::Language {
    language(code).unwrap()
}

#[test]
fn chat_template_with_and_without_system_prompt() {
    assert_eq!(
        render_chat(None, "Hi"),
        "<｜hy_begin▁of▁sentence｜><｜hy_User｜>Hi<｜hy_Assistant｜>"
    );
    assert_eq!(
        render_chat(Some("Be brief."), "Hi"),
        "<｜hy_begin▁of▁sentence｜>Be brief.<｜hy_place▁holder▁no▁3｜><｜hy_User｜>Hi<｜hy_Assistant｜>"
    );
}

#[test]
fn plain_prompts_pick_the_chinese_template_when_either_side_is_chinese() {
    assert_eq!(
        translation_prompt("Hello world", Some(lang("en")), lang("pt"), &PromptKind::Plain),
        "Translate the following segment into Portuguese, without additional explanation.\n\nHello world"
    );
    assert_eq!(
        translation_prompt("Hello world", Some(lang("en")), lang("zh"), &PromptKind::Plain),
        "将以下文本翻译为中文，注意只需要输出翻译后的结果，不要额外解释：\n\nHello world"
    );
    assert_eq!(
        translation_prompt("你好", Some(lang("zh")), lang("de"), &PromptKind::Plain),
        "将以下文本翻译为德语，注意只需要输出翻译后的结果，不要额外解释：\n\n你好"
    );
    // An unknown source with Han characters counts as Chinese; without, it does not.
    assert!(translation_prompt("你好", None, lang("en"), &PromptKind::Plain).starts_with("将以下文本翻译为英语"));
    assert!(
        translation_prompt("Hallo", None, lang("en"), &PromptKind::Plain)
            .starts_with("Translate the following segment into English")
    );
}

#[test]
fn terminology_context_and_formatted_prompts() {
    let terminology = PromptKind::Terminology {
        source_term: "burn".into(),
        target_term: "burn 框架".into(),
    };
    assert_eq!(
        translation_prompt("burn is fast", Some(lang("en")), lang("zh"), &terminology),
        "参考下面的翻译：\nburn 翻译成 burn 框架\n\n将以下文本翻译为中文，注意只需要输出翻译后的结果，不要额外解释：\nburn is fast"
    );
    let context = PromptKind::Context {
        context: "A story about a bank of a river.".into(),
    };
    assert_eq!(
        translation_prompt("The bank was steep.", Some(lang("en")), lang("fr"), &context),
        "A story about a bank of a river.\n参考上面的信息，把下面的文本翻译成法语，注意不需要翻译上文，也不要额外解释：\nThe bank was steep.\n"
    );
    assert_eq!(
        translation_prompt(
            "Click <sn>Save</sn>",
            Some(lang("en")),
            lang("zh"),
            &PromptKind::Formatted
        ),
        "将以下<source></source>之间的文本翻译为中文，注意只需要输出翻译后的结果，不要额外解释，原文中的<sn></sn>标签表示标签内文本包含格式信息，需要在译文中相应的位置尽量保留该标签。输出格式为：<target>str</target>\n\n<source>Click <sn>Save</sn></source>"
    );
}

#[test]
fn chat_ids_round_trip_through_a_trained_tokenizer() {
    let dir = common::temp_dir("tokenizer");
    let corpus = dir.join("corpus.txt");
    let text = "Translate the following segment into Portuguese.\nO rato roeu a roupa do rei de Roma.\n\
                The quick brown fox jumps over the lazy dog.\n将以下文本翻译为中文。\n";
    std::fs::write(&corpus, text.repeat(20)).unwrap();
    let trained = train_byte_level_bpe(&[corpus.as_path()], 400).unwrap();
    let path = dir.join("tokenizer.json");
    trained.save(&path, false).unwrap();

    let tokenizer = Tokenizer::from_file(&path).unwrap();
    // The trainer puts the chat tokens first, in template order.
    assert_eq!(
        [
            tokenizer.chat.bos,
            tokenizer.chat.end_of_system,
            tokenizer.chat.user,
            tokenizer.chat.assistant,
            tokenizer.chat.end_of_reply
        ],
        [0, 1, 2, 3, 4]
    );
    let prompt = "O rato roeu a roupa. 中文";
    let ids = tokenizer.encode_chat(Some("sys"), prompt).unwrap();
    let whole = tokenizer
        .inner()
        .encode(render_chat(Some("sys"), prompt), false)
        .unwrap();
    assert_eq!(ids, whole.get_ids());
    assert_eq!(ids[0], tokenizer.chat.bos);
    assert_eq!(*ids.last().unwrap(), tokenizer.chat.assistant);
    // Decoding skips the specials and gives the text back byte for byte.
    assert_eq!(tokenizer.decode(&ids).unwrap(), format!("sys{prompt}"));
    let plain = tokenizer.encode(prompt).unwrap();
    assert_eq!(tokenizer.decode(&plain).unwrap(), prompt);

    std::fs::write(&path, "{ not json").unwrap();
    let message = Tokenizer::from_file(&path).err().unwrap().to_string();
    assert!(message.starts_with(&path.display().to_string()), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_tokenizer_without_the_chat_tokens_is_refused_by_name() {
    let dir = common::temp_dir("tokenizer-plain");
    let mut plain = tokenizers::Tokenizer::new(tokenizers::models::bpe::BPE::default());
    plain.with_pre_tokenizer(Some(tokenizers::pre_tokenizers::byte_level::ByteLevel::default()));
    let path = dir.join("tokenizer.json");
    plain.save(&path, false).unwrap();
    let message = Tokenizer::from_file(&path).err().unwrap().to_string();
    assert_eq!(
        message,
        format!(
            "{}: missing special token `<｜hy_begin▁of▁sentence｜>` of HY-MT's chat template",
            path.display()
        )
    );
    std::fs::remove_dir_all(dir).unwrap();
}
