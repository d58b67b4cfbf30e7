//! HY-MT1.5 prompts: the chat template, the translation templates and the supported languages.

mod chat;
mod languages;
mod templates;

pub use chat::{ASSISTANT, BOS, CHAT_SPECIAL_TOKENS, END_OF_REPLY, END_OF_SYSTEM, USER, render_chat};
pub use languages::{LANGUAGES, Language, language};
pub use templates::{PromptKind, translation_prompt};
