//! One projection of the CPU engine: f32 for a teacher, packed ternary (with SubLN, int8 activations) for an
//! exported student.

use super::dense::DenseMatrix;
use super::norm::rms_norm_rows;
use crate::ternary::{Int8Activations, PackedTernary};

#[derive(Clone, Debug)]
pub enum NativeLinear {
    Dense(DenseMatrix),
    Ternary {
        weight: PackedTernary,
        /// SubLN on the input (BitDistill §3.1), when the student has one here.
        subln: Option<Vec<f32>>,
        eps: f32,
    },
}

impl NativeLinear {
    /// `x: [tokens, in]` → `[tokens, out]`.
    pub fn forward(&self, x: &[f32], tokens: usize) -> Vec<f32> {
        match self {
            Self::Dense(matrix) => matrix.forward(x, tokens),
            Self::Ternary { weight, subln, eps } => {
                let normed;
                let x = match subln {
                    Some(gamma) => {
                        normed = rms_norm_rows(x, gamma, *eps);
                        &normed
                    }
                    None => x,
                };
                weight.forward(&Int8Activations::quantize(x, tokens, weight.cols))
            }
        }
    }

    /// Bytes of the weight as held in memory: codes and Δ for a ternary projection (its SubLN is a norm).
    pub fn bytes(&self) -> usize {
        match self {
            Self::Dense(matrix) => matrix.bytes(),
            Self::Ternary { weight, .. } => weight.packed().len() + 4,
        }
    }

    /// Bytes of the SubLN scale, if any.
    pub fn subln_bytes(&self) -> usize {
        match self {
            Self::Ternary { subln: Some(gamma), .. } => 4 * gamma.len(),
            _ => 0,
        }
    }
}
