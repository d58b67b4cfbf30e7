//! Subcommands; each file holds one.

mod bench;
mod corpus;
mod distill;
mod generate;
mod inspect;
mod loaded;
mod logits;
mod score;
mod student;
mod tokenizer;
mod translate;

use clap::{Parser, Subcommand};

/// BitNet Distillation of HY-MT1.5 into a 1.58-bit translator.
#[derive(Parser)]
#[command(name = "bitdistill", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Architecture, parameter counts, dtype and bytes of a checkpoint (config alone is enough).
    Inspect(inspect::Args),
    /// Logits of token ids read from a safetensors file.
    Logits(logits::Args),
    /// Generate after a prompt (greedy unless --sample).
    Generate(generate::Args),
    /// Translate text with HY-MT's prompt templates.
    Translate(translate::Args),
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
    /// sacreBLEU-equal BLEU, chrF and chrF++ of a hypothesis file against references.
    Score(score::Args),
    /// Benchmarks; each prints ratios measured in one run.
    #[command(subcommand)]
    Bench(bench::Bench),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Inspect(args) => inspect::run(args),
            Command::Logits(args) => logits::run(args),
            Command::Generate(args) => generate::run(args),
            Command::Translate(args) => translate::run(args),
            Command::Student(student) => student.run(),
            Command::Distill(args) => distill::run_distill(args),
            Command::Score(args) => score::run(args),
            Command::Corpus(corpus) => corpus.run(),
            Command::Tokenizer(command) => command.run(),
            Command::Bench(bench) => bench.run(),
        }
    }
}
