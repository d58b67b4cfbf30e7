//! HY-MT's chat template: `<bos>[{system}<end-of-system>]<User>{prompt}<Assistant>`; a reply ends with
//! `<end-of-reply>`. The token ids are read from the tokenizer, never hard-coded.

/// Beginning of sequence.
pub const BOS: &str = "<｜hy_begin▁of▁sentence｜>";
/// Closes the system prompt.
pub const END_OF_SYSTEM: &str = "<｜hy_place▁holder▁no▁3｜>";
/// Opens the user turn.
pub const USER: &str = "<｜hy_User｜>";
/// Opens the assistant turn.
pub const ASSISTANT: &str = "<｜hy_Assistant｜>";
/// Ends the assistant's reply.
pub const END_OF_REPLY: &str = "<｜hy_place▁holder▁no▁2｜>";

/// The special tokens the template needs, in the order above.
pub const CHAT_SPECIAL_TOKENS: [&str; 5] = [BOS, END_OF_SYSTEM, USER, ASSISTANT, END_OF_REPLY];

/// The one-turn chat prompt as text, ready for the model to answer.
pub fn render_chat(system: Option<&str>, prompt: &str) -> String {
    let system = system.map(|s| format!("{s}{END_OF_SYSTEM}")).unwrap_or_default();
    format!("{BOS}{system}{USER}{prompt}{ASSISTANT}")
}
