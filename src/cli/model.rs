//! `bitdistill model init`: a randomly initialised HY-MT1.5-architecture checkpoint sized for a tokenizer, the
//! starting point of a `method = "full-precision"` run.

use std::path::PathBuf;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::{Checkpoint, SaveDtype, save_checkpoint};
use bitdistill::model::{HunYuan, HunYuanConfig, RandomWeights};
use bitdistill::tokenizer::{TOKENIZER_FILE, Tokenizer};

#[derive(clap::Subcommand)]
pub enum ModelCommand {
    /// Write config.json, random model.safetensors and the tokenizer into a new checkpoint directory.
    Init(InitArgs),
    /// Rewrite a checkpoint's weights in another dtype (e.g. bf16 for shipping).
    Convert(ConvertArgs),
}

#[derive(clap::Args)]
pub struct ConvertArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = Dtype::Bf16)]
    dtype: Dtype,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Dtype {
    Bf16,
    F32,
}

#[derive(clap::Args)]
pub struct InitArgs {
    /// The tokenizer.json the model will use (its size sets the vocabulary, its chat tokens the special ids).
    #[arg(long)]
    tokenizer: PathBuf,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 256)]
    hidden: usize,
    #[arg(long, default_value_t = 4)]
    layers: usize,
    #[arg(long, default_value_t = 4)]
    heads: usize,
    #[arg(long, default_value_t = 2)]
    kv_heads: usize,
    #[arg(long, default_value_t = 64)]
    head_dim: usize,
    #[arg(long, default_value_t = 768)]
    mlp: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Standard deviation of the initial weights.
    #[arg(long, default_value_t = 0.02)]
    std: f32,
}

impl ModelCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            ModelCommand::Init(args) => init(args),
            ModelCommand::Convert(args) => convert(args),
        }
    }
}

fn convert(args: ConvertArgs) -> anyhow::Result<()> {
    let device = BackendKind::Flex.device();
    let mut checkpoint = Checkpoint::open(&args.model)?;
    let model = checkpoint.load_model(&device)?;
    let dtype = match args.dtype {
        Dtype::Bf16 => SaveDtype::Bf16,
        Dtype::F32 => SaveDtype::F32,
    };
    save_checkpoint(&model, &checkpoint.config, &args.out, dtype, false, None)?;
    let tokenizer = args.model.join(TOKENIZER_FILE);
    if tokenizer.exists() {
        std::fs::copy(&tokenizer, args.out.join(TOKENIZER_FILE))?;
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

fn init(args: InitArgs) -> anyhow::Result<()> {
    let tokenizer = Tokenizer::from_file(&args.tokenizer)?;
    let vocab = tokenizer.inner().get_vocab_size(true);
    // HY-MT's RoPE (theta 10000, alpha 1000); the chat template's tokens as bos / eos / pad.
    let config = HunYuanConfig::new(
        vocab,
        args.hidden,
        args.mlp,
        args.layers,
        args.heads,
        args.kv_heads,
        args.head_dim,
    )
    .with_rope_alpha(1000.0)
    .with_max_position_embeddings(4096)
    .with_bos_token_id(tokenizer.chat.bos)
    .with_eos_token_ids(vec![tokenizer.chat.end_of_reply])
    .with_pad_token_id(tokenizer.chat.end_of_reply);
    let device = BackendKind::Flex.device();
    let model = HunYuan::from_source(&config, &mut RandomWeights::for_training(args.seed, args.std), &device)?;
    save_checkpoint(&model, &config, &args.out, SaveDtype::F32, false, None)?;
    std::fs::copy(&args.tokenizer, args.out.join(TOKENIZER_FILE))?;
    let params = config.param_breakdown().total();
    println!("wrote a random {params}-parameter model to {}", args.out.display());
    Ok(())
}
