//! `bitdistill compare`: a student against its teacher on a corpus, without generating text.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use bitdistill::backend::BackendKind;
use bitdistill::compare::{CompareReport, CorpusSequences, compare, default_relation_heads};
use bitdistill::generate::{Engine, Loaded};
use bitdistill::train::short_duration;

use super::loaded::TeacherStudentArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    models: TeacherStudentArgs,
    /// Text (one document per line) or JSONL (`text`, or `source`/`target` pairs formatted as Stage 3 trains).
    #[arg(long)]
    text: PathBuf,
    /// Stop after this many tokens.
    #[arg(long)]
    max_tokens: Option<usize>,
    /// Languages of JSONL pairs that do not name theirs.
    #[arg(long, default_value = "en")]
    source_lang: String,
    #[arg(long, default_value = "pt")]
    target_lang: String,
    /// Cut each sequence to this many tokens.
    #[arg(long, default_value_t = 256)]
    max_len: usize,
    /// Relation heads r of the Q/K/V relation KLs (default: the largest r ≤ 32 that divides both widths).
    #[arg(long)]
    relation_heads: Option<usize>,
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    /// Which implementation runs each model (packed exports always run on the CPU engine).
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    engine: Engine,
    /// Also draw the per-layer curves into this .png or .svg file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let open = |dir: &PathBuf| {
        Loaded::open(dir, None, args.engine, args.backend).with_context(|| format!("opening {}", dir.display()))
    };
    let (teacher, student) = (open(&args.models.teacher)?, open(&args.models.student)?);
    let tokenizer = teacher.tokenizer()?;
    let mut sequences = CorpusSequences::open(
        &args.text,
        tokenizer,
        args.max_len,
        (&args.source_lang, &args.target_lang),
    )?;
    let total_bytes = sequences.total_bytes.max(1);
    let heads = args
        .relation_heads
        .unwrap_or_else(|| default_relation_heads(&teacher.config));
    let started = Instant::now();
    let read = std::cell::Cell::new(0u64);
    let corpus = std::iter::from_fn(|| {
        let next = sequences.next();
        read.set(sequences.read_bytes);
        next
    });
    let mut stderr = std::io::stderr();
    let mut shown = 0.0;
    let report = compare(&teacher, &student, corpus, heads, args.max_tokens, &mut |p| {
        let seconds = started.elapsed().as_secs_f64();
        if seconds - shown < 0.5 {
            return;
        }
        shown = seconds;
        let rate = p.tokens as f64 / seconds.max(1e-9);
        // Done share: of the token budget when there is one, else of the file's bytes.
        let done = match args.max_tokens {
            Some(max) => p.tokens as f64 / max as f64,
            None => read.get() as f64 / total_bytes as f64,
        }
        .clamp(1e-9, 1.0);
        let eta = short_duration(Duration::from_secs_f64(seconds * (1.0 - done) / done));
        let _ = write!(
            stderr,
            "\rcompared {} sequences, {} tokens  {:.0}%  {rate:.0} tokens/s  ETA {eta}   ",
            p.sequences,
            p.tokens,
            100.0 * done
        );
    })?;
    let _ = writeln!(
        stderr,
        "\rcompared {} sequences in {:.1} s",
        report.sequences,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.plot {
        bitdistill::report::draw_layer_drift(&report, path)?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

fn print_report(r: &CompareReport) {
    println!("{} sequences, {} predicted positions", r.sequences, r.positions);
    println!(
        "perplexity: teacher {:.3}, student {:.3}",
        r.teacher_perplexity, r.student_perplexity
    );
    println!(
        "next token: KL(teacher ‖ student) {:.4} nats, top-1 agreement {:.1}%, teacher's top-1 in student's top-5 {:.1}%",
        r.kl,
        100.0 * r.top1_agreement,
        100.0 * r.top5_agreement
    );
    println!(
        "{:>5}  {:>10} {:>10}  {:>10} {:>10}  {:>10} {:>10} {:>10}",
        "layer", "hidden cos", "hidden L2", "attn cos", "attn L2", "rel KL q", "rel KL k", "rel KL v"
    );
    for l in &r.layers {
        println!(
            "{:>5}  {:>10.6} {:>10.4}  {:>10.6} {:>10.4}  {:>10.3e} {:>10.3e} {:>10.3e}",
            l.layer,
            l.hidden_cosine,
            l.hidden_relative_l2,
            l.attention_cosine,
            l.attention_relative_l2,
            l.relation_kl_q,
            l.relation_kl_k,
            l.relation_kl_v
        );
    }
    println!(
        "(L2 = ‖student − teacher‖ / ‖teacher‖; relation KLs as Stage 3's term with r = {})",
        r.relation_heads
    );
}
