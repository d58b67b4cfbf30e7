//! Packed ternary export and the CPU engine: the kernel's integer sums are exact, the engine matches the
//! fake-quant student, every layout reloads to the same model, and the commands run exported directories.

mod common;

use std::process::Command;

use bitdistill::backend::BackendKind;
use bitdistill::checkpoint::Checkpoint;
use bitdistill::export::{ExportFormat, export_student, write_export};
use bitdistill::infer::{EmbeddingStorage, NativeLinear, NativeModel, load_native};
use bitdistill::model::{Projection, SublnPlacement};
use bitdistill::quant::int8_codes;
use bitdistill::ternary::{Int8Activations, PackedTernary, TILE_ROWS, TILE_TOKENS, dot_paths, tile_paths};
use burn::module::Param;
use burn::tensor::{Int, Tensor, TensorData};
use common::{fixture_dir, fixture_student, init_student, relative_l2, temp_dir, values};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const IDS: [u32; 10] = [3, 141, 59, 265, 358, 97, 93, 238, 462, 64];

fn random_codes(rng: &mut StdRng, len: usize) -> Vec<i8> {
    (0..len).map(|_| rng.random_range(-1i8..=1)).collect()
}

#[test]
fn kernel_sums_equal_integer_dot_products_exactly() {
    let mut rng = StdRng::seed_from_u64(7);
    for (rows, cols, tokens) in [
        (1, 1, 1),
        (5, 127, 1),
        (33, 128, 3),
        (70, 129, 2),
        (64, 300, 1),
        (3, 2048, 5),
        // Four-row tiles against blocks of four tokens, then the remaining tokens and rows.
        (37, 300, 9),
        (8, 6144, 4),
    ] {
        let codes = random_codes(&mut rng, rows * cols);
        let weight = PackedTernary::from_codes(&codes, rows, cols, 0.37);
        // Activations with outliers, so codes reach −128 and 127.
        let x: Vec<f32> = (0..tokens * cols)
            .map(|i| rng.random_range(-1.0f32..1.0) * if i % 17 == 0 { 9.0 } else { 1.0 })
            .collect();
        let quantized = Int8Activations::quantize(&x, tokens, cols);
        let y = weight.forward(&quantized);
        let row_bytes = weight.packed().len() / rows;
        for t in 0..tokens {
            let a = quantized.token(t);
            for r in 0..rows {
                let exact: i64 = (0..cols).map(|c| codes[r * cols + c] as i64 * a[c] as i64).sum();
                assert_eq!(
                    weight.dot(r, &quantized, t) as i64,
                    exact,
                    "{rows}x{cols} row {r} token {t}"
                );
                // Every inner-product path this CPU runs, not only the one the kernel picked.
                let row = &weight.packed()[r * row_bytes..(r + 1) * row_bytes];
                for path in dot_paths() {
                    assert_eq!(((path.dot)(row, a) - quantized.sums[t]) as i64, exact, "{}", path.name);
                }
                assert_eq!(
                    y[t * rows + r],
                    exact as f32 * (0.37 / quantized.scales[t]),
                    "scaled once"
                );
            }
        }
    }
}

/// Every tile path this CPU runs, both shapes, against i64 sums: rows of one to three blocks and a partial one,
/// activation codes over the whole i8 range.
#[test]
fn every_tile_path_equals_integer_dot_products_exactly() {
    let mut rng = StdRng::seed_from_u64(11);
    for cols in [1, 127, 128, 300, 384] {
        let codes = random_codes(&mut rng, TILE_ROWS * cols);
        let weight = PackedTernary::from_codes(&codes, TILE_ROWS, cols, 1.0);
        // Codes over the whole i8 range, −128 included (the i16 bound of the AVX2 path), zero in the padding.
        let width = cols.div_ceil(128) * 128;
        let mut activation_codes = vec![0i8; TILE_TOKENS * width];
        for t in 0..TILE_TOKENS {
            for c in 0..cols {
                activation_codes[t * width + c] = match c {
                    0 => -128,
                    1 => 127,
                    _ => rng.random_range(-128i8..=127),
                };
            }
        }
        let sums = activation_codes
            .chunks_exact(width)
            .map(|x| x.iter().map(|&c| c as i32).sum())
            .collect();
        let quantized = Int8Activations {
            tokens: TILE_TOKENS,
            cols,
            codes: activation_codes,
            scales: vec![1.0; TILE_TOKENS],
            sums,
        };
        let row_bytes = weight.packed().len() / TILE_ROWS;
        let rows: [&[u8]; TILE_ROWS] = std::array::from_fn(|r| &weight.packed()[r * row_bytes..(r + 1) * row_bytes]);
        let xs: [&[i8]; TILE_TOKENS] = std::array::from_fn(|t| quantized.token(t));
        let exact = |r: usize, t: usize| -> i64 {
            (0..cols)
                .map(|c| codes[r * cols + c] as i64 * xs[t][c] as i64)
                .sum::<i64>()
                + quantized.sums[t] as i64
        };
        for path in tile_paths() {
            let block = (path.block)(&rows, &xs);
            for t in 0..TILE_TOKENS {
                let single = (path.rows)(&rows, xs[t]);
                for r in 0..TILE_ROWS {
                    assert_eq!(
                        block[r][t] as i64,
                        exact(r, t),
                        "{} block, {cols} columns, row {r} token {t}",
                        path.name
                    );
                    assert_eq!(
                        single[r] as i64,
                        exact(r, t),
                        "{} rows, {cols} columns, row {r} token {t}",
                        path.name
                    );
                }
            }
        }
    }
}

#[test]
fn engine_activation_codes_equal_the_training_quantizer() {
    let device = BackendKind::Ndarray.device();
    let mut rng = StdRng::seed_from_u64(3);
    let (tokens, cols) = (4, 200);
    let x: Vec<f32> = (0..tokens * cols).map(|_| rng.random_range(-3.0f32..3.0)).collect();
    let (codes, scales) = int8_codes(Tensor::<2>::from_data(
        TensorData::new(x.clone(), [tokens, cols]),
        &device,
    ));
    let quantized = Int8Activations::quantize(&x, tokens, cols);
    let engine: Vec<f32> = (0..tokens)
        .flat_map(|t| quantized.token(t)[..cols].iter().map(|&c| c as f32))
        .collect();
    assert_eq!(engine, values(codes));
    assert_eq!(quantized.scales, values(scales));
}

fn burn_logits(student: &bitdistill::model::HunYuan, device: &burn::tensor::Device) -> Vec<f32> {
    let ids: Vec<i64> = IDS.iter().map(|&i| i as i64).collect();
    values(student.logits(Tensor::<2, Int>::from_data(
        TensorData::new(ids, [1, IDS.len()]),
        device,
    )))
}

/// The engine against the fake-quant burn student: same codes and scales, different summation order, so a
/// token sitting on an int8 rounding boundary may move one step. Bound 1e-3, as for the independent f64 check.
#[test]
fn engine_matches_the_fake_quant_student_and_every_layout_reloads_exactly() {
    let device = BackendKind::Ndarray.device();
    for placement in [SublnPlacement::Paper, SublnPlacement::All] {
        let (config, student) = fixture_student(placement, &device);
        let reference = burn_logits(&student, &device);
        let engine = NativeModel::from_burn(&student, &config, EmbeddingStorage::F32);
        let logits = engine.forward(&IDS, &mut engine.new_cache(), true);
        let error = relative_l2(&logits, &reference);
        println!("{placement:?}: engine vs fake-quant student, logits relative L2 {error:.2e}");
        assert!(error < 1e-3, "{placement:?}: {error}");

        // Cached decoding gives the last rows of the full pass.
        let mut cache = engine.new_cache();
        engine.forward(&IDS[..6], &mut cache, false);
        let vocab = config.vocab_size;
        for (i, &id) in IDS[6..].iter().enumerate() {
            let step = engine.forward(&[id], &mut cache, false);
            let full = &logits[(6 + i) * vocab..(7 + i) * vocab];
            assert!(relative_l2(&step, full) < 1e-5, "cached step {i}");
        }

        for format in [ExportFormat::Packed2, ExportFormat::Packed1_6, ExportFormat::HfBitnet] {
            if format == ExportFormat::HfBitnet && placement != SublnPlacement::All {
                continue;
            }
            let dir = temp_dir(&format!("export-{placement:?}-{}", format.name()));
            write_export(&engine, format, &dir).unwrap();
            let loaded = load_native(&dir).unwrap();
            let reloaded = loaded.forward(&IDS, &mut loaded.new_cache(), true);
            assert_eq!(
                reloaded,
                logits,
                "{placement:?} {}: reloaded logits differ",
                format.name()
            );
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}

/// A student whose layer-0 k_proj sits at and around ±Δ/2: the CPU engine and every export keep exactly the
/// official code's codes and Δ.
#[test]
fn engine_and_exports_keep_the_official_codes_at_half_delta() {
    let device = BackendKind::Ndarray.device();
    let (config, mut student) = fixture_student(SublnPlacement::All, &device);
    let (rows, cols) = (config.kv_dim(), config.hidden_size);
    let (weights, expected) = common::threshold_tiles(rows * cols);
    let Projection::Ternary(k_proj) = &mut student.layers[0].self_attn.k_proj else {
        panic!("a student's k_proj is ternary")
    };
    k_proj.weight = Param::from_tensor(Tensor::from_data(TensorData::new(weights, [rows, cols]), &device));
    let check = |model: &NativeModel, label: &str| {
        let NativeLinear::Ternary { weight, .. } = model.layers[0].projections()[1] else {
            panic!("{label}: k_proj is not ternary")
        };
        assert_eq!(weight.scale, 0.25, "{label}: Δ");
        assert_eq!(weight.codes(), expected, "{label}: codes");
    };
    let engine = NativeModel::from_burn(&student, &config, EmbeddingStorage::F32);
    check(&engine, "engine");
    for format in [ExportFormat::Packed2, ExportFormat::Packed1_6, ExportFormat::HfBitnet] {
        let dir = temp_dir(&format!("export-threshold-{}", format.name()));
        write_export(&engine, format, &dir).unwrap();
        check(&load_native(&dir).unwrap(), format.name());
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn linear_bytes_shrink_by_the_packing_ratio() {
    let device = BackendKind::Ndarray.device();
    let (config, student) = fixture_student(SublnPlacement::All, &device);
    let (hidden, layers, vocab) = (config.hidden_size, config.num_hidden_layers, config.vocab_size);
    let linears = config.param_breakdown().linears;
    for (storage, embedding_bytes) in [
        (EmbeddingStorage::Bf16, 2 * vocab * hidden),
        (EmbeddingStorage::Int8, vocab * hidden + 4 * vocab),
        (EmbeddingStorage::F32, 4 * vocab * hidden),
    ] {
        let engine = NativeModel::from_burn(&student, &config, storage);
        let dir = temp_dir(&format!("bytes-{storage:?}"));
        let summary = write_export(&engine, ExportFormat::Packed1_6, &dir).unwrap();
        assert_eq!(summary.stored.embeddings, embedding_bytes);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let engine = NativeModel::from_burn(&student, &config, EmbeddingStorage::Bf16);
    let dir = temp_dir("bytes-formats");
    // Per projection: packed codes and a 4-byte Δ (SubLN scales count as norms).
    let extra = 4 * 7 * layers;
    let packed: Vec<(ExportFormat, usize)> = [ExportFormat::HfBitnet, ExportFormat::Packed2, ExportFormat::Packed1_6]
        .into_iter()
        .map(|format| {
            (
                format,
                write_export(&engine, format, &dir).unwrap().stored.linears - extra,
            )
        })
        .collect();
    let codes_bytes = |f: fn(usize, usize) -> usize| -> usize {
        (0..layers)
            .flat_map(|l| bitdistill::export::projection_names(l, &config))
            .map(|(_, _, rows, cols)| f(rows, cols))
            .sum()
    };
    assert_eq!(packed[0].1, codes_bytes(|r, c| r.div_ceil(4) * c));
    assert_eq!(packed[1].1, codes_bytes(|r, c| r * c.div_ceil(128) * 32));
    assert_eq!(packed[2].1, codes_bytes(|r, c| r * c.div_ceil(5)));
    assert_eq!(codes_bytes(|r, c| r * c), linears);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn hf_bitnet_refuses_what_it_cannot_express_and_burn_refuses_packed_directories() {
    let root = temp_dir("export-errors");
    let student = root.join("student");
    init_student(&student, "paper");
    let message = export_student(
        &student,
        &root.join("hf"),
        ExportFormat::HfBitnet,
        EmbeddingStorage::Bf16,
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("hf-bitnet can only express SubLN `all`")
            && message.contains("has SubLN `paper`")
            && message.contains("config.json"),
        "{message}"
    );
    let message = export_student(
        &fixture_dir(),
        &root.join("t"),
        ExportFormat::Packed2,
        EmbeddingStorage::Bf16,
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("not a student"), "{message}");

    let packed = root.join("packed");
    export_student(&student, &packed, ExportFormat::Packed2, EmbeddingStorage::Int8).unwrap();
    let message = Checkpoint::open(&packed)
        .unwrap()
        .load_model(&BackendKind::Ndarray.device())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("packed packed2 export runs on the ternary CPU engine"),
        "{message}"
    );
    let message = export_student(
        &packed,
        &root.join("again"),
        ExportFormat::Packed2,
        EmbeddingStorage::Bf16,
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("already a packed export"), "{message}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn cli_exports_and_runs_logits_and_generate_on_the_export() {
    let root = temp_dir("export-cli");
    let student = root.join("student");
    init_student(&student, "all");
    let bin = env!("CARGO_BIN_EXE_bitdistill");
    let mut outputs = Vec::new();
    for (format, engine) in [("hf-bitnet", "auto"), ("packed1.6", "auto"), ("packed2", "auto")] {
        let out_dir = root.join(format);
        let out = Command::new(bin)
            .args([
                "export",
                "--student",
                student.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
            ])
            .args(["--format", format, "--embeddings", "f32", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["format"], format);
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("config.json")).unwrap()).unwrap();
        assert_eq!(config["bitdistill"]["packing"]["format"], format);
        if format == "hf-bitnet" {
            assert_eq!(config["quantization_config"]["quant_method"], "bitnet");
            assert_eq!(config["quantization_config"]["linear_class"], "bitlinear");
            assert_eq!(config["quantization_config"]["use_rms_norm"], true);
        }
        let out = Command::new(bin)
            .args(["generate", "--model", out_dir.to_str().unwrap(), "--engine", engine])
            .args(["--prompt-ids", "3,141,59", "--max-new-tokens", "6", "--ignore-eos"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        outputs.push(json["output_ids"].clone());
    }
    // The same codes and f32 embeddings in three layouts: the same greedy tokens.
    assert_eq!(outputs[0].as_array().unwrap().len(), 6);
    assert!(outputs.iter().all(|o| *o == outputs[0]), "{outputs:?}");
    // The latent student through the CPU engine quantizes exactly as export does.
    let out = Command::new(bin)
        .args(["generate", "--model", student.to_str().unwrap(), "--engine", "native"])
        .args(["--prompt-ids", "3,141,59", "--max-new-tokens", "6", "--ignore-eos"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["output_ids"], outputs[0]);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn engine_runs_the_fixture_teacher_like_burn() {
    let device = BackendKind::Ndarray.device();
    let teacher = Checkpoint::open(&fixture_dir()).unwrap().load_model(&device).unwrap();
    let engine = load_native(&fixture_dir()).unwrap();
    assert!(matches!(
        engine.layers[0].q_proj,
        bitdistill::infer::NativeLinear::Dense(_)
    ));
    let logits = engine.forward(&IDS, &mut engine.new_cache(), true);
    let error = relative_l2(&logits, &burn_logits(&teacher, &device));
    assert!(error < 1e-5, "{error}");
}
