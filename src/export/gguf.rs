//! The GGUF container, version 3, as ggml's `gguf.cpp` reads it: the magic `GGUF`, the version, the tensor and
//! metadata counts, typed key-value metadata, one info per tensor (name, dimensions innermost first, ggml type,
//! offset into the data section), then the data, each tensor aligned to `general.alignment` (32) bytes.
//! Everything little-endian; strings are a u64 length and UTF-8 bytes.

/// The ggml tensor types this exporter writes (`ggml.h`'s `enum ggml_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GgmlType {
    F32 = 0,
    F16 = 1,
    Bf16 = 30,
    /// Ternary, 256 weights a block: 64 bytes of 2-bit `code + 1` and an f16 scale (`ggml-common.h`).
    Tq2_0 = 35,
}

/// A metadata value (`enum gguf_type`: UINT32 4, INT32 5, FLOAT32 6, BOOL 7, STRING 8, ARRAY 9).
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    U32(u32),
    F32(f32),
    Bool(bool),
    Str(String),
    Strings(Vec<String>),
    I32s(Vec<i32>),
}

pub struct GgufTensor {
    pub name: String,
    /// ggml's `ne`: the innermost (contiguous) dimension first, so a `[rows, cols]` matrix is `[cols, rows]`.
    pub dims: Vec<u64>,
    pub kind: GgmlType,
    pub data: Vec<u8>,
}

pub const ALIGNMENT: usize = 32;

const TYPE_U32: u32 = 4;
const TYPE_I32: u32 = 5;
const TYPE_F32: u32 = 6;
const TYPE_BOOL: u32 = 7;
const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;

fn put_string(out: &mut Vec<u8>, text: &str) {
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text.as_bytes());
}

fn put_value(out: &mut Vec<u8>, value: &MetaValue) {
    match value {
        MetaValue::U32(v) => {
            out.extend(TYPE_U32.to_le_bytes());
            out.extend(v.to_le_bytes());
        }
        MetaValue::F32(v) => {
            out.extend(TYPE_F32.to_le_bytes());
            out.extend(v.to_le_bytes());
        }
        MetaValue::Bool(v) => {
            out.extend(TYPE_BOOL.to_le_bytes());
            out.push(u8::from(*v));
        }
        MetaValue::Str(v) => {
            out.extend(TYPE_STRING.to_le_bytes());
            put_string(out, v);
        }
        MetaValue::Strings(items) => {
            out.extend(TYPE_ARRAY.to_le_bytes());
            out.extend(TYPE_STRING.to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            for item in items {
                put_string(out, item);
            }
        }
        MetaValue::I32s(items) => {
            out.extend(TYPE_ARRAY.to_le_bytes());
            out.extend(TYPE_I32.to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            for item in items {
                out.extend(item.to_le_bytes());
            }
        }
    }
}

fn pad_to_alignment(out: &mut Vec<u8>) {
    out.resize(out.len().div_ceil(ALIGNMENT) * ALIGNMENT, 0);
}

/// The whole file.
pub fn gguf_bytes(metadata: &[(String, MetaValue)], tensors: &[GgufTensor]) -> Vec<u8> {
    let data_bytes: usize = tensors
        .iter()
        .map(|t| t.data.len().div_ceil(ALIGNMENT) * ALIGNMENT)
        .sum();
    let mut out = Vec::with_capacity(data_bytes + (1 << 20));
    out.extend(b"GGUF");
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        put_string(&mut out, key);
        put_value(&mut out, value);
    }
    let mut offset = 0usize;
    for tensor in tensors {
        put_string(&mut out, &tensor.name);
        out.extend((tensor.dims.len() as u32).to_le_bytes());
        for dim in &tensor.dims {
            out.extend(dim.to_le_bytes());
        }
        out.extend((tensor.kind as u32).to_le_bytes());
        out.extend((offset as u64).to_le_bytes());
        offset += tensor.data.len().div_ceil(ALIGNMENT) * ALIGNMENT;
    }
    pad_to_alignment(&mut out);
    for tensor in tensors {
        out.extend(&tensor.data);
        pad_to_alignment(&mut out);
    }
    out
}
