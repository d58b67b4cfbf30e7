//! Learning-rate schedule: linear warm-up, then cosine decay to zero.

use std::f64::consts::PI;

/// Learning rate at optimizer step `step` (0-based) of `total`.
pub fn cosine_with_warmup(step: usize, total: usize, warmup: usize, peak: f64) -> f64 {
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let decay_steps = total.saturating_sub(warmup).max(1);
    let progress = ((step - warmup) as f64 / decay_steps as f64).min(1.0);
    peak * 0.5 * (1.0 + (PI * progress).cos())
}

#[cfg(test)]
mod tests {
    use super::cosine_with_warmup;

    #[test]
    fn warms_up_linearly_then_decays_by_half_a_cosine() {
        assert_eq!(cosine_with_warmup(0, 110, 10, 1.0), 0.1);
        assert_eq!(cosine_with_warmup(9, 110, 10, 1.0), 1.0);
        assert_eq!(cosine_with_warmup(10, 110, 10, 1.0), 1.0);
        assert!((cosine_with_warmup(60, 110, 10, 1.0) - 0.5).abs() < 1e-12);
        assert!(cosine_with_warmup(110, 110, 10, 1.0).abs() < 1e-12);
    }
}
