//! `export --format gguf`: a student as one GGUF file for llama.cpp (and what is built on it: ollama, LM Studio):
//! architecture `hunyuan-dense`, with the metadata keys, tensor names and tokenizer fields that llama.cpp's own
//! converter writes for HunYuanDenseV1 (`convert_hf_to_gguf.py`, `HunYuanModel`: the RoPE base already scaled by
//! alpha, scaling type `none`; the tied lm_head left out, as llama.cpp then reads `token_embd`), and TQ2_0
//! linears. llama.cpp's graph (`src/models/hunyuan-vl.cpp`: q/k RMSNorm after NeoX RoPE, SwiGLU) has no SubLN,
//! so only students without SubLN can be written.

use std::path::{Path, PathBuf};

use half::f16;

use super::gguf::{GgmlType, GgufTensor, MetaValue, gguf_bytes};
use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::infer::{DenseMatrix, NativeLinear, NativeModel, WeightBytes};
use crate::model::HunYuanConfig;
use crate::prompt::{ASSISTANT, END_OF_REPLY, END_OF_SYSTEM, USER};
use crate::ternary::PackedTernary;

/// The file name inside an output directory.
pub const GGUF_FILE: &str = "model.gguf";
/// llama.cpp's architecture name for HunYuanDenseV1.
pub const ARCHITECTURE: &str = "hunyuan-dense";
/// Weights a TQ2_0 block holds (`QK_K`).
pub const TQ2_0_BLOCK: usize = 256;

/// `LLAMA_FTYPE_MOSTLY_TQ2_0` (`llama.h`): what `general.file_type` says of a file whose linears are TQ2_0.
const FILE_TYPE_TQ2_0: u32 = 37;

/// HY-MT's one-turn template as Jinja, rendering exactly [`crate::prompt::render_chat`]'s text; llama.cpp's
/// built-in template matcher recognises it as `hunyuan-dense` by its assistant and end-of-system tokens.
fn chat_template() -> String {
    format!(
        "{{{{ bos_token }}}}{{% for message in messages %}}{{% if message['role'] == 'system' %}}{{{{ message['content'] \
         }}}}{END_OF_SYSTEM}{{% elif message['role'] == 'user' %}}{USER}{{{{ message['content'] }}}}{{% elif \
         message['role'] == 'assistant' %}}{ASSISTANT}{{{{ message['content'] }}}}{END_OF_REPLY}{{% endif %}}{{% \
         endfor %}}{{% if add_generation_prompt %}}{ASSISTANT}{{% endif %}}"
    )
}

/// Where `out` puts the file: `out` itself when it ends in `.gguf`, else `out/model.gguf`.
pub fn gguf_path(out: &Path) -> PathBuf {
    if out.extension().is_some_and(|e| e == "gguf") {
        out.to_path_buf()
    } else {
        out.join(GGUF_FILE)
    }
}

/// One ternary matrix as TQ2_0: per 256 columns, the kernel layout's two 32-byte blocks unchanged (byte `m` of
/// each holds columns `m, m+32, m+64, m+96` as `code + 1` at shifts 0, 2, 4, 6, which is `quantize_row_tq2_0`'s
/// order) and `d = f16(Δ)`.
pub fn tq2_0_bytes(weight: &PackedTernary) -> Vec<u8> {
    assert_eq!(weight.cols % TQ2_0_BLOCK, 0, "TQ2_0 rows are whole blocks");
    let d = f16::from_f32(weight.scale).to_le_bytes();
    let mut out = Vec::with_capacity(weight.packed().len() / 64 * 66);
    for block in weight.packed().chunks_exact(TQ2_0_BLOCK / 4) {
        out.extend(block);
        out.extend(d);
    }
    out
}

fn f32_data(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn norm(name: String, values: &[f32]) -> GgufTensor {
    GgufTensor {
        name,
        dims: vec![values.len() as u64],
        kind: GgmlType::F32,
        data: f32_data(values),
    }
}

fn embedding(matrix: &DenseMatrix) -> Result<GgufTensor> {
    let (rows, cols) = matrix.shape();
    let (kind, data) = match matrix {
        DenseMatrix::F32 { values, .. } => (GgmlType::F32, f32_data(values)),
        DenseMatrix::Bf16 { values, .. } => (GgmlType::Bf16, values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        DenseMatrix::Int8 { .. } => {
            return Err(Error::Invalid(
                "gguf: llama.cpp has no int8-per-row type (its Q8_0 scales every 32 values): export the \
                 embeddings as bf16 or f32"
                    .into(),
            ));
        }
    };
    Ok(GgufTensor {
        name: "token_embd.weight".into(),
        dims: vec![cols as u64, rows as u64],
        kind,
        data,
    })
}

/// The tensors in llama.cpp's names (`blk.N.attn_q`, …), or why this model cannot be written.
fn tensors(model: &NativeModel) -> Result<Vec<GgufTensor>> {
    if model.lm_head.is_some() {
        return Err(Error::Invalid(
            "gguf: this exporter writes tied embeddings only (HY-MT1.5 ties its lm_head)".into(),
        ));
    }
    let mut tensors = vec![embedding(&model.embed_tokens)?];
    for (index, layer) in model.layers.iter().enumerate() {
        let block = |name: &str| format!("blk.{index}.{name}.weight");
        let Some((q_norm, k_norm)) = &layer.qk_norm else {
            return Err(Error::Invalid(format!(
                "gguf: layer {index} has no q/k norm, which llama.cpp's hunyuan-dense graph requires"
            )));
        };
        tensors.push(norm(block("attn_norm"), &layer.input_norm));
        let projections = [
            ("attn_q", &layer.q_proj),
            ("attn_k", &layer.k_proj),
            ("attn_v", &layer.v_proj),
            ("attn_output", &layer.o_proj),
            ("ffn_gate", &layer.gate_proj),
            ("ffn_up", &layer.up_proj),
            ("ffn_down", &layer.down_proj),
        ];
        for (name, linear) in projections {
            let weight = match linear {
                NativeLinear::Ternary {
                    weight, subln: None, ..
                } => weight,
                NativeLinear::Ternary { subln: Some(_), .. } => {
                    return Err(Error::Invalid(format!(
                        "gguf: {} has a SubLN, which llama.cpp's hunyuan-dense graph does not have: only students \
                         with `subln = \"none\"` can run in llama.cpp (export this one as packed2)",
                        block(name)
                    )));
                }
                NativeLinear::Dense(_) => {
                    return Err(Error::Invalid(format!(
                        "gguf: {} is full precision: only a student can be exported",
                        block(name)
                    )));
                }
            };
            if weight.cols % TQ2_0_BLOCK != 0 {
                return Err(Error::Invalid(format!(
                    "gguf: {} has {} input columns; TQ2_0 packs {TQ2_0_BLOCK} weights a block, so every input \
                     width must be a multiple of {TQ2_0_BLOCK}",
                    block(name),
                    weight.cols
                )));
            }
            tensors.push(GgufTensor {
                name: block(name),
                dims: vec![weight.cols as u64, weight.rows as u64],
                kind: GgmlType::Tq2_0,
                data: tq2_0_bytes(weight),
            });
        }
        tensors.push(norm(block("attn_q_norm"), q_norm));
        tensors.push(norm(block("attn_k_norm"), k_norm));
        tensors.push(norm(block("ffn_norm"), &layer.post_attention_norm));
    }
    tensors.push(norm("output_norm.weight".into(), &model.norm));
    Ok(tensors)
}

/// The `hunyuan-dense.*` hyper-parameters, as `TextModel.set_gguf_parameters` and `HunYuanModel` write them.
fn architecture_keys(config: &HunYuanConfig) -> Vec<(String, MetaValue)> {
    let key = |name: &str| format!("{ARCHITECTURE}.{name}");
    let count = |n: usize| MetaValue::U32(n as u32);
    vec![
        (key("block_count"), count(config.num_hidden_layers)),
        (key("context_length"), count(config.max_position_embeddings)),
        (key("embedding_length"), count(config.hidden_size)),
        (key("feed_forward_length"), count(config.intermediate_size)),
        (key("attention.head_count"), count(config.num_attention_heads)),
        (key("attention.head_count_kv"), count(config.num_key_value_heads)),
        (key("attention.key_length"), count(config.head_dim)),
        (key("attention.value_length"), count(config.head_dim)),
        (
            key("attention.layer_norm_rms_epsilon"),
            MetaValue::F32(config.rms_norm_eps as f32),
        ),
        // HY's NTK alpha folded into the base, theta·alpha^(d/(d−2)), with no further scaling.
        (key("rope.freq_base"), MetaValue::F32(config.rope_base() as f32)),
        (key("rope.scaling.type"), MetaValue::Str("none".into())),
        (key("rope.scaling.factor"), MetaValue::F32(1.0)),
        (key("vocab_size"), count(config.vocab_size)),
    ]
}

/// The tokenizer as llama.cpp's `gpt2` (byte-level BPE) vocabulary: tokens by id, their types (1 normal,
/// 3 control, 5 unused), the merges, the pre-tokenizer's name, special ids and the chat template.
fn tokenizer_keys(path: &Path, config: &HunYuanConfig) -> Result<Vec<(String, MetaValue)>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |message: String| Error::Tokenizer {
        path: path.to_path_buf(),
        message,
    };
    if json["model"]["type"] != "BPE" {
        return Err(invalid(
            "gguf: only byte-level BPE tokenizers map to llama.cpp's `gpt2` vocabulary".into(),
        ));
    }
    let pre = pre_tokenizer_name(&json["pre_tokenizer"]).ok_or_else(|| {
        invalid(format!(
            "gguf: pre-tokenizer {} is neither GPT-2's byte-level split nor HY's, the two llama.cpp names \
             (`gpt-2`, `hunyuan-dense`) for this architecture",
            json["pre_tokenizer"]
        ))
    })?;
    let mut tokens: Vec<Option<(String, i32)>> = vec![None; config.vocab_size];
    let mut place = |token: &str, id: u64, kind: i32| -> Result<()> {
        let slot = tokens.get_mut(id as usize).ok_or_else(|| {
            invalid(format!(
                "token `{token}` has id {id}, beyond the model's {} rows",
                config.vocab_size
            ))
        })?;
        *slot = Some((token.to_string(), kind));
        Ok(())
    };
    let vocab = json["model"]["vocab"]
        .as_object()
        .ok_or_else(|| invalid("model.vocab is not a map".into()))?;
    for (token, id) in vocab {
        place(
            token,
            id.as_u64()
                .ok_or_else(|| invalid(format!("token `{token}`: id not a number")))?,
            1,
        )?;
    }
    for added in json["added_tokens"].as_array().into_iter().flatten() {
        let (Some(token), Some(id)) = (added["content"].as_str(), added["id"].as_u64()) else {
            return Err(invalid(format!("added token {added} lacks content or id")));
        };
        place(token, id, if added["special"] == true { 3 } else { 1 })?;
    }
    let (tokens, types): (Vec<String>, Vec<i32>) = tokens
        .into_iter()
        .enumerate()
        .map(|(id, slot)| slot.unwrap_or_else(|| (format!("[PAD{id}]"), 5)))
        .unzip();
    let merges = json["model"]["merges"]
        .as_array()
        .ok_or_else(|| invalid("model.merges is not a list".into()))?
        .iter()
        .map(|merge| match merge {
            serde_json::Value::String(pair) => Ok(pair.clone()),
            serde_json::Value::Array(pair) if pair.len() == 2 => Ok(format!(
                "{} {}",
                pair[0].as_str().unwrap_or_default(),
                pair[1].as_str().unwrap_or_default()
            )),
            other => Err(invalid(format!("merge {other} is neither \"a b\" nor [a, b]"))),
        })
        .collect::<Result<Vec<_>>>()?;
    let eos = *config
        .eos_token_ids
        .first()
        .ok_or_else(|| invalid("the config names no eos token".into()))?;
    Ok(vec![
        ("tokenizer.ggml.model".into(), MetaValue::Str("gpt2".into())),
        ("tokenizer.ggml.pre".into(), MetaValue::Str(pre.into())),
        ("tokenizer.ggml.tokens".into(), MetaValue::Strings(tokens)),
        ("tokenizer.ggml.token_type".into(), MetaValue::I32s(types)),
        ("tokenizer.ggml.merges".into(), MetaValue::Strings(merges)),
        (
            "tokenizer.ggml.bos_token_id".into(),
            MetaValue::U32(config.bos_token_id),
        ),
        ("tokenizer.ggml.eos_token_id".into(), MetaValue::U32(eos)),
        // The end of a reply ends a turn too (the converter reads it from generation_config.json).
        ("tokenizer.ggml.eot_token_id".into(), MetaValue::U32(eos)),
        (
            "tokenizer.ggml.padding_token_id".into(),
            MetaValue::U32(config.pad_token_id),
        ),
        // HY's prompts carry their own BOS (the template writes it), as this crate's tokenizer does.
        ("tokenizer.ggml.add_bos_token".into(), MetaValue::Bool(false)),
        ("tokenizer.chat_template".into(), MetaValue::Str(chat_template())),
    ])
}

/// HY's split regexes as llama.cpp's `hunyuan-dense` pre-tokenizer has them (`llama-vocab.cpp`).
const HY_SPLITS: [&str; 3] = [
    r"\p{N}{1,3}",
    r"[一-龥぀-ゟ゠-ヿ]+",
    r##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"##,
];

/// `gpt-2` for a plain byte-level pre-tokenizer with GPT-2's regex, `hunyuan-dense` for HY's three splits
/// followed by a byte-level step without regex; `None` for anything else.
fn pre_tokenizer_name(pre: &serde_json::Value) -> Option<&'static str> {
    let byte_level = |step: &serde_json::Value, regex: bool| step["type"] == "ByteLevel" && step["use_regex"] == regex;
    if byte_level(pre, true) {
        return Some("gpt-2");
    }
    let steps = pre["pretokenizers"].as_array()?;
    let (last, splits) = steps.split_last()?;
    let patterns: Vec<&str> = splits
        .iter()
        .filter(|s| s["type"] == "Split")
        .filter_map(|s| s["pattern"]["Regex"].as_str())
        .collect();
    (pre["type"] == "Sequence" && byte_level(last, false) && splits.len() == 3 && patterns == HY_SPLITS)
        .then_some("hunyuan-dense")
}

/// Writes `model` as GGUF into `out` ([`gguf_path`]); `tokenizer` is the student's `tokenizer.json`. Without
/// one the file carries no vocabulary (`tokenizer.ggml.model = none`, as llama.cpp allows): it runs in
/// `llama-bench` but cannot tokenize text. Returns the file, its size and the bytes of each part.
pub fn write_gguf(model: &NativeModel, tokenizer: Option<&Path>, out: &Path) -> Result<(PathBuf, usize, WeightBytes)> {
    let config = &model.config;
    let mut metadata = vec![
        ("general.architecture".to_string(), MetaValue::Str(ARCHITECTURE.into())),
        (
            "general.name".into(),
            MetaValue::Str("BitDistill student of HY-MT1.5".into()),
        ),
        ("general.file_type".into(), MetaValue::U32(FILE_TYPE_TQ2_0)),
        ("general.quantization_version".into(), MetaValue::U32(2)),
    ];
    metadata.extend(architecture_keys(config));
    match tokenizer {
        Some(path) => metadata.extend(tokenizer_keys(path, config)?),
        None => metadata.push(("tokenizer.ggml.model".into(), MetaValue::Str("none".into()))),
    }
    let tensors = tensors(model)?;
    let part = |keep: &dyn Fn(&GgufTensor) -> bool| tensors.iter().filter(|t| keep(t)).map(|t| t.data.len()).sum();
    let stored = WeightBytes {
        linears: part(&|t| t.kind == GgmlType::Tq2_0),
        embeddings: part(&|t| t.name == "token_embd.weight"),
        lm_head: 0,
        norms: part(&|t| t.dims.len() == 1),
    };
    let bytes = gguf_bytes(&metadata, &tensors);
    let path = gguf_path(out);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    write_atomic(&path, &bytes)?;
    Ok((path, bytes.len(), stored))
}
