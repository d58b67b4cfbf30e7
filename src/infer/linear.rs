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
            Self::Ternary { .. } => {
                let [y] = Self::forward_group([self], x, tokens);
                y
            }
        }
    }

    /// One input through several projections (q, k, v; gate, up): ternary ones in one parallel region of the
    /// kernel, with the input quantized once for all those without SubLN.
    pub fn forward_group<const N: usize>(linears: [&Self; N], x: &[f32], tokens: usize) -> [Vec<f32>; N] {
        let ternary = linears.map(|linear| match linear {
            Self::Ternary { weight, subln, eps } => Some((weight, subln.as_deref(), *eps)),
            Self::Dense(_) => None,
        });
        if ternary.iter().any(Option::is_none) {
            return linears.map(|linear| linear.forward(x, tokens));
        }
        let ternary = ternary.map(|t| t.expect("all ternary (checked above)"));
        let cols = ternary[0].0.cols;
        let plain = ternary
            .iter()
            .any(|(_, subln, _)| subln.is_none())
            .then(|| Int8Activations::quantize(x, tokens, cols));
        let normed = ternary.map(|(weight, subln, eps)| {
            subln.map(|gamma| Int8Activations::quantize(&rms_norm_rows(x, gamma, eps), tokens, weight.cols))
        });
        let products: Vec<(&PackedTernary, &Int8Activations)> = ternary
            .iter()
            .zip(&normed)
            .map(|((weight, ..), own)| (*weight, own.as_ref().or(plain.as_ref()).expect("plain or normed")))
            .collect();
        PackedTernary::forward_group(&products)
            .try_into()
            .unwrap_or_else(|_| unreachable!("one output per projection"))
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
