//! Rotary position embedding, NeoX split-half form, with HunYuan's NTK alpha base.
//!
//! `base = rope_theta * alpha^(d / (d - 2))`, `θ_i = base^(-2i/d)`, and for a head vector `x = [x1 | x2]`:
//! `rope(x, p) = x * cos(p θ) + [-x2 | x1] * sin(p θ)`, with the angles repeated over both halves.

use burn::tensor::{Device, Tensor, TensorData};

/// cos and sin tables, each `[B, T, head_dim]`: B = 1 for a run of positions every row shares, or one table
/// row per sequence when a batch's rows sit at different positions.
#[derive(Clone, Debug)]
pub struct RopeTables {
    pub cos: Tensor<3>,
    pub sin: Tensor<3>,
}

/// Tables for the consecutive positions `start..start + len`, shared by every row.
pub fn rope_tables(head_dim: usize, base: f64, start: usize, len: usize, device: &Device) -> RopeTables {
    let positions: Vec<usize> = (start..start + len).collect();
    rope_tables_at(head_dim, base, &positions, 1, device)
}

/// Tables for `positions` (`rows × T` of them, row-major). Computed in f64 and rounded once to f32, as the
/// reference does in float64.
pub fn rope_tables_at(head_dim: usize, base: f64, positions: &[usize], rows: usize, device: &Device) -> RopeTables {
    let half = head_dim / 2;
    let mut cos = Vec::with_capacity(positions.len() * head_dim);
    let mut sin = Vec::with_capacity(positions.len() * head_dim);
    for &position in positions {
        let angles: Vec<f64> = (0..half)
            .map(|i| position as f64 / base.powf(2.0 * i as f64 / head_dim as f64))
            .collect();
        for _ in 0..2 {
            cos.extend(angles.iter().map(|a| a.cos() as f32));
            sin.extend(angles.iter().map(|a| a.sin() as f32));
        }
    }
    let shape = [rows, positions.len() / rows, head_dim];
    let table = |values| Tensor::from_data(TensorData::new(values, shape), device);
    RopeTables {
        cos: table(cos),
        sin: table(sin),
    }
}

/// Rotates `x: [B, H, T, head_dim]` by the tables' positions.
pub fn apply_rope(x: Tensor<4>, tables: &RopeTables) -> Tensor<4> {
    let [_, _, _, head_dim] = x.dims();
    let half = head_dim / 2;
    let x1 = x.clone().narrow(3, 0, half);
    let x2 = x.clone().narrow(3, half, half);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    let cos = tables.cos.clone().unsqueeze_dim::<4>(1);
    let sin = tables.sin.clone().unsqueeze_dim::<4>(1);
    x * cos + rotated * sin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_matches_hand_computed_angles() {
        let device = crate::backend::BackendKind::Flex.device();
        // head_dim 4, base 100: θ = [1, 1/10]; at position 2 the angles are [2, 0.2].
        let tables = rope_tables(4, 100.0, 2, 1, &device);
        let x = Tensor::<4>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 1, 4]), &device);
        let y = apply_rope(x, &tables).into_data().try_to_vec_as::<f32>().unwrap();
        let (c0, s0, c1, s1) = (2f64.cos(), 2f64.sin(), 0.2f64.cos(), 0.2f64.sin());
        let expected = [
            1.0 * c0 - 3.0 * s0,
            2.0 * c1 - 4.0 * s1,
            3.0 * c0 + 1.0 * s0,
            4.0 * c1 + 2.0 * s1,
        ];
        for (got, want) in y.iter().zip(expected) {
            assert!((*got as f64 - want).abs() < 1e-6, "{y:?} vs {expected:?}");
        }
    }
}
