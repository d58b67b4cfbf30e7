//! `bitdistill corpus`: import translation pairs (gettext `.po`/`.mo`, TSV, JSONL, Parquet), clean and split
//! them; stats; tokenize a Stage-2 corpus into its token cache.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bitdistill::data::gettext::{catalog_pairs, read_mo, read_po};
use bitdistill::data::{FilterConfig, Split, clean_pairs, read_pairs, split_of};
use bitdistill::eval::placeholders;
use bitdistill::train::{RunConfig, describe_tokenizing, stage2_cache};
use web_time::Instant;

#[derive(clap::Subcommand)]
pub enum Corpus {
    /// Import pairs into OUT/{train,dev,test}.jsonl.
    Import(ImportArgs),
    /// Counts, lengths and placeholder share of a pairs file (.jsonl, .tsv or OPUS-100 .parquet).
    Stats(StatsArgs),
    /// Tokenize a Stage-2 corpus into the token cache that `distill` trains from (reused while corpus and
    /// tokenizer are unchanged).
    Cache(CacheArgs),
}

#[derive(clap::Args)]
pub struct CacheArgs {
    /// Build the cache this run file's Stage 2 uses (its teacher, corpus, text field and cache folder).
    #[arg(long, conflicts_with_all = ["teacher", "out", "files"])]
    config: Option<PathBuf>,
    /// The teacher whose tokenizer and end-of-sequence id the cache is made with.
    #[arg(long, required_unless_present = "config")]
    teacher: Option<PathBuf>,
    /// The cache folder.
    #[arg(long, required_unless_present = "config")]
    out: Option<PathBuf>,
    /// The JSON field of .jsonl lines and the Parquet column holding the text.
    #[arg(long, default_value = bitdistill::data::DEFAULT_TEXT_FIELD)]
    text_field: String,
    /// Corpus files or globs (quote globs): .txt, .jsonl, either with .gz or .zst, .parquet.
    files: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// .po, .mo, .tsv (source<TAB>target) or .jsonl ({"source", "target"}) files. Keyboard accelerators of
    /// catalogs are stripped ("_Open" → "Open", "打开(_O)" → "打开").
    files: Vec<PathBuf>,
    /// Also read every catalog of this locale in the locale directory (e.g. pt_BR, zh_CN).
    #[arg(long)]
    locale: Option<String>,
    #[arg(long, default_value = "/usr/share/locale")]
    locale_dir: PathBuf,
    /// Language codes written into the pairs (HY-MT's codes: en, pt, zh, ...).
    #[arg(long, default_value = "en")]
    source_lang: String,
    #[arg(long)]
    target_lang: String,
    #[arg(long)]
    out: PathBuf,
    /// Shares of the dev and test splits.
    #[arg(long, default_value_t = 0.02)]
    dev: f64,
    #[arg(long, default_value_t = 0.02)]
    test: f64,
    #[arg(long, default_value_t = 200)]
    max_chars: usize,
    /// Keep `#, fuzzy` messages (unconfirmed translations; dropped by default).
    #[arg(long)]
    keep_fuzzy: bool,
}

#[derive(clap::Args)]
pub struct StatsArgs {
    file: PathBuf,
    #[arg(long)]
    json: bool,
}

impl Corpus {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Corpus::Import(args) => import(args),
            Corpus::Stats(args) => stats(args),
            Corpus::Cache(args) => cache(args),
        }
    }
}

fn catalogs_of(locale_dir: &Path, locale: &str) -> anyhow::Result<Vec<PathBuf>> {
    let dir = locale_dir.join(locale).join("LC_MESSAGES");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mo"))
        .collect();
    files.sort();
    Ok(files)
}

fn read_file_pairs(path: &Path, args: &ImportArgs) -> anyhow::Result<Vec<(String, String)>> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let messages = match extension {
        "po" => read_po(path)?,
        "mo" => read_mo(path)?,
        "tsv" | "jsonl" | "parquet" => {
            let pairs = read_pairs(path, (&args.source_lang, &args.target_lang))?;
            return Ok(pairs.into_iter().map(|p| (p.source, p.target)).collect());
        }
        other => anyhow::bail!(
            "{}: unknown kind of file `.{other}` (expected .po, .mo, .tsv, .jsonl or .parquet)",
            path.display()
        ),
    };
    Ok(catalog_pairs(&messages, args.keep_fuzzy))
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    let mut files = args.files.clone();
    if let Some(locale) = &args.locale {
        files.extend(catalogs_of(&args.locale_dir, locale)?);
    }
    anyhow::ensure!(!files.is_empty(), "no input: give files or --locale");
    let mut pairs = Vec::new();
    for file in &files {
        pairs.extend(read_file_pairs(file, &args)?);
    }
    let read = pairs.len();
    let (kept, counts) = clean_pairs(
        pairs,
        &FilterConfig {
            max_chars: args.max_chars,
            ..FilterConfig::default()
        },
    );
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut outputs = BTreeMap::new();
    for (split, name) in [(Split::Train, "train"), (Split::Dev, "dev"), (Split::Test, "test")] {
        let path = args.out.join(format!("{name}.jsonl"));
        let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        outputs.insert(name, (split, std::io::BufWriter::new(file), 0usize));
    }
    for (source, target) in kept {
        let split = split_of(&source, args.dev, args.test);
        let (_, writer, count) = outputs
            .values_mut()
            .find(|(s, _, _)| *s == split)
            .expect("every split has a file");
        let line = serde_json::json!({"source": source, "target": target,
            "source_lang": args.source_lang, "target_lang": args.target_lang});
        writeln!(writer, "{line}")?;
        *count += 1;
    }
    let sizes: BTreeMap<&str, usize> = outputs.iter().map(|(name, (_, _, count))| (*name, *count)).collect();
    let report = serde_json::json!({"files": files.len(), "pairs_read": read, "filter": counts, "splits": sizes});
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn stats(args: StatsArgs) -> anyhow::Result<()> {
    let pairs = read_pairs(&args.file, ("en", "pt"))?;
    let n = pairs.len() as f64;
    let mean = |f: &dyn Fn(&bitdistill::data::Pair) -> usize| pairs.iter().map(f).sum::<usize>() as f64 / n;
    let with_placeholders = pairs.iter().filter(|p| !placeholders(&p.source).is_empty()).count();
    let mut languages: BTreeMap<String, usize> = BTreeMap::new();
    for pair in &pairs {
        *languages
            .entry(format!("{}-{}", pair.source_lang.code, pair.target_lang.code))
            .or_default() += 1;
    }
    let report = serde_json::json!({
        "pairs": pairs.len(),
        "mean_source_chars": mean(&|p| p.source.chars().count()),
        "mean_target_chars": mean(&|p| p.target.chars().count()),
        "with_placeholders": with_placeholders,
        "languages": languages,
    });
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

fn cache(args: CacheArgs) -> anyhow::Result<()> {
    let (teacher, files, text_field, dir) = match &args.config {
        Some(path) => {
            let run = RunConfig::from_file(path)?;
            let dir = run.stage2.cache_dir(&run.out);
            (run.teacher, run.stage2.corpus, run.stage2.text_field, dir)
        }
        None => (
            args.teacher.expect("clap: required without --config"),
            args.files,
            args.text_field,
            args.out.expect("clap: required without --config"),
        ),
    };
    anyhow::ensure!(
        !files.is_empty(),
        "no corpus: give files (or a run file with `stage2.corpus`)"
    );
    let started = Instant::now();
    let mut stderr = std::io::stderr();
    let (cache, built) = stage2_cache(&teacher, &files, &text_field, &dir, &mut |progress| {
        let _ = write!(stderr, "\r{}   ", describe_tokenizing(progress));
    })?;
    let _ = writeln!(stderr);
    let seconds = started.elapsed().as_secs_f64();
    let index = cache.index();
    let report = serde_json::json!({
        "cache": dir, "built": built, "files": index.key.files.len(), "documents": index.documents,
        "tokens": index.tokens, "shards": index.shards.len(), "seconds": seconds,
        "tokens_per_s": if built { index.tokens as f64 / seconds.max(1e-9) } else { 0.0 },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
