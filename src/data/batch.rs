//! A batch of token sequences with next-token targets and a loss mask.

use burn::tensor::{Device, Int, Tensor, TensorData};

/// `[B, T]` inputs, targets (the next token) and mask (1 where the target is trained on).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenBatch {
    pub batch: usize,
    pub len: usize,
    pub inputs: Vec<u32>,
    pub targets: Vec<u32>,
    pub mask: Vec<f32>,
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
        }
        batch
    }

    /// Number of positions the loss covers.
    pub fn trained_tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m > 0.0).count()
    }

    pub fn tensors(&self, device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>, Tensor<2>) {
        let ids = |values: &[u32]| {
            let values: Vec<i64> = values.iter().map(|&v| v as i64).collect();
            Tensor::from_data(TensorData::new(values, [self.batch, self.len]), device)
        };
        let mask = Tensor::from_data(TensorData::new(self.mask.clone(), [self.batch, self.len]), device);
        (ids(&self.inputs), ids(&self.targets), mask)
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
        assert_eq!(batch.trained_tokens(), 3);
    }
}
