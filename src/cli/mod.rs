//! Subcommands; each file holds one.

mod ablate;
mod bench;
mod compare;
mod corpus;
mod demo;
mod distill;
mod doctor;
mod eval;
mod export;
mod generate;
mod gui;
mod inspect;
mod loaded;
mod logits;
mod loss;
mod model;
mod score;
mod student;
mod sweep;
mod tokenizer;
mod translate;

use clap::{Parser, Subcommand};

/// BitNet Distillation of HY-MT1.5 into a 1.58-bit translator.
#[derive(Parser)]
#[command(name = "bitdistill", version, about)]
pub struct Cli {
    /// Without a command, the desktop app opens on the embedded demo.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The embedded demo: distil the bundled tiny translator and compare teacher and student.
    Demo(demo::Args),
    /// The desktop app (BitDistill Studio).
    Gui(gui::Args),
    /// The paper's ablation on the demo's data: BitNet-SFT, + SubLN, + Stage 2, + LD, + AD, SubLN `all`.
    Ablate(ablate::Args),
    /// Tune Stage 3: a grid of settings (γ, λ, τ, layer, r), one shared Stage 2, scored on dev pairs.
    Sweep(sweep::Args),
    /// Architecture, parameter counts, dtype and bytes of a checkpoint (config alone is enough).
    Inspect(inspect::Args),
    /// Logits of token ids read from a safetensors file.
    Logits(logits::Args),
    /// The three unweighted Stage-3 loss terms (CE, logits KD, attention-relation KD) of a batch file.
    Loss(loss::Args),
    /// Generate after a prompt (greedy unless --sample).
    Generate(generate::Args),
    /// Translate text with HY-MT's prompt templates.
    Translate(translate::Args),
    /// Model directories: `model init` (random weights to train with `method = "full-precision"`), `model convert`.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Students: `student init` makes the Stage-1 student of a teacher.
    #[command(subcommand)]
    Student(student::Student),
    /// Run a distillation described by a TOML run file.
    Distill(distill::Args),
    /// Import, clean and split translation pairs; corpus statistics.
    #[command(subcommand)]
    Corpus(corpus::Corpus),
    /// Train a byte-level BPE tokenizer with HY-MT's special tokens.
    #[command(subcommand)]
    Tokenizer(tokenizer::TokenizerCommand),
    /// Write a student as a packed 1.58-bit model (hf-bitnet, packed2 or packed1.6) or a GGUF file for llama.cpp.
    Export(export::Args),
    /// Translate a test set and report BLEU, chrF, chrF++, placeholder preservation, speed and size.
    Eval(eval::Args),
    /// sacreBLEU-equal BLEU, chrF and chrF++ of a hypothesis file against references.
    Score(score::Args),
    /// This machine's devices, CPU, memory and versions; with --config, whether that run fits.
    Doctor(doctor::Args),
    /// A student against its teacher on a corpus: perplexity, next-token KL and agreement, per-layer drift.
    Compare(compare::Args),
    /// Benchmarks; each prints ratios measured in one run.
    #[command(subcommand)]
    Bench(bench::Bench),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        let Some(command) = self.command else {
            return gui::run(gui::Args::default());
        };
        match command {
            Command::Demo(args) => demo::run(args),
            Command::Gui(args) => gui::run(args),
            Command::Ablate(args) => ablate::run(args),
            Command::Sweep(args) => sweep::run(args),
            Command::Inspect(args) => inspect::run(args),
            Command::Logits(args) => logits::run(args),
            Command::Loss(args) => loss::run(args),
            Command::Generate(args) => generate::run(args),
            Command::Translate(args) => translate::run(args),
            Command::Model(command) => command.run(),
            Command::Student(student) => student.run(),
            Command::Distill(args) => distill::run_distill(args),
            Command::Eval(args) => eval::run(args),
            Command::Export(args) => export::run(args),
            Command::Score(args) => score::run(args),
            Command::Compare(args) => compare::run(args),
            Command::Doctor(args) => doctor::run(args),
            Command::Corpus(corpus) => corpus.run(),
            Command::Tokenizer(command) => command.run(),
            Command::Bench(bench) => bench.run(),
        }
    }
}
