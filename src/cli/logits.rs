//! `bitdistill logits`: `input_ids` [batch, seq] int64 in, `logits` [batch, seq, vocab] f32 out.

use std::path::PathBuf;

use anyhow::Context;
use bitdistill::atomic::write_atomic;
use bitdistill::checkpoint::SafetensorsFile;
use bitdistill::generate::LoadedModel;
use burn::tensor::{Int, Tensor, TensorData};
use safetensors::tensor::{Dtype, TensorView};

use super::loaded::ModelArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// safetensors file holding `input_ids` ([batch, seq], int64).
    #[arg(long)]
    input_ids: PathBuf,
    /// Where to write `logits` ([batch, seq, vocab], f32).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = args.model.load()?;
    let input = SafetensorsFile::open(&args.input_ids)?;
    let (ids, shape) = input.read_i64("input_ids")?;
    anyhow::ensure!(
        shape.len() == 2,
        "{}: `input_ids` must be [batch, seq], found shape {shape:?}",
        args.input_ids.display()
    );
    let vocab = loaded.config.vocab_size as i64;
    if let Some(bad) = ids.iter().find(|&&id| id < 0 || id >= vocab) {
        anyhow::bail!(
            "{}: token id {bad} is outside the vocabulary (0..{vocab})",
            args.input_ids.display()
        );
    }
    let (batch, len) = (shape[0], shape[1]);
    let values = match &loaded.model {
        LoadedModel::Burn(model) => {
            let device = args.model.backend.device();
            let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, len]), &device);
            model
                .logits(ids)
                .into_data()
                .try_into_vec_as::<f32>()
                .context("reading logits")?
        }
        LoadedModel::Native(model) => ids
            .chunks_exact(len.max(1))
            .flat_map(|row| {
                let row: Vec<u32> = row.iter().map(|&id| id as u32).collect();
                model.forward(&row, &mut model.new_cache(), true)
            })
            .collect(),
    };
    let dims = vec![batch, len, loaded.config.vocab_size];
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = TensorView::new(Dtype::F32, dims, &bytes)?;
    let file = safetensors::serialize([("logits", view)], None)?;
    write_atomic(&args.out, &file)?;
    Ok(())
}
