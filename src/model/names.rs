//! The one table between burn module paths and Hugging Face tensor names.
//!
//! Module fields carry the checkpoint's names (`self_attn.q_proj`, `input_layernorm`, ...), so only three
//! things differ: the `model.` prefix of everything but `lm_head`, burn's RMSNorm calling its scale `gamma`
//! where HF says `weight`, and the embedding matrix being a bare parameter here.

/// burn path (`layers.0.input_layernorm.gamma`) → HF name (`model.layers.0.input_layernorm.weight`).
pub fn hf_name(burn_path: &str) -> String {
    let renamed = match burn_path.strip_suffix(".gamma") {
        Some(norm) => format!("{norm}.weight"),
        None if burn_path == "embed_tokens" => "embed_tokens.weight".to_string(),
        None => burn_path.to_string(),
    };
    if renamed.starts_with("lm_head.") {
        renamed
    } else {
        format!("model.{renamed}")
    }
}

#[cfg(test)]
mod tests {
    use super::hf_name;

    #[test]
    fn maps_every_kind_of_path() {
        for (burn, hf) in [
            ("embed_tokens", "model.embed_tokens.weight"),
            (
                "layers.3.self_attn.q_proj.weight",
                "model.layers.3.self_attn.q_proj.weight",
            ),
            (
                "layers.3.self_attn.query_layernorm.gamma",
                "model.layers.3.self_attn.query_layernorm.weight",
            ),
            (
                "layers.0.post_attention_layernorm.gamma",
                "model.layers.0.post_attention_layernorm.weight",
            ),
            ("norm.gamma", "model.norm.weight"),
            ("lm_head.weight", "lm_head.weight"),
        ] {
            assert_eq!(hf_name(burn), hf);
        }
    }
}
