//! `bitdistill bench eval`: evaluation one sentence at a time vs batched, on the same sentences and engine, in
//! one process: seconds, generated tokens/s, the ratio, and whether every hypothesis is the same.

use std::path::PathBuf;
use std::time::Instant;

use bitdistill::backend::BackendKind;
use bitdistill::data::read_pairs;
use bitdistill::demo::{DEMO_TEST_FILE, assets_dir};
use bitdistill::eval::{EvalReport, evaluate};
use bitdistill::generate::{Engine, GenerationConfig, Loaded};

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Model directory; default: the bundled teacher.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Test pairs; default: the bundled test set.
    #[arg(long)]
    test: Option<PathBuf>,
    #[arg(long, default_value_t = 100)]
    sentences: usize,
    /// Batch sizes compared with one at a time.
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    batch_sizes: Vec<usize>,
    /// Engines to run (the burn one on `--backend`); a packed export runs on the CPU engine only.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "burn,native")]
    engines: Vec<Engine>,
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    #[arg(long, default_value_t = 128)]
    max_new_tokens: usize,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Case {
    engine: &'static str,
    batch_size: usize,
    seconds: f64,
    generated_tokens: usize,
    tokens_per_s: f64,
    /// Seconds one at a time over seconds of this case.
    speedup: f64,
    /// Every hypothesis equals the one-at-a-time one.
    identical: bool,
}

pub fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let model = args.model.clone().unwrap_or_else(|| assets_dir().join("tiny-hymt"));
    let test = args.test.clone().unwrap_or_else(|| assets_dir().join(DEMO_TEST_FILE));
    let mut pairs = read_pairs(&test, ("en", "pt"))?;
    pairs.truncate(args.sentences);
    let generation = GenerationConfig {
        max_new_tokens: args.max_new_tokens,
        ..GenerationConfig::default()
    };
    let mut cases = Vec::new();
    for &engine in &args.engines {
        let loaded = match Loaded::open(&model, None, engine, args.backend) {
            Ok(loaded) => loaded,
            Err(error) => {
                eprintln!("skipping engine {engine:?}: {error}");
                continue;
            }
        };
        let translator = loaded.translator()?;
        let run = |rows: usize| -> anyhow::Result<(EvalReport, f64)> {
            let started = Instant::now();
            let report = evaluate(&translator, &pairs, &generation, rows, |_, _| {})?;
            Ok((report, started.elapsed().as_secs_f64()))
        };
        eprintln!(
            "{}: warming up, then {} sentences one at a time ...",
            loaded.engine,
            pairs.len()
        );
        evaluate(&translator, &pairs[..pairs.len().min(4)], &generation, 1, |_, _| {})?;
        let (single, single_seconds) = run(1)?;
        let case = |batch_size: usize, report: &EvalReport, seconds: f64| Case {
            engine: loaded.engine,
            batch_size,
            seconds,
            generated_tokens: report.generated_tokens,
            tokens_per_s: report.generated_tokens as f64 / seconds.max(1e-9),
            speedup: single_seconds / seconds.max(1e-9),
            identical: report.hypotheses == single.hypotheses,
        };
        cases.push(case(1, &single, single_seconds));
        for &rows in args.batch_sizes.iter().filter(|&&rows| rows > 1) {
            eprintln!("{}: batches of {rows} ...", loaded.engine);
            let (report, seconds) = run(rows)?;
            cases.push(case(rows, &report, seconds));
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cases)?);
        return Ok(());
    }
    println!(
        "{} sentences of {}, model {}",
        pairs.len(),
        test.display(),
        model.display()
    );
    println!(
        "{:<22} {:>6} {:>9} {:>8} {:>10} {:>8}  identical",
        "engine", "batch", "seconds", "tokens", "tokens/s", "speedup"
    );
    for case in &cases {
        println!(
            "{:<22} {:>6} {:>9.2} {:>8} {:>10.1} {:>7.2}×  {}",
            case.engine,
            case.batch_size,
            case.seconds,
            case.generated_tokens,
            case.tokens_per_s,
            case.speedup,
            if case.identical { "yes" } else { "NO" }
        );
    }
    Ok(())
}
