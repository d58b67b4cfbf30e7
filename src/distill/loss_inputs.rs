//! The batch file of `bitdistill loss`: a safetensors file with
//! - `input_ids` `[B, T]`, I64 or I32, every id inside the vocabulary;
//! - `attention_mask` `[B, T]` (optional; all ones when absent): 1 = a real token, 0 = right padding;
//! - `labels_mask` `[B, T]`: 1 where token t is a cross-entropy target, predicted from position t − 1.
//!
//! Masks may be integer, boolean or float tensors holding 0 and 1. Every problem is an error naming the file and tensor.

use std::path::Path;

use burn::tensor::Device;
use safetensors::Dtype;

use crate::checkpoint::SafetensorsFile;
use crate::data::BatchTensors;
use crate::error::{Error, Result};

/// Reads and checks a batch file for a model with `vocab` tokens; the model runs on all T positions, and
/// `targets[t] = input_ids[t + 1]` where `labels_mask[t + 1]` is 1.
pub fn read_loss_inputs(path: &Path, vocab: usize, device: &Device) -> Result<BatchTensors> {
    let file = SafetensorsFile::open(path)?;
    let invalid = |name: &str, message: String| Error::config(path, format!("tensor `{name}`: {message}"));
    let (ids, shape) = file.read_i64("input_ids")?;
    let [batch, len] = match shape[..] {
        [b, t] if b > 0 && t > 0 => [b, t],
        _ => {
            return Err(invalid(
                "input_ids",
                format!("must be [batch, seq] and not empty, found {shape:?}"),
            ));
        }
    };
    if let Some(bad) = ids.iter().find(|&&id| id < 0 || id as u64 >= vocab as u64) {
        return Err(invalid(
            "input_ids",
            format!("token id {bad} is outside the vocabulary (0..{vocab})"),
        ));
    }
    let attention = match file.contains("attention_mask") {
        true => read_mask(&file, "attention_mask", &shape)?,
        false => vec![true; batch * len],
    };
    let labels = read_mask(&file, "labels_mask", &shape)?;
    for (b, row) in attention.chunks(len).enumerate() {
        if let Some(t) = (1..len).find(|&t| row[t] && !row[t - 1]) {
            return Err(invalid(
                "attention_mask",
                format!("row {b} has a real token at position {t} after padding: only right padding is supported"),
            ));
        }
    }
    for (index, &label) in labels.iter().enumerate() {
        let (b, t) = (index / len, index % len);
        if label && t == 0 {
            return Err(invalid(
                "labels_mask",
                format!("row {b} marks position 0, which no position predicts"),
            ));
        }
        if label && !attention[index] {
            return Err(invalid(
                "labels_mask",
                format!("row {b} marks position {t}, which is padding"),
            ));
        }
    }

    let shifted = |b: usize, t: usize| (t + 1 < len).then(|| b * len + t + 1);
    let mut targets = Vec::with_capacity(batch * len);
    let mut target_mask = Vec::with_capacity(batch * len);
    for b in 0..batch {
        for t in 0..len {
            let next = shifted(b, t);
            targets.push(next.map_or(0, |i| ids[i]));
            target_mask.push(next.is_some_and(|i| labels[i]) as u8 as f32);
        }
    }
    Ok(BatchTensors::new(
        [batch, len],
        ids,
        targets,
        target_mask,
        attention.iter().map(|&a| a as u8 as f32).collect(),
        device,
    ))
}

/// A 0/1 mask of exactly `shape`, stored as integers or floats.
fn read_mask(file: &SafetensorsFile, name: &str, shape: &[usize]) -> Result<Vec<bool>> {
    let Some((found, dtype)) = file.describe(name) else {
        return Err(Error::MissingTensor {
            path: file.path().to_path_buf(),
            name: name.into(),
        });
    };
    if found != shape {
        return Err(Error::ShapeMismatch {
            path: file.path().to_path_buf(),
            name: name.into(),
            expected: shape.to_vec(),
            found,
        });
    }
    let values: Vec<f64> = match dtype.as_str() {
        "I64" | "I32" => file.read_i64(name)?.0.into_iter().map(|v| v as f64).collect(),
        "U8" => file
            .read_raw(name, Dtype::U8, shape)?
            .iter()
            .map(|&v| v as f64)
            .collect(),
        "BOOL" => file
            .read_raw(name, Dtype::BOOL, shape)?
            .iter()
            .map(|&v| v as f64)
            .collect(),
        _ => file
            .read_f32(name, None)
            .map_err(|_| Error::UnsupportedDtype {
                path: file.path().to_path_buf(),
                name: name.into(),
                dtype: format!("{dtype} (expected I64, I32, U8, BOOL or a float type)"),
            })?
            .try_into_vec_as::<f32>()
            .expect("f32 data")
            .into_iter()
            .map(f64::from)
            .collect(),
    };
    match values.iter().position(|&v| v != 0.0 && v != 1.0) {
        Some(i) => Err(Error::config(
            file.path(),
            format!(
                "tensor `{name}`: holds {} at index {i}; a mask holds only 0 and 1",
                values[i]
            ),
        )),
        None => Ok(values.into_iter().map(|v| v == 1.0).collect()),
    }
}
