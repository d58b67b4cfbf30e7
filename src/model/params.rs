//! Parameter counts from the config alone, so a 3.6 GB checkpoint can be described without reading it.

use super::config::HunYuanConfig;

/// Parameters by role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamBreakdown {
    /// The embedding matrix (shared with the output head when tied).
    pub embeddings: usize,
    /// A separate `lm_head` (0 when tied).
    pub lm_head: usize,
    /// The seven projections of every layer: the weights BitDistill makes ternary.
    pub linears: usize,
    /// Every RMSNorm scale.
    pub norms: usize,
}

impl ParamBreakdown {
    pub fn total(&self) -> usize {
        self.embeddings + self.lm_head + self.linears + self.norms
    }
}

impl HunYuanConfig {
    pub fn param_breakdown(&self) -> ParamBreakdown {
        let (hidden, mlp) = (self.hidden_size, self.intermediate_size);
        let attention = hidden * (2 * self.q_dim() + 2 * self.kv_dim());
        let per_layer_linears = attention + 3 * hidden * mlp;
        let qk_norm = if self.use_qk_norm { 2 * self.head_dim } else { 0 };
        let per_layer_norms = 2 * hidden + qk_norm;
        ParamBreakdown {
            embeddings: self.vocab_size * hidden,
            lm_head: if self.tie_word_embeddings {
                0
            } else {
                self.vocab_size * hidden
            },
            linears: self.num_hidden_layers * per_layer_linears,
            norms: self.num_hidden_layers * per_layer_norms + hidden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_released_shape_has_the_published_count() {
        let counts = HunYuanConfig::hy_mt_1_8b().param_breakdown();
        assert_eq!(counts.total(), 1_791_080_448);
        // 32 × (2·2048² + 2·2048·512 + 3·2048·6144) = 1,543,503,872: the "1.54 B in linear layers".
        assert_eq!(counts.linears, 1_543_503_872);
        assert_eq!(counts.embeddings, 120_818 * 2048);
    }
}
