//! A batch of token sequences with next-token targets, a loss mask and an attention (padding) mask.

use std::ops::Range;

use burn::tensor::{Device, Int, Tensor, TensorData};

/// `[B, T]` inputs, targets (the next token), mask (1 where the target is trained on) and attention mask
/// (1 at every real input position, 0 at padding).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenBatch {
    pub batch: usize,
    pub len: usize,
    pub inputs: Vec<u32>,
    pub targets: Vec<u32>,
    pub mask: Vec<f32>,
    pub attention_mask: Vec<f32>,
}

/// A batch on a device: `inputs` and `targets` `[B, T]` ids, `target_mask` `[B, T]` (1 where predicting
/// `targets[t]` from position t is trained on) and `attention_mask` `[B, T]` (1 at real positions); the trained
/// positions also as flat indices `b·T + t` with their targets, `[N]` each.
#[derive(Clone, Debug)]
pub struct BatchTensors {
    pub inputs: Tensor<2, Int>,
    pub targets: Tensor<2, Int>,
    pub target_mask: Tensor<2>,
    pub attention_mask: Tensor<2>,
    pub trained_positions: Tensor<1, Int>,
    pub trained_targets: Tensor<1, Int>,
}

/// One example: a token sequence and, per position, whether predicting the NEXT token is trained on.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub tokens: Vec<u32>,
    /// `trained[i]` says whether the loss covers predicting `tokens[i + 1]`; length `tokens.len() - 1`.
    pub trained: Vec<bool>,
}

impl TokenBatch {
    /// Right-pads the examples with `pad` to the longest one; padded positions are masked out.
    pub fn from_examples(examples: &[&Example], pad: u32) -> Self {
        let len = examples.iter().map(|e| e.tokens.len() - 1).max().unwrap_or(0);
        let mut batch = Self {
            batch: examples.len(),
            len,
            inputs: Vec::with_capacity(examples.len() * len),
            targets: Vec::with_capacity(examples.len() * len),
            mask: Vec::with_capacity(examples.len() * len),
            attention_mask: Vec::with_capacity(examples.len() * len),
        };
        for example in examples {
            let n = example.tokens.len() - 1;
            batch.inputs.extend(&example.tokens[..n]);
            batch.targets.extend(&example.tokens[1..]);
            batch
                .mask
                .extend(example.trained.iter().map(|&t| if t { 1.0 } else { 0.0 }));
            batch.inputs.extend(std::iter::repeat_n(pad, len - n));
            batch.targets.extend(std::iter::repeat_n(pad, len - n));
            batch.mask.extend(std::iter::repeat_n(0.0, len - n));
            batch
                .attention_mask
                .extend((0..len).map(|i| if i < n { 1.0 } else { 0.0 }));
        }
        batch
    }

    /// Number of positions the loss covers.
    pub fn trained_tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m > 0.0).count()
    }

    /// Number of real (non-padding) input positions.
    pub fn real_tokens(&self) -> usize {
        self.attention_mask.iter().filter(|&&m| m > 0.0).count()
    }

    /// The rows `rows` as a batch of their own, cut to their longest sequence: padding is on the right and the
    /// model is causal, so the cut changes no real position's result.
    pub fn rows(&self, rows: Range<usize>) -> Self {
        let row = |r: usize| r * self.len..(r + 1) * self.len;
        let len = rows
            .clone()
            .map(|r| self.attention_mask[row(r)].iter().filter(|&&m| m > 0.0).count())
            .max()
            .unwrap_or(0);
        let pick = |values: &[u32]| rows.clone().flat_map(|r| values[row(r)][..len].to_vec()).collect();
        let pick_f32 = |values: &[f32]| rows.clone().flat_map(|r| values[row(r)][..len].to_vec()).collect();
        Self {
            batch: rows.len(),
            len,
            inputs: pick(&self.inputs),
            targets: pick(&self.targets),
            mask: pick_f32(&self.mask),
            attention_mask: pick_f32(&self.attention_mask),
        }
    }

    pub fn tensors(&self, device: &Device) -> BatchTensors {
        let ids = |values: &[u32]| values.iter().map(|&v| v as i64).collect();
        BatchTensors::new(
            [self.batch, self.len],
            ids(&self.inputs),
            ids(&self.targets),
            self.mask.clone(),
            self.attention_mask.clone(),
            device,
        )
    }
}

impl BatchTensors {
    /// The tensors of `[B, T]` row-major host values.
    pub fn new(
        shape: [usize; 2],
        inputs: Vec<i64>,
        targets: Vec<i64>,
        target_mask: Vec<f32>,
        attention_mask: Vec<f32>,
        device: &Device,
    ) -> Self {
        let trained: Vec<usize> = (0..target_mask.len()).filter(|&i| target_mask[i] > 0.0).collect();
        let flat = |values: Vec<i64>| {
            let n = values.len();
            Tensor::from_data(TensorData::new(values, [n]), device)
        };
        Self {
            trained_positions: flat(trained.iter().map(|&i| i as i64).collect()),
            trained_targets: flat(trained.iter().map(|&i| targets[i]).collect()),
            inputs: Tensor::from_data(TensorData::new(inputs, shape), device),
            targets: Tensor::from_data(TensorData::new(targets, shape), device),
            target_mask: Tensor::from_data(TensorData::new(target_mask, shape), device),
            attention_mask: Tensor::from_data(TensorData::new(attention_mask, shape), device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_right_and_masks_padding() {
        let a = Example {
            tokens: vec![1, 2, 3, 4],
            trained: vec![false, true, true],
        };
        let b = Example {
            tokens: vec![5, 6],
            trained: vec![true],
        };
        let batch = TokenBatch::from_examples(&[&a, &b], 0);
        assert_eq!((batch.batch, batch.len), (2, 3));
        assert_eq!(batch.inputs, vec![1, 2, 3, 5, 0, 0]);
        assert_eq!(batch.targets, vec![2, 3, 4, 6, 0, 0]);
        assert_eq!(batch.mask, vec![0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(batch.attention_mask, vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!((batch.trained_tokens(), batch.real_tokens()), (3, 4));
    }

    #[test]
    fn rows_are_cut_to_their_own_longest_sequence() {
        let example = |tokens: Vec<u32>| Example {
            trained: vec![true; tokens.len() - 1],
            tokens,
        };
        let (a, b, c) = (
            example(vec![1, 2, 3, 4, 5]),
            example(vec![6, 7]),
            example(vec![8, 9, 10]),
        );
        let batch = TokenBatch::from_examples(&[&a, &b, &c], 0);
        let tail = batch.rows(1..3);
        assert_eq!((tail.batch, tail.len), (2, 2));
        assert_eq!(tail.inputs, vec![6, 0, 8, 9]);
        assert_eq!(tail.targets, vec![7, 0, 9, 10]);
        assert_eq!(tail.mask, vec![1.0, 0.0, 1.0, 1.0]);
        assert_eq!(tail.attention_mask, vec![1.0, 0.0, 1.0, 1.0]);
        assert_eq!(batch.rows(0..3), batch);
        assert_eq!(batch.rows(0..1).inputs, vec![1, 2, 3, 4]);
    }
}
