//! Criterion: one projection of HY-MT1.5-1.8B's shapes, f32 and bf16 rows vs the packed ternary × int8 kernel,
//! for one token (decode) and 64 (prefill). `cargo bench --bench ternary_kernel`.

use bitdistill::infer::DenseMatrix;
use bitdistill::ternary::{Int8Activations, PackedTernary};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use half::bf16;

fn projections(c: &mut Criterion) {
    for (rows, cols) in [(2048, 2048), (6144, 2048), (2048, 6144)] {
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 2654435761) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let codes: Vec<i8> = values.iter().map(|v| v.round() as i8).collect();
        let f32_rows = DenseMatrix::F32 {
            rows,
            cols,
            values: values.clone(),
        };
        let bf16_rows = DenseMatrix::Bf16 {
            rows,
            cols,
            values: values.iter().map(|&v| bf16::from_f32(v)).collect(),
        };
        let ternary = PackedTernary::from_codes(&codes, rows, cols, 0.5);
        let mut group = c.benchmark_group(format!("{rows}x{cols}"));
        for tokens in [1, 64] {
            let x: Vec<f32> = (0..tokens * cols)
                .map(|i| ((i * 40503) % 997) as f32 / 498.0 - 1.0)
                .collect();
            group.throughput(Throughput::Elements((rows * cols * tokens) as u64));
            group.bench_with_input(BenchmarkId::new("f32", tokens), &x, |b, x| {
                b.iter(|| f32_rows.forward(x, tokens))
            });
            group.bench_with_input(BenchmarkId::new("bf16", tokens), &x, |b, x| {
                b.iter(|| bf16_rows.forward(x, tokens))
            });
            group.bench_with_input(BenchmarkId::new("ternary-int8", tokens), &x, |b, x| {
                b.iter(|| ternary.forward(&Int8Activations::quantize(x, tokens, cols)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, projections);
criterion_main!(benches);
