//! Writes an exported student: `config.json` (with `bitdistill.packing`, and transformers' `quantization_config`
//! for `hf-bitnet`), `model.safetensors`, and the student's `tokenizer.json`.

use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use serde::Serialize;

use super::format::{ExportFormat, Packing, projection_names};
use super::llama_cpp::write_gguf;
use crate::atomic::write_atomic;
use crate::backend::BackendKind;
use crate::checkpoint::{CONFIG_FILE, Checkpoint, SINGLE_FILE};
use crate::error::{Error, Result};
use crate::infer::{DenseMatrix, EmbeddingStorage, NativeLinear, NativeModel, WeightBytes};
use crate::model::SublnPlacement;
use crate::ternary::pack::{pack_base3, pack_hf_bitnet};
use crate::tokenizer::TOKENIZER_FILE;

/// What was written.
#[derive(Clone, Debug, Serialize)]
pub struct ExportSummary {
    pub format: ExportFormat,
    /// The export directory, or the GGUF file.
    pub dir: PathBuf,
    /// Bytes of each part in `model.safetensors` or the GGUF file (tensor data, headers excluded).
    pub stored: WeightBytes,
    /// The same linears at bf16, for the ratio.
    pub linear_bytes_bf16: usize,
    /// Size of `model.safetensors` or of the GGUF file.
    pub file_bytes: usize,
}

struct Stored {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f32_tensor(name: String, values: &[f32]) -> Stored {
    Stored {
        name,
        dtype: Dtype::F32,
        shape: vec![values.len()],
        bytes: f32_bytes(values),
    }
}

fn dense_tensors(name: &str, matrix: &DenseMatrix) -> Vec<Stored> {
    let (rows, cols) = matrix.shape();
    let (dtype, bytes) = match matrix {
        DenseMatrix::F32 { values, .. } => (Dtype::F32, f32_bytes(values)),
        DenseMatrix::Bf16 { values, .. } => (Dtype::BF16, values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        DenseMatrix::Int8 { values, .. } => (Dtype::I8, values.iter().map(|&v| v as u8).collect()),
    };
    let mut out = vec![Stored {
        name: format!("{name}.weight"),
        dtype,
        shape: vec![rows, cols],
        bytes,
    }];
    if let DenseMatrix::Int8 { scales, .. } = matrix {
        out.push(f32_tensor(format!("{name}.weight_scale"), scales));
    }
    out
}

fn storage_of(matrix: &DenseMatrix) -> EmbeddingStorage {
    match matrix {
        DenseMatrix::F32 { .. } => EmbeddingStorage::F32,
        DenseMatrix::Bf16 { .. } => EmbeddingStorage::Bf16,
        DenseMatrix::Int8 { .. } => EmbeddingStorage::Int8,
    }
}

/// Exports the student directory `student` into `out`.
pub fn export_student(
    student: &Path,
    out: &Path,
    format: ExportFormat,
    embeddings: EmbeddingStorage,
) -> Result<ExportSummary> {
    let mut checkpoint = Checkpoint::open(student)?;
    let config_path = student.join(CONFIG_FILE);
    let Some(student_config) = checkpoint.config.student.clone() else {
        return Err(Error::config(
            config_path,
            "not a student (no `bitdistill` section): export takes the output of `distill` or `student init`",
        ));
    };
    if student_config.packing.is_some() {
        return Err(Error::config(config_path, "this student is already a packed export"));
    }
    if format == ExportFormat::HfBitnet && student_config.subln != SublnPlacement::All {
        return Err(Error::config(
            config_path,
            format!(
                "hf-bitnet can only express SubLN `all` (transformers' BitLinear with use_rms_norm normalises the \
                 input of every linear); this student has SubLN `{}`: export it as packed2 or packed1.6",
                format!("{:?}", student_config.subln).to_lowercase()
            ),
        ));
    }
    if format == ExportFormat::HfBitnet && embeddings == EmbeddingStorage::Int8 {
        return Err(Error::Invalid(
            "hf-bitnet keeps embeddings in a float dtype (transformers has no int8 embedding): use bf16 or f32".into(),
        ));
    }
    let tokenizer = student.join(TOKENIZER_FILE);
    if format == ExportFormat::Gguf {
        if student_config.subln != SublnPlacement::None {
            return Err(Error::config(
                config_path,
                format!(
                    "gguf: llama.cpp's hunyuan-dense graph has no SubLN, so only students with `subln = \"none\"` \
                     run in llama.cpp; this student has SubLN `{}`: export it as packed2 or packed1.6",
                    format!("{:?}", student_config.subln).to_lowercase()
                ),
            ));
        }
        if !tokenizer.exists() {
            return Err(Error::io(
                &tokenizer,
                std::io::Error::new(std::io::ErrorKind::NotFound, "gguf: the file carries the tokenizer"),
            ));
        }
    }
    let model = checkpoint.load_model(&BackendKind::Flex.device())?;
    let native = NativeModel::from_burn(&model, &checkpoint.config, embeddings);
    drop(model);
    if format == ExportFormat::Gguf {
        return gguf_summary(&native, Some(&tokenizer), out);
    }
    let summary = write_export(&native, format, out)?;
    if tokenizer.exists() {
        let bytes = std::fs::read(&tokenizer).map_err(|e| Error::io(&tokenizer, e))?;
        write_atomic(&out.join(TOKENIZER_FILE), &bytes)?;
    }
    Ok(summary)
}

fn gguf_summary(model: &NativeModel, tokenizer: Option<&Path>, out: &Path) -> Result<ExportSummary> {
    let (path, file_bytes, stored) = write_gguf(model, tokenizer, out)?;
    Ok(ExportSummary {
        format: ExportFormat::Gguf,
        dir: path,
        stored,
        linear_bytes_bf16: 2 * model.config.param_breakdown().linears,
        file_bytes,
    })
}

/// Writes `model` (whose projections must all be ternary) into `out` in `format`; as `gguf`, without a
/// vocabulary ([`write_gguf`]).
pub fn write_export(model: &NativeModel, format: ExportFormat, out: &Path) -> Result<ExportSummary> {
    if format == ExportFormat::Gguf {
        return gguf_summary(model, None, out);
    }
    let config = &model.config;
    let mut tensors = dense_tensors("model.embed_tokens", &model.embed_tokens);
    let mut stored = WeightBytes {
        embeddings: tensors.iter().map(|t| t.bytes.len()).sum(),
        ..WeightBytes::default()
    };
    if let Some(head) = &model.lm_head {
        let head = dense_tensors("lm_head", head);
        stored.lm_head = head.iter().map(|t| t.bytes.len()).sum();
        tensors.extend(head);
    }
    let mut norms = vec![f32_tensor("model.norm.weight".into(), &model.norm)];
    let mut linears = Vec::new();
    for (index, layer) in model.layers.iter().enumerate() {
        let prefix = format!("model.layers.{index}");
        norms.push(f32_tensor(
            format!("{prefix}.input_layernorm.weight"),
            &layer.input_norm,
        ));
        norms.push(f32_tensor(
            format!("{prefix}.post_attention_layernorm.weight"),
            &layer.post_attention_norm,
        ));
        if let Some((q, k)) = &layer.qk_norm {
            norms.push(f32_tensor(format!("{prefix}.self_attn.query_layernorm.weight"), q));
            norms.push(f32_tensor(format!("{prefix}.self_attn.key_layernorm.weight"), k));
        }
        for ((name, short, rows, cols), linear) in projection_names(index, config).into_iter().zip(layer.projections())
        {
            let NativeLinear::Ternary {
                weight, subln: gamma, ..
            } = linear
            else {
                return Err(Error::Invalid(format!(
                    "{name} is full precision: only a student can be exported"
                )));
            };
            assert_eq!((weight.rows, weight.cols), (rows, cols), "{short}");
            if format == ExportFormat::HfBitnet && gamma.is_none() {
                return Err(Error::Invalid(format!(
                    "{name} has no SubLN, which hf-bitnet requires of every linear"
                )));
            }
            let codes = weight.codes();
            let (packed, shape, scale) = match format {
                ExportFormat::HfBitnet => (
                    pack_hf_bitnet(&codes, rows, cols),
                    vec![rows.div_ceil(4), cols],
                    weight.scale.recip(),
                ),
                ExportFormat::Packed2 => {
                    let packed = weight.packed().to_vec();
                    let width = packed.len() / rows;
                    (packed, vec![rows, width], weight.scale)
                }
                ExportFormat::Packed1_6 => (
                    pack_base3(&codes, rows, cols),
                    vec![rows, cols.div_ceil(5)],
                    weight.scale,
                ),
                ExportFormat::Gguf => unreachable!("written by write_gguf, above"),
            };
            linears.push(Stored {
                name: format!("{name}.weight"),
                dtype: Dtype::U8,
                shape,
                bytes: packed,
            });
            linears.push(f32_tensor(format!("{name}.weight_scale"), &[scale]));
            if let Some(gamma) = gamma {
                norms.push(f32_tensor(format!("{name}.rms_norm.weight"), gamma));
            }
        }
    }
    stored.linears = linears.iter().map(|t| t.bytes.len()).sum();
    stored.norms = norms.iter().map(|t| t.bytes.len()).sum();
    tensors.extend(norms);
    tensors.extend(linears);

    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let weights = out.join(SINGLE_FILE);
    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                .map(|view| (t.name.clone(), view))
                .map_err(|e| Error::Safetensors {
                    path: weights.clone(),
                    message: format!("tensor `{}`: {e}", t.name),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, None).map_err(|e| Error::Safetensors {
        path: weights.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&weights, &bytes)?;

    let mut exported = config.clone();
    let student = exported
        .student
        .as_mut()
        .ok_or_else(|| Error::Invalid("the model has no student config to export".into()))?;
    student.packing = Some(Packing {
        format,
        embeddings: storage_of(&model.embed_tokens),
    });
    let mut json = exported.to_hf_json(false);
    if format == ExportFormat::HfBitnet {
        json["quantization_config"] = serde_json::json!({
            "quant_method": "bitnet",
            "linear_class": "bitlinear",
            "quantization_mode": "offline",
            "use_rms_norm": true,
            "rms_norm_eps": config.rms_norm_eps,
            "modules_to_not_convert": ["lm_head"],
        });
    }
    let text = serde_json::to_string_pretty(&json).map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&out.join(CONFIG_FILE), text.as_bytes())?;
    Ok(ExportSummary {
        format,
        dir: out.to_path_buf(),
        stored,
        linear_bytes_bf16: 2 * config.param_breakdown().linears,
        file_bytes: bytes.len(),
    })
}
