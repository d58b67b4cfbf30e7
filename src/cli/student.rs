//! `bitdistill student init`: Stage 1 as a command, writing a student directory.

use std::path::PathBuf;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::{ModelFiles, SaveDtype, save_checkpoint};
use bitdistill::distill::student_from_teacher;
use bitdistill::model::SublnPlacement;
use bitdistill::tokenizer::TOKENIZER_FILE;

#[derive(clap::Subcommand)]
pub enum Student {
    /// Make the Stage-1 student of a teacher: BitLinear everywhere, SubLN inserted with unit scales.
    Init(InitArgs),
}

#[derive(clap::Args)]
pub struct InitArgs {
    #[arg(long)]
    teacher: PathBuf,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = SublnPlacement::Paper)]
    subln: SublnPlacement,
}

impl Student {
    pub fn run(self) -> anyhow::Result<()> {
        let Student::Init(args) = self;
        let device = BackendKind::Flex.device();
        let provenance = serde_json::json!({"teacher": args.teacher, "stage": 1});
        let (config, model) = student_from_teacher(&ModelFiles::dir(&args.teacher), args.subln, provenance, &device)?;
        save_checkpoint(&model, &config, &args.out, SaveDtype::F32, false, None)?;
        let tokenizer = args.teacher.join(TOKENIZER_FILE);
        if tokenizer.exists() {
            std::fs::copy(&tokenizer, args.out.join(TOKENIZER_FILE))?;
        }
        println!(
            "wrote the Stage-1 student ({:?} SubLN) to {}",
            args.subln,
            args.out.display()
        );
        Ok(())
    }
}
