//! `config.json` of a HY-MT1.5 checkpoint (`HunYuanDenseV1ForCausalLM`, model_type `hunyuan_v1_dense`).
//!
//! Hugging Face writes the RoPE facts in two layouts and both are accepted:
//! - transformers 4.x (the real release): `rope_theta` + `rope_scaling: {type, alpha, factor}`;
//! - newer transformers: `rope_parameters: {rope_type, rope_theta, alpha, factor}`.

use std::path::Path;

use burn::config::Config;
use serde::Deserialize;
use serde_json::Value;

use super::bitlinear::StudentConfig;
use crate::error::Error;

// The `Config` derive expands to code that names `Result` unqualified, so the crate alias is spelled out.
type LoadResult<T> = crate::error::Result<T>;

/// The `model_type` this crate implements.
pub const MODEL_TYPE: &str = "hunyuan_v1_dense";

/// Resolved architecture of a HY-MT1.5 model.
#[derive(Config, Debug, PartialEq)]
pub struct HunYuanConfig {
    /// Vocabulary size (rows of the embedding matrix).
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU MLP.
    pub intermediate_size: usize,
    /// Number of decoder layers.
    pub num_hidden_layers: usize,
    /// Number of query heads.
    pub num_attention_heads: usize,
    /// Number of key/value heads (grouped-query attention).
    pub num_key_value_heads: usize,
    /// Width of one attention head.
    pub head_dim: usize,
    /// Epsilon of every RMSNorm.
    #[config(default = 1e-5)]
    pub rms_norm_eps: f64,
    /// RoPE base before the NTK alpha scaling.
    #[config(default = 10000.0)]
    pub rope_theta: f64,
    /// NTK-aware alpha: the effective base is `rope_theta * alpha^(head_dim / (head_dim - 2))`.
    #[config(default = 1.0)]
    pub rope_alpha: f64,
    /// Per-head RMSNorm on queries and keys, after RoPE.
    #[config(default = true)]
    pub use_qk_norm: bool,
    /// lm_head shares the embedding matrix.
    #[config(default = true)]
    pub tie_word_embeddings: bool,
    /// Longest context the checkpoint was trained for.
    #[config(default = 32768)]
    pub max_position_embeddings: usize,
    /// Beginning-of-sequence token id.
    #[config(default = 1)]
    pub bos_token_id: u32,
    /// Token ids that end generation.
    #[config(default = "vec![2]")]
    pub eos_token_ids: Vec<u32>,
    /// Padding token id.
    #[config(default = 0)]
    pub pad_token_id: u32,
    /// Present for a BitDistill student: its linears are BitLinear (the `bitdistill` section of config.json).
    pub student: Option<StudentConfig>,
}

/// The RoPE fields of either layout.
#[derive(Deserialize, Default)]
struct RawRope {
    #[serde(alias = "type")]
    rope_type: Option<String>,
    rope_theta: Option<f64>,
    alpha: Option<f64>,
    factor: Option<f64>,
}

/// `config.json` as written by Hugging Face; unknown keys are ignored as transformers does.
#[derive(Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    hidden_act: Option<String>,
    rms_norm_eps: Option<f64>,
    rope_theta: Option<f64>,
    rope_scaling: Option<RawRope>,
    rope_parameters: Option<RawRope>,
    use_qk_norm: Option<bool>,
    tie_word_embeddings: Option<bool>,
    attention_bias: Option<bool>,
    mlp_bias: Option<bool>,
    max_position_embeddings: Option<usize>,
    bos_token_id: Option<u32>,
    eos_token_id: Option<Value>,
    pad_token_id: Option<u32>,
    bitdistill: Option<StudentConfig>,
}

impl HunYuanConfig {
    /// The architecture of the released HY-MT1.5-1.8B (1,791,080,448 parameters). Token ids are not
    /// part of the preset: they come from the checkpoint's own `config.json`.
    pub fn hy_mt_1_8b() -> Self {
        Self::new(120818, 2048, 6144, 32, 16, 4, 128).with_rope_alpha(1000.0)
    }

    /// Reads and validates `config.json`.
    pub fn from_file(path: &Path) -> LoadResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json_str(&text, path)
    }

    /// Parses `config.json` text; `path` only names the source in errors.
    pub fn from_json_str(text: &str, path: &Path) -> LoadResult<Self> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        raw.resolve(path)
    }

    /// Width of the query projection output.
    pub fn q_dim(&self) -> usize {
        self.num_attention_heads * self.head_dim
    }

    /// Width of the key and value projection outputs.
    pub fn kv_dim(&self) -> usize {
        self.num_key_value_heads * self.head_dim
    }

    /// The effective RoPE base, `rope_theta * alpha^(head_dim / (head_dim - 2))`.
    pub fn rope_base(&self) -> f64 {
        let d = self.head_dim as f64;
        self.rope_theta * self.rope_alpha.powf(d / (d - 2.0))
    }

    /// `config.json` in the layout of the real release (`rope_theta` + `rope_scaling`), or in the newer
    /// `rope_parameters` layout.
    pub fn to_hf_json(&self, rope_parameters_layout: bool) -> Value {
        let mut json = serde_json::json!({
            "architectures": ["HunYuanDenseV1ForCausalLM"],
            "model_type": MODEL_TYPE,
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps,
            "use_qk_norm": self.use_qk_norm,
            "tie_word_embeddings": self.tie_word_embeddings,
            "attention_bias": false,
            "mlp_bias": false,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_ids,
            "pad_token_id": self.pad_token_id,
        });
        let rope = if rope_parameters_layout {
            serde_json::json!({"rope_parameters": {"rope_type": "dynamic", "rope_theta": self.rope_theta,
                "alpha": self.rope_alpha, "factor": 1.0}})
        } else {
            serde_json::json!({"rope_theta": self.rope_theta,
                "rope_scaling": {"type": "dynamic", "alpha": self.rope_alpha, "factor": 1.0}})
        };
        if let (Value::Object(map), Value::Object(extra)) = (&mut json, rope) {
            map.extend(extra);
        }
        if let Some(student) = &self.student {
            json["bitdistill"] = serde_json::to_value(student).expect("student config serializes");
        }
        json
    }
}

impl RawConfig {
    fn resolve(self, path: &Path) -> LoadResult<HunYuanConfig> {
        let bad = |message: String| Error::config(path, message);
        match self.model_type.as_deref() {
            Some(MODEL_TYPE) => {}
            Some(other) => {
                return Err(bad(format!(
                    "unknown model_type `{other}` (this crate implements `{MODEL_TYPE}`)"
                )));
            }
            None => return Err(bad("missing key `model_type`".into())),
        }
        if let Some(act) = self.hidden_act.as_deref().filter(|a| *a != "silu") {
            return Err(bad(format!("unsupported hidden_act `{act}` (only `silu`)")));
        }
        if self.attention_bias == Some(true) || self.mlp_bias == Some(true) {
            return Err(bad("attention_bias / mlp_bias = true is not supported".into()));
        }
        let num_key_value_heads = self.num_key_value_heads.unwrap_or(self.num_attention_heads);
        let head_dim = self
            .head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads.max(1));
        if self.num_attention_heads == 0 || num_key_value_heads == 0 {
            return Err(bad(
                "num_attention_heads and num_key_value_heads must be positive".into()
            ));
        }
        if !self.num_attention_heads.is_multiple_of(num_key_value_heads) {
            return Err(bad(format!(
                "num_attention_heads ({}) is not a multiple of num_key_value_heads ({num_key_value_heads})",
                self.num_attention_heads
            )));
        }
        if head_dim < 4 || !head_dim.is_multiple_of(2) {
            return Err(bad(format!("head_dim {head_dim} must be even and at least 4 for RoPE")));
        }

        // The newer layout wins where both are present, as in transformers.
        let rope = match (self.rope_parameters, self.rope_scaling) {
            (Some(params), _) => params,
            (None, Some(scaling)) => scaling,
            (None, None) => RawRope::default(),
        };
        if let Some(kind) = rope
            .rope_type
            .as_deref()
            .filter(|t| !matches!(*t, "dynamic" | "default"))
        {
            return Err(bad(format!(
                "unsupported rope type `{kind}` (expected `dynamic` or `default`)"
            )));
        }
        if rope.factor.is_some_and(|f| f != 1.0) {
            return Err(bad("rope factor other than 1.0 is not supported".into()));
        }
        let eos_token_ids = match self.eos_token_id {
            None => vec![2],
            Some(value) => eos_ids(&value).ok_or_else(|| {
                bad(format!(
                    "eos_token_id must be an integer or a list of integers, got {value}"
                ))
            })?,
        };

        Ok(HunYuanConfig {
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            intermediate_size: self.intermediate_size,
            num_hidden_layers: self.num_hidden_layers,
            num_attention_heads: self.num_attention_heads,
            num_key_value_heads,
            head_dim,
            rms_norm_eps: self.rms_norm_eps.unwrap_or(1e-5),
            rope_theta: rope.rope_theta.or(self.rope_theta).unwrap_or(10000.0),
            rope_alpha: rope.alpha.unwrap_or(1.0),
            use_qk_norm: self.use_qk_norm.unwrap_or(true),
            tie_word_embeddings: self.tie_word_embeddings.unwrap_or(true),
            max_position_embeddings: self.max_position_embeddings.unwrap_or(32768),
            bos_token_id: self.bos_token_id.unwrap_or(1),
            eos_token_ids,
            pad_token_id: self.pad_token_id.unwrap_or(0),
            student: self.bitdistill,
        })
    }
}

fn eos_ids(value: &Value) -> Option<Vec<u32>> {
    match value {
        Value::Number(n) => Some(vec![u32::try_from(n.as_u64()?).ok()?]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE_LIKE: &str = r#"{"model_type": "hunyuan_v1_dense", "vocab_size": 512, "hidden_size": 64,
        "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 16, "rope_theta": 10000.0, "rope_scaling": {"type": "dynamic", "alpha": 1000.0, "factor": 1.0},
        "eos_token_id": 2, "some_future_key": [1, 2]}"#;

    fn parse(text: &str) -> LoadResult<HunYuanConfig> {
        HunYuanConfig::from_json_str(text, Path::new("dir/config.json"))
    }

    #[test]
    fn both_rope_layouts_resolve_to_the_same_config() {
        let old = parse(FIXTURE_LIKE).unwrap();
        let new_layout = FIXTURE_LIKE.replace(
            r#""rope_theta": 10000.0, "rope_scaling": {"type": "dynamic", "alpha": 1000.0, "factor": 1.0}"#,
            r#""rope_parameters": {"rope_type": "dynamic", "rope_theta": 10000.0, "alpha": 1000.0, "factor": 1.0}"#,
        );
        assert_ne!(new_layout, FIXTURE_LIKE);
        assert_eq!(parse(&new_layout).unwrap(), old);
        // 10000 * 1000^(16/14), by hand: 10^(4 + 3*16/14) = 10^7.428571...
        assert!((old.rope_base() / 10f64.powf(4.0 + 48.0 / 14.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn written_json_reads_back_in_both_layouts() {
        let config = HunYuanConfig::hy_mt_1_8b().with_tie_word_embeddings(false);
        for layout in [false, true] {
            let text = config.to_hf_json(layout).to_string();
            assert_eq!(parse(&text).unwrap(), config);
        }
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let unknown = parse(&FIXTURE_LIKE.replace("hunyuan_v1_dense", "llama")).unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "dir/config.json: unknown model_type `llama` (this crate implements `hunyuan_v1_dense`)"
        );
        let malformed = parse("{\"model_type\": ").unwrap_err().to_string();
        assert!(malformed.starts_with("dir/config.json: malformed JSON:"), "{malformed}");
        let missing = parse(&FIXTURE_LIKE.replace("\"vocab_size\": 512,", ""))
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("dir/config.json") && missing.contains("missing field `vocab_size`"),
            "{missing}"
        );
        let heads = parse(&FIXTURE_LIKE.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"))
            .unwrap_err()
            .to_string();
        assert!(heads.contains("not a multiple of num_key_value_heads (3)"), "{heads}");
    }
}
