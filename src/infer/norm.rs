//! RMSNorm over rows, as burn's `RmsNorm`: `x / sqrt(mean(x²) + ε) · γ`.

pub fn rms_norm_rows(x: &[f32], gamma: &[f32], eps: f32) -> Vec<f32> {
    let width = gamma.len();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(width) {
        let mean_square = row.iter().map(|v| v * v).sum::<f32>() / width as f32;
        let inverse = (mean_square + eps).sqrt().recip();
        out.extend(row.iter().zip(gamma).map(|(v, g)| v * inverse * g));
    }
    out
}
