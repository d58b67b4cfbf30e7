//! `export --format gguf`: the file read back by a GGUF reader written here from ggml's `gguf.cpp` layout (not
//! the exporter's writer), its metadata against config.json and tokenizer.json, every tensor where llama.cpp
//! looks for it, and the TQ2_0 linears dequantized as ggml's `dequantize_row_tq2_0` does, equal to the ternary
//! codes and scale computed here from the student's latent weights. That llama.cpp itself decodes the file to
//! our greedy tokens is `docs/llama-cpp-check.sh`'s job (it builds llama.cpp).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bitdistill::checkpoint::SafetensorsFile;
use bitdistill::export::{ExportFormat, export_student};
use bitdistill::infer::EmbeddingStorage;
use common::temp_dir;
use half::{bf16, f16};

#[derive(Debug, PartialEq)]
enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Array(Vec<Value>),
}

struct Tensor {
    dims: Vec<u64>,
    kind: u32,
    offset: usize,
}

struct Gguf {
    meta: HashMap<String, Value>,
    tensors: HashMap<String, Tensor>,
    /// The tensors in file order.
    names: Vec<String>,
    data: Vec<u8>,
}

/// A little-endian cursor over the file.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let slice = &self.bytes[self.at..self.at + n];
        self.at += n;
        slice
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn string(&mut self) -> String {
        let len = self.u64() as usize;
        String::from_utf8(self.take(len).to_vec()).unwrap()
    }
    /// `gguf_type`: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64, 11 i64, 12 f64.
    fn value(&mut self, kind: u32) -> Value {
        match kind {
            0 => Value::Int(self.take(1)[0] as i64),
            1 => Value::Int(self.take(1)[0] as i8 as i64),
            2 => Value::Int(u16::from_le_bytes(self.take(2).try_into().unwrap()) as i64),
            3 => Value::Int(i16::from_le_bytes(self.take(2).try_into().unwrap()) as i64),
            4 => Value::Int(self.u32() as i64),
            5 => Value::Int(self.u32() as i32 as i64),
            6 => Value::Float(f32::from_bits(self.u32()) as f64),
            7 => Value::Bool(self.take(1)[0] != 0),
            8 => Value::Str(self.string()),
            9 => {
                let inner = self.u32();
                let len = self.u64();
                Value::Array((0..len).map(|_| self.value(inner)).collect())
            }
            10 => Value::Int(self.u64() as i64),
            11 => Value::Int(self.u64() as i64),
            12 => Value::Float(f64::from_bits(self.u64())),
            other => panic!("unknown gguf_type {other}"),
        }
    }
}

fn read_gguf(path: &Path) -> Gguf {
    let bytes = std::fs::read(path).unwrap();
    let mut r = Reader { bytes: &bytes, at: 0 };
    assert_eq!(r.take(4), b"GGUF");
    assert_eq!(r.u32(), 3, "GGUF version");
    let (tensor_count, meta_count) = (r.u64(), r.u64());
    let mut meta = HashMap::new();
    for _ in 0..meta_count {
        let key = r.string();
        let kind = r.u32();
        let value = r.value(kind);
        assert!(meta.insert(key.clone(), value).is_none(), "key {key} twice");
    }
    let mut tensors = HashMap::new();
    let mut names = Vec::new();
    for _ in 0..tensor_count {
        let name = r.string();
        let dims = (0..r.u32()).map(|_| r.u64()).collect();
        let kind = r.u32();
        let offset = r.u64() as usize;
        names.push(name.clone());
        assert!(
            tensors.insert(name.clone(), Tensor { dims, kind, offset }).is_none(),
            "tensor {name} twice"
        );
    }
    let alignment = match meta.get("general.alignment") {
        Some(Value::Int(a)) => *a as usize,
        _ => 32,
    };
    let start = r.at.div_ceil(alignment) * alignment;
    Gguf {
        meta,
        tensors,
        names,
        data: bytes[start..].to_vec(),
    }
}

const F32: u32 = 0;
const BF16: u32 = 30;
const TQ2_0: u32 = 35;

/// Bytes of a tensor of `elements` values of `kind` (TQ2_0: 66 bytes per 256 weights).
fn tensor_bytes(kind: u32, elements: usize) -> usize {
    match kind {
        F32 => 4 * elements,
        BF16 => 2 * elements,
        TQ2_0 => elements / 256 * 66,
        other => panic!("unexpected ggml type {other}"),
    }
}

impl Gguf {
    fn bytes_of(&self, name: &str) -> &[u8] {
        let t = &self.tensors[name];
        let elements = t.dims.iter().product::<u64>() as usize;
        &self.data[t.offset..t.offset + tensor_bytes(t.kind, elements)]
    }

    fn int(&self, key: &str) -> i64 {
        match &self.meta[key] {
            Value::Int(v) => *v,
            other => panic!("{key}: {other:?}"),
        }
    }

    fn float(&self, key: &str) -> f64 {
        match &self.meta[key] {
            Value::Float(v) => *v,
            other => panic!("{key}: {other:?}"),
        }
    }

    fn text(&self, key: &str) -> &str {
        match &self.meta[key] {
            Value::Str(v) => v,
            other => panic!("{key}: {other:?}"),
        }
    }

    fn strings(&self, key: &str) -> Vec<&str> {
        match &self.meta[key] {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => s.as_str(),
                    other => panic!("{key}: {other:?}"),
                })
                .collect(),
            other => panic!("{key}: {other:?}"),
        }
    }
}

/// ggml's `dequantize_row_tq2_0`: per 256-weight block, for each 32-byte half j, shift l and byte m, weight
/// `128·j + 32·l + m` is `((qs[32j + m] >> 2l) & 3) − 1` times the block's f16 `d` (after the 64 code bytes).
fn dequantize_tq2_0(bytes: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(bytes.len() / 66 * 256);
    for block in bytes.chunks_exact(66) {
        let d = f16::from_le_bytes([block[64], block[65]]).to_f32();
        for j in 0..2 {
            for l in 0..4 {
                for m in 0..32 {
                    let q = (block[32 * j + m] >> (2 * l)) & 3;
                    out.push((q as f32 - 1.0) * d);
                }
            }
        }
    }
    out
}

/// The official quantizer on the student's latent weight, computed here: `Δ = max(mean|W|, 1e-5)`,
/// `code = RoundClip(W · (1/Δ), −1, 1)` (round half to even); the file holds `f16(Δ) · code`.
fn expected_ternary(weight: &[f32]) -> Vec<f32> {
    let mean = weight.iter().map(|w| w.abs() as f64).sum::<f64>() / weight.len() as f64;
    let delta = (mean as f32).max(1e-5);
    let d = f16::from_f32(delta).to_f32();
    let inverse = 1.0 / delta;
    weight
        .iter()
        .map(|w| (w * inverse).round_ties_even().clamp(-1.0, 1.0) * d)
        .collect()
}

fn tiny_teacher() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/tiny-hymt")
}

fn init_tiny_student(dir: &Path, subln: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_bitdistill"))
        .args(["student", "init", "--teacher", tiny_teacher().to_str().unwrap()])
        .args(["--out", dir.to_str().unwrap(), "--subln", subln])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn gguf_export_holds_llama_cpp_keys_tokenizer_and_the_students_ternary_weights() {
    let root = temp_dir("gguf-export");
    let student = root.join("student");
    init_tiny_student(&student, "none");
    let path = root.join("student.gguf");
    let out = Command::new(env!("CARGO_BIN_EXE_bitdistill"))
        .args([
            "export",
            "--student",
            student.to_str().unwrap(),
            "--out",
            path.to_str().unwrap(),
        ])
        .args(["--format", "gguf", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["format"], "gguf");
    let gguf = read_gguf(&path);
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tiny_teacher().join("config.json")).unwrap()).unwrap();
    let field = |name: &str| config[name].as_i64().unwrap();

    // Hyper-parameters under llama.cpp's names for HunYuanDenseV1.
    assert_eq!(gguf.text("general.architecture"), "hunyuan-dense");
    let arch = |key: &str| format!("hunyuan-dense.{key}");
    for (key, name) in [
        ("block_count", "num_hidden_layers"),
        ("embedding_length", "hidden_size"),
        ("feed_forward_length", "intermediate_size"),
        ("attention.head_count", "num_attention_heads"),
        ("attention.head_count_kv", "num_key_value_heads"),
        ("attention.key_length", "head_dim"),
        ("attention.value_length", "head_dim"),
        ("context_length", "max_position_embeddings"),
        ("vocab_size", "vocab_size"),
    ] {
        assert_eq!(gguf.int(&arch(key)), field(name), "{key}");
    }
    assert!((gguf.float(&arch("attention.layer_norm_rms_epsilon")) - 1e-5).abs() < 1e-12);
    // HY's NTK alpha folded into the base as the converter does: theta · alpha^(d/(d−2)), d = 64.
    let base = 10000.0 * 1000f64.powf(64.0 / 62.0);
    assert!(
        (gguf.float(&arch("rope.freq_base")) / base - 1.0).abs() < 1e-6,
        "rope base"
    );
    assert_eq!(gguf.text(&arch("rope.scaling.type")), "none");

    // The vocabulary: every token of tokenizer.json at its id, the merges in order, special tokens as control.
    let tokenizer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tiny_teacher().join("tokenizer.json")).unwrap()).unwrap();
    assert_eq!(gguf.text("tokenizer.ggml.model"), "gpt2");
    let tokens = gguf.strings("tokenizer.ggml.tokens");
    assert_eq!(tokens.len() as i64, field("vocab_size"));
    for (token, id) in tokenizer["model"]["vocab"].as_object().unwrap() {
        assert_eq!(tokens[id.as_u64().unwrap() as usize], token);
    }
    let Value::Array(types) = &gguf.meta["tokenizer.ggml.token_type"] else {
        panic!("token types")
    };
    for added in tokenizer["added_tokens"].as_array().unwrap() {
        let id = added["id"].as_u64().unwrap() as usize;
        assert_eq!(tokens[id], added["content"].as_str().unwrap());
        let control = added["special"] == true;
        assert_eq!(
            types[id],
            Value::Int(if control { 3 } else { 1 }),
            "{}",
            added["content"]
        );
    }
    let merges: Vec<String> = tokenizer["model"]["merges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| match m {
            serde_json::Value::String(s) => s.clone(),
            pair => format!("{} {}", pair[0].as_str().unwrap(), pair[1].as_str().unwrap()),
        })
        .collect();
    assert_eq!(gguf.strings("tokenizer.ggml.merges"), merges);
    assert_eq!(gguf.int("tokenizer.ggml.bos_token_id"), field("bos_token_id"));
    assert_eq!(
        gguf.int("tokenizer.ggml.eos_token_id"),
        config["eos_token_id"][0].as_i64().unwrap()
    );
    assert!(gguf.text("tokenizer.chat_template").contains("add_generation_prompt"));

    // Tensors: the embedding (tied, so no `output`), per layer 7 linears and 4 norms, the final norm.
    let layers = field("num_hidden_layers") as usize;
    assert_eq!(gguf.names.len(), 1 + 11 * layers + 1);
    assert!(!gguf.tensors.contains_key("output.weight"), "the lm_head is tied");
    let (hidden, mlp, vocab) = (
        field("hidden_size") as u64,
        field("intermediate_size") as u64,
        field("vocab_size") as u64,
    );
    let kv = (field("num_key_value_heads") * field("head_dim")) as u64;
    let weights = SafetensorsFile::open(&student.join("model.safetensors")).unwrap();
    let latent = |name: &str| weights.read_f32(name, None).unwrap().try_into_vec_as::<f32>().unwrap();
    let embed = latent("model.embed_tokens.weight");
    let embedding = gguf.bytes_of("token_embd.weight");
    assert_eq!(
        (
            gguf.tensors["token_embd.weight"].dims.clone(),
            gguf.tensors["token_embd.weight"].kind
        ),
        (vec![hidden, vocab], BF16)
    );
    for (i, w) in embed.iter().enumerate() {
        assert_eq!(
            embedding[2 * i..2 * i + 2],
            bf16::from_f32(*w).to_le_bytes(),
            "embedding {i}"
        );
    }
    let linears = [
        ("attn_q", "self_attn.q_proj", [hidden, hidden]),
        ("attn_k", "self_attn.k_proj", [hidden, kv]),
        ("attn_v", "self_attn.v_proj", [hidden, kv]),
        ("attn_output", "self_attn.o_proj", [hidden, hidden]),
        ("ffn_gate", "mlp.gate_proj", [hidden, mlp]),
        ("ffn_up", "mlp.up_proj", [hidden, mlp]),
        ("ffn_down", "mlp.down_proj", [mlp, hidden]),
    ];
    for layer in 0..layers {
        for (ours, theirs, dims) in linears {
            let name = format!("blk.{layer}.{ours}.weight");
            let tensor = &gguf.tensors[&name];
            assert_eq!((tensor.dims.as_slice(), tensor.kind), (&dims[..], TQ2_0), "{name}");
            let weight = latent(&format!("model.layers.{layer}.{theirs}.weight"));
            assert_eq!(
                dequantize_tq2_0(gguf.bytes_of(&name)),
                expected_ternary(&weight),
                "{name}"
            );
        }
        for (ours, theirs) in [
            ("attn_norm", "input_layernorm"),
            ("ffn_norm", "post_attention_layernorm"),
            ("attn_q_norm", "self_attn.query_layernorm"),
            ("attn_k_norm", "self_attn.key_layernorm"),
        ] {
            let name = format!("blk.{layer}.{ours}.weight");
            let want = latent(&format!("model.layers.{layer}.{theirs}.weight"));
            let got: Vec<f32> = gguf
                .bytes_of(&name)
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            assert_eq!((gguf.tensors[&name].kind, got), (F32, want), "{name}");
        }
    }
    // Every tensor aligned, inside the data section, none overlapping the next.
    let mut spans: Vec<(usize, usize)> = gguf
        .names
        .iter()
        .map(|n| (gguf.tensors[n].offset, gguf.bytes_of(n).len()))
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].0 + pair[0].1 <= pair[1].0, "overlapping tensors");
    }
    assert!(spans.iter().all(|(offset, _)| offset % 32 == 0), "aligned to 32");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn gguf_export_refuses_subln_and_int8_embeddings_saying_why() {
    let root = temp_dir("gguf-refusals");
    let student = root.join("student");
    init_tiny_student(&student, "all");
    let message = export_student(
        &student,
        &root.join("a.gguf"),
        ExportFormat::Gguf,
        EmbeddingStorage::Bf16,
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("subln = \"none\"") && message.contains("has SubLN `all`") && message.contains("config.json"),
        "{message}"
    );
    let plain = root.join("plain");
    init_tiny_student(&plain, "none");
    let message = export_student(&plain, &root.join("b.gguf"), ExportFormat::Gguf, EmbeddingStorage::Int8)
        .unwrap_err()
        .to_string();
    assert!(message.contains("no int8-per-row type"), "{message}");
    assert!(
        !root.join("a.gguf").exists() && !root.join("b.gguf").exists(),
        "nothing written"
    );
    std::fs::remove_dir_all(root).unwrap();
}
