//! The statistics `compare` accumulates over a corpus, in f64 over f32 model outputs.

/// Next-token statistics of a teacher and a student over the positions seen so far: perplexity of each,
/// `KL(p_T ‖ p_S)` (τ = 1) and how often their predictions agree.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NextTokenStats {
    pub positions: usize,
    teacher_nll: f64,
    student_nll: f64,
    kl: f64,
    top1: usize,
    top5: usize,
}

impl NextTokenStats {
    /// One position: both models' logits and the token that actually came next.
    pub fn add(&mut self, teacher: &[f32], student: &[f32], next: u32) {
        let (log_p_t, log_p_s) = (log_softmax(teacher), log_softmax(student));
        self.positions += 1;
        self.teacher_nll -= log_p_t[next as usize];
        self.student_nll -= log_p_s[next as usize];
        self.kl += log_p_t
            .iter()
            .zip(&log_p_s)
            .map(|(t, s)| t.exp() * (t - s))
            .sum::<f64>();
        let teacher_best = argmax(teacher);
        self.top1 += usize::from(argmax(student) == teacher_best);
        self.top5 += usize::from(top_k(student, 5).contains(&teacher_best));
    }

    fn mean(&self, sum: f64) -> f64 {
        sum / self.positions.max(1) as f64
    }

    pub fn teacher_perplexity(&self) -> f64 {
        self.mean(self.teacher_nll).exp()
    }

    pub fn student_perplexity(&self) -> f64 {
        self.mean(self.student_nll).exp()
    }

    /// Mean `KL(p_T ‖ p_S)` per position, in nats.
    pub fn kl(&self) -> f64 {
        self.mean(self.kl)
    }

    /// Share of positions where the student's most likely next token is the teacher's.
    pub fn top1_agreement(&self) -> f64 {
        self.mean(self.top1 as f64)
    }

    /// Share of positions where the teacher's most likely next token is among the student's five most likely.
    pub fn top5_agreement(&self) -> f64 {
        self.mean(self.top5 as f64)
    }
}

/// How far a student's states are from the teacher's, over all rows seen: the mean per-row cosine similarity and
/// the relative L2 distance `‖S − T‖ / ‖T‖` over every row together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateDistance {
    rows: usize,
    cosine_sum: f64,
    difference_squares: f64,
    teacher_squares: f64,
}

impl StateDistance {
    /// Rows of `width` values, teacher and student in the same layout.
    pub fn add(&mut self, teacher: &[f32], student: &[f32], width: usize) {
        for (t, s) in teacher.chunks_exact(width).zip(student.chunks_exact(width)) {
            let (mut dot, mut tt, mut ss, mut dd) = (0.0, 0.0, 0.0, 0.0);
            for (&t, &s) in t.iter().zip(s) {
                let (t, s) = (f64::from(t), f64::from(s));
                dot += t * s;
                tt += t * t;
                ss += s * s;
                dd += (s - t) * (s - t);
            }
            self.rows += 1;
            self.cosine_sum += dot / (tt.sqrt() * ss.sqrt()).max(1e-30);
            self.difference_squares += dd;
            self.teacher_squares += tt;
        }
    }

    pub fn cosine(&self) -> f64 {
        self.cosine_sum / self.rows.max(1) as f64
    }

    pub fn relative_l2(&self) -> f64 {
        (self.difference_squares / self.teacher_squares.max(1e-30)).sqrt()
    }
}

/// `log softmax` in f64 (the max is subtracted first).
pub fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(f64::from(x)));
    let log_sum = logits.iter().map(|&x| (f64::from(x) - max).exp()).sum::<f64>().ln();
    logits.iter().map(|&x| f64::from(x) - max - log_sum).collect()
}

/// The index of the largest value (the first of ties).
fn argmax(values: &[f32]) -> usize {
    top_k(values, 1)[0]
}

/// The indices of the `k` largest values, largest first (earlier indices first among ties).
fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut best: Vec<usize> = Vec::with_capacity(k + 1);
    for (i, &v) in values.iter().enumerate() {
        let at = best.iter().position(|&j| v > values[j]).unwrap_or(best.len());
        if at < k {
            best.insert(at, i);
            best.truncate(k);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_token_statistics_of_hand_made_distributions() {
        // Teacher softmax([ln 1, ln 3]) = [1/4, 3/4]; student softmax([0, 0]) = [1/2, 1/2]; the next token is 1.
        let teacher = [0.0, 3f32.ln()];
        let student = [0.0, 0.0];
        let mut stats = NextTokenStats::default();
        stats.add(&teacher, &student, 1);
        assert!((stats.teacher_perplexity() - 4.0 / 3.0).abs() < 1e-6);
        assert!((stats.student_perplexity() - 2.0).abs() < 1e-9);
        let kl = 0.25 * (0.25f64 / 0.5).ln() + 0.75 * (0.75f64 / 0.5).ln();
        assert!((stats.kl() - kl).abs() < 1e-6, "{} vs {kl}", stats.kl());
        // argmax: teacher 1, student 0 (first of a tie): top-1 disagrees, top-5 holds both.
        assert_eq!((stats.top1_agreement(), stats.top5_agreement()), (0.0, 1.0));
    }

    #[test]
    fn top_k_keeps_the_largest_in_order() {
        assert_eq!(top_k(&[0.1, 0.9, 0.5, 0.9, -1.0, 0.7], 3), vec![1, 3, 5]);
        assert_eq!(top_k(&[2.0, 1.0], 5), vec![0, 1]);
    }

    #[test]
    fn state_distance_of_hand_made_rows() {
        let mut d = StateDistance::default();
        // Rows (1, 0) vs (0, 2): cosine 0; (3, 4) vs (3, 4): cosine 1.
        d.add(&[1.0, 0.0, 3.0, 4.0], &[0.0, 2.0, 3.0, 4.0], 2);
        assert!((d.cosine() - 0.5).abs() < 1e-12);
        // ‖S − T‖² = 1 + 4, ‖T‖² = 1 + 25.
        assert!((d.relative_l2() - (5.0f64 / 26.0).sqrt()).abs() < 1e-12);
    }
}
