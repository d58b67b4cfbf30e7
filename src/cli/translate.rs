//! `bitdistill translate`: HY-MT's translation prompts, streamed to stdout token by token, or a file of sentences
//! translated in batches (`--batch`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use bitdistill::generate::{DEFAULT_BATCH_ROWS, Source};
use bitdistill::prompt::{LANGUAGES, Language, PromptKind, language};

use super::eval::TranslationProgress;
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
    /// Translate every line of this file (`-`: standard input) instead of TEXT, printing one translation per
    /// line in the same order (an empty line stays empty).
    #[arg(long, conflicts_with = "text")]
    batch: Option<PathBuf>,
    /// With `--batch`: sentences decoded together (1: one at a time); each translation is the same either way.
    #[arg(long, default_value_t = DEFAULT_BATCH_ROWS, requires = "batch")]
    batch_size: usize,
    /// The text to translate.
    #[arg(required_unless_present = "batch")]
    text: Option<String>,
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
    let translator = loaded.translator()?;
    if let Some(path) = &args.batch {
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).context("reading standard input")?
        } else {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        };
        let lines: Vec<&str> = text.lines().collect();
        let sentences: Vec<Source> = lines
            .iter()
            .filter(|line| !line.trim().is_empty())
            .map(|line| Source {
                text: line,
                from: source,
                to: target,
            })
            .collect();
        let progress = TranslationProgress::new(sentences.len());
        let mut done = 0;
        let mut translations = translator
            .translate_batch(&sentences, &kind, &generation, args.batch_size, |_, _| {
                done += 1;
                progress.show(done);
            })?
            .into_iter();
        progress.finish();
        let mut stdout = std::io::stdout().lock();
        for line in lines {
            let translation = match line.trim().is_empty() {
                true => String::new(),
                false => translations.next().map(|t| t.text).unwrap_or_default(),
            };
            writeln!(stdout, "{translation}")?;
        }
        return Ok(());
    }
    let text = args.text.as_deref().unwrap_or_default();
    let mut printed = 0;
    let mut stdout = std::io::stdout();
    translator.translate(text, source, target, &kind, &generation, |text| {
        if let Some(new) = text.get(printed..) {
            let _ = write!(stdout, "{new}");
            let _ = stdout.flush();
        }
        printed = text.len();
    })?;
    println!();
    Ok(())
}
