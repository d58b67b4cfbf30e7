//! `bitdistill translate`: HY-MT's translation prompts, streamed to stdout token by token.

use std::io::Write;

use anyhow::Context;
use bitdistill::prompt::{LANGUAGES, Language, PromptKind, language};

use super::generate::DecodingArgs;
use super::loaded::ModelArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Target language: a code (`pt`, `zh-Hant`) or an English name.
    #[arg(long)]
    to: String,
    /// Source language; when absent, Han characters in the text select the Chinese template.
    #[arg(long)]
    from: Option<String>,
    /// Terminology hint `SOURCE=TARGET` (terminology template).
    #[arg(long, conflicts_with_all = ["context", "formatted"])]
    term: Option<String>,
    /// Context that informs the translation but is not translated (context template).
    #[arg(long, conflicts_with = "formatted")]
    context: Option<String>,
    /// Keep `<sn></sn>` format tags (formatted template).
    #[arg(long)]
    formatted: bool,
    #[command(flatten)]
    decoding: DecodingArgs,
    /// The text to translate.
    text: String,
}

fn find_language(name: &str) -> anyhow::Result<&'static Language> {
    language(name).with_context(|| {
        let codes: Vec<_> = LANGUAGES.iter().map(|l| l.code).collect();
        format!("unknown language `{name}`; supported: {}", codes.join(", "))
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let target = find_language(&args.to)?;
    let source = args.from.as_deref().map(find_language).transpose()?;
    let kind = match (&args.term, &args.context, args.formatted) {
        (Some(term), _, _) => {
            let (source_term, target_term) = term.split_once('=').context("--term must be SOURCE=TARGET")?;
            PromptKind::Terminology {
                source_term: source_term.to_string(),
                target_term: target_term.to_string(),
            }
        }
        (None, Some(context), _) => PromptKind::Context {
            context: context.clone(),
        },
        (None, None, true) => PromptKind::Formatted,
        (None, None, false) => PromptKind::Plain,
    };
    let loaded = args.model.load()?;
    let generation = args.decoding.config(Vec::new());
    let mut printed = 0;
    let mut stdout = std::io::stdout();
    loaded
        .translator()?
        .translate(&args.text, source, target, &kind, &generation, |text| {
            if let Some(new) = text.get(printed..) {
                let _ = write!(stdout, "{new}");
                let _ = stdout.flush();
            }
            printed = text.len();
        })?;
    println!();
    Ok(())
}
