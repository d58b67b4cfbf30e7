//! One sequence through a model with every layer's states kept, on burn or on the CPU engine, as plain rows.

use burn::tensor::{Int, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::generate::LoadedModel;
use crate::infer::TracedLayer;
use crate::model::{HunYuan, Probes};

/// The logits `[T, vocab]` of every position of one sequence and each layer's states ([`TracedLayer`]).
#[derive(Clone, Debug)]
pub struct SequenceTrace {
    pub tokens: usize,
    pub vocab: usize,
    pub logits: Vec<f32>,
    pub layers: Vec<TracedLayer>,
}

impl SequenceTrace {
    /// The logits of position `t`.
    pub fn logits_at(&self, t: usize) -> &[f32] {
        &self.logits[t * self.vocab..(t + 1) * self.vocab]
    }
}

/// Runs `ids` (one sequence, no cache) through `model`.
pub fn trace(model: &LoadedModel, ids: &[u32]) -> Result<SequenceTrace> {
    let (logits, layers) = match model {
        LoadedModel::Native(native) => native.trace(ids),
        LoadedModel::Burn(model) => trace_burn(model, ids)?,
    };
    Ok(SequenceTrace {
        tokens: ids.len(),
        vocab: logits.len() / ids.len().max(1),
        logits,
        layers,
    })
}

fn trace_burn(model: &HunYuan, ids: &[u32]) -> Result<(Vec<f32>, Vec<TracedLayer>)> {
    let device = model.embed_tokens.val().device();
    let values: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
    let input = Tensor::<2, Int>::from_data(TensorData::new(values, [1, ids.len()]), &device);
    let probes = Probes {
        hidden_states: true,
        every_layer: true,
        ..Probes::default()
    };
    let out = model.forward(input, None, &probes);
    // hidden_states: the embeddings, then each layer's output (the last after the final norm).
    let layers = out
        .hidden_states
        .into_iter()
        .skip(1)
        .zip(out.layers)
        .map(|(hidden, layer)| {
            Ok(TracedLayer {
                hidden: rows(hidden)?,
                attention_output: rows(layer.attention_output)?,
                q: rows(layer.qkv.q)?,
                k: rows(layer.qkv.k)?,
                v: rows(layer.qkv.v)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((rows(out.logits)?, layers))
}

/// The values of a `[1, T, width]` tensor, row by row.
fn rows(tensor: Tensor<3>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| Error::Invalid(format!("the compute device failed: {e:?}")))
}
