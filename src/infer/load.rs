//! Loads any model directory into the CPU engine: a packed export as stored, a teacher's f32 weights tensor by
//! tensor, and a latent student quantized exactly as export does (through the burn loader).

use std::path::Path;

use half::bf16;
use safetensors::tensor::Dtype;

use super::convert::EmbeddingStorage;
use super::dense::DenseMatrix;
use super::linear::NativeLinear;
use super::model::{NativeLayer, NativeModel};
use crate::backend::BackendKind;
use crate::checkpoint::{CONFIG_FILE, Checkpoint, ModelFiles, SINGLE_FILE, SafetensorsFile, read_config};
use crate::error::{Error, Result};
use crate::export::{ExportFormat, Packing, projection_names};
use crate::model::{HunYuanConfig, SublnPlacement};
use crate::ternary::PackedTernary;
use crate::ternary::pack::{pack_kernel, padded_cols, unpack_base3, unpack_hf_bitnet};

/// The engine's model of `dir`.
pub fn load_native(dir: &Path) -> Result<NativeModel> {
    load_native_files(&ModelFiles::dir(dir))
}

/// The engine's model of a model directory's files (on disk or in memory).
pub fn load_native_files(files: &ModelFiles) -> Result<NativeModel> {
    let config = read_config(files)?;
    match (&config.student, config.student.as_ref().and_then(|s| s.packing)) {
        (_, Some(packing)) if packing.format == ExportFormat::Gguf => Err(Error::config(
            files.path(CONFIG_FILE),
            "packing format `gguf` is a single .gguf file for llama.cpp, not a directory this engine loads: run \
             it in llama.cpp, or export the student as packed2 for this engine",
        )),
        (_, Some(packing)) => {
            let file = files.safetensors(SINGLE_FILE)?;
            let subln = config.student.as_ref().map(|s| s.subln).unwrap_or_default();
            assemble(config, &mut PackedSource { file, packing, subln })
        }
        (Some(_), None) => {
            let model = Checkpoint::from_files(files, None)?.load_model(&BackendKind::Flex.device())?;
            Ok(NativeModel::from_burn(&model, &config, EmbeddingStorage::F32))
        }
        (None, None) => assemble(config, &mut Checkpoint::from_files(files, None)?),
    }
}

/// Where [`assemble`] reads each tensor from, by Hugging Face name.
trait NativeSource {
    fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>>;
    /// `prefix` is e.g. `model.embed_tokens` or `lm_head`.
    fn matrix(&mut self, prefix: &str, rows: usize, cols: usize) -> Result<DenseMatrix>;
    /// `prefix` is e.g. `model.layers.0.self_attn.q_proj`; `short` its last part.
    fn projection(&mut self, prefix: &str, short: &str, rows: usize, cols: usize, eps: f32) -> Result<NativeLinear>;
}

fn assemble(config: HunYuanConfig, source: &mut dyn NativeSource) -> Result<NativeModel> {
    let (vocab, hidden, d) = (config.vocab_size, config.hidden_size, config.head_dim);
    let eps = config.rms_norm_eps as f32;
    let embed_tokens = source.matrix("model.embed_tokens", vocab, hidden)?;
    let lm_head = match config.tie_word_embeddings {
        true => None,
        false => Some(source.matrix("lm_head", vocab, hidden)?),
    };
    let mut layers = Vec::with_capacity(config.num_hidden_layers);
    for index in 0..config.num_hidden_layers {
        let prefix = format!("model.layers.{index}");
        let mut projections = Vec::with_capacity(7);
        for (name, short, rows, cols) in projection_names(index, &config) {
            projections.push(source.projection(&name, short, rows, cols, eps)?);
        }
        let [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]: [NativeLinear; 7] =
            projections.try_into().expect("seven projections");
        let qk_norm = match config.use_qk_norm {
            true => Some((
                source.vector(&format!("{prefix}.self_attn.query_layernorm.weight"), d)?,
                source.vector(&format!("{prefix}.self_attn.key_layernorm.weight"), d)?,
            )),
            false => None,
        };
        layers.push(NativeLayer {
            input_norm: source.vector(&format!("{prefix}.input_layernorm.weight"), hidden)?,
            q_proj,
            k_proj,
            v_proj,
            o_proj,
            qk_norm,
            post_attention_norm: source.vector(&format!("{prefix}.post_attention_layernorm.weight"), hidden)?,
            gate_proj,
            up_proj,
            down_proj,
        });
    }
    let norm = source.vector("model.norm.weight", hidden)?;
    Ok(NativeModel::new(config, embed_tokens, layers, norm, lm_head))
}

fn f32s(data: burn::tensor::TensorData) -> Vec<f32> {
    data.try_into_vec_as::<f32>().expect("f32 data")
}

/// A full-precision checkpoint: every projection stays f32.
impl NativeSource for Checkpoint {
    fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>> {
        Ok(f32s(self.read_f32(name, &[len])?))
    }

    fn matrix(&mut self, prefix: &str, rows: usize, cols: usize) -> Result<DenseMatrix> {
        let values = f32s(self.read_f32(&format!("{prefix}.weight"), &[rows, cols])?);
        Ok(DenseMatrix::F32 { rows, cols, values })
    }

    fn projection(&mut self, prefix: &str, _: &str, rows: usize, cols: usize, _: f32) -> Result<NativeLinear> {
        Ok(NativeLinear::Dense(self.matrix(prefix, rows, cols)?))
    }
}

struct PackedSource {
    file: SafetensorsFile,
    packing: Packing,
    subln: SublnPlacement,
}

impl NativeSource for PackedSource {
    fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>> {
        Ok(f32s(self.file.read_f32(name, Some(&[len]))?))
    }

    fn matrix(&mut self, prefix: &str, rows: usize, cols: usize) -> Result<DenseMatrix> {
        let (file, weight, shape) = (&self.file, format!("{prefix}.weight"), [rows, cols]);
        Ok(match self.packing.embeddings {
            EmbeddingStorage::F32 => DenseMatrix::F32 {
                rows,
                cols,
                values: f32s(file.read_f32(&weight, Some(&shape))?),
            },
            EmbeddingStorage::Bf16 => DenseMatrix::Bf16 {
                rows,
                cols,
                values: file
                    .read_raw(&weight, Dtype::BF16, &shape)?
                    .chunks_exact(2)
                    .map(|b| bf16::from_le_bytes([b[0], b[1]]))
                    .collect(),
            },
            EmbeddingStorage::Int8 => DenseMatrix::Int8 {
                rows,
                cols,
                values: file
                    .read_raw(&weight, Dtype::I8, &shape)?
                    .iter()
                    .map(|&b| b as i8)
                    .collect(),
                scales: self.vector(&format!("{prefix}.weight_scale"), rows)?,
            },
        })
    }

    fn projection(&mut self, prefix: &str, short: &str, rows: usize, cols: usize, eps: f32) -> Result<NativeLinear> {
        let weight = format!("{prefix}.weight");
        let stored_scale = self.vector(&format!("{prefix}.weight_scale"), 1)?[0];
        let file = &self.file;
        let (packed, scale) = match self.packing.format {
            ExportFormat::HfBitnet => {
                let bytes = file.read_raw(&weight, Dtype::U8, &[rows.div_ceil(4), cols])?;
                (
                    pack_kernel(&unpack_hf_bitnet(bytes, rows, cols), rows, cols),
                    stored_scale.recip(),
                )
            }
            ExportFormat::Packed2 => {
                let bytes = file.read_raw(&weight, Dtype::U8, &[rows, padded_cols(cols) / 4])?;
                (bytes.to_vec(), stored_scale)
            }
            ExportFormat::Packed1_6 => {
                let bytes = file.read_raw(&weight, Dtype::U8, &[rows, cols.div_ceil(5)])?;
                (pack_kernel(&unpack_base3(bytes, rows, cols), rows, cols), stored_scale)
            }
            ExportFormat::Gguf => unreachable!("refused by load_native_files"),
        };
        let has_subln = self.packing.format == ExportFormat::HfBitnet || self.subln.covers(short);
        Ok(NativeLinear::Ternary {
            weight: PackedTernary::from_kernel_layout(packed, rows, cols, scale),
            subln: match has_subln {
                true => Some(self.vector(&format!("{prefix}.rms_norm.weight"), cols)?),
                false => None,
            },
            eps,
        })
    }
}
