//! `bitdistill bench`: throughput measured in one run, printed with ratios (never asserted in tests).

mod decode;
mod dot;
mod eval;
mod forward;
mod kernels;
mod llama_cpp;
mod matmul;
mod train;

use bitdistill::model::HunYuanConfig;

#[derive(clap::Subcommand)]
pub enum Bench {
    /// Forward (prefill) tokens/s of a checkpoint and of a random model 1/8 the width of HY-MT1.5-1.8B.
    Forward(forward::ForwardArgs),
    /// Each WGSL kernel vs its tensor-op reference on wgpu: max abs error, ms of each, ratio.
    Kernels(kernels::KernelsArgs),
    /// One path of `bench kernels --memory` (run by it in a child process).
    #[command(hide = true)]
    KernelsMemoryCase(kernels::MemoryCaseArgs),
    /// Square f32 matmul TFLOP/s per backend (warm-up and autotuning excluded, device synced).
    Matmul(matmul::MatmulArgs),
    /// Stage 2 and Stage 3 training tokens/s and peak memory, each case in its own process.
    Train(train::TrainArgs),
    /// Prefill/decode tokens/s and peak memory: f32 teacher, fake-quant student, packed exports (own processes).
    Decode(decode::DecodeArgs),
    /// Evaluation one sentence at a time vs batched (same sentences, same engine): seconds, speedup, identical.
    Eval(eval::EvalArgs),
    /// The ternary × int8 inner product per CPU path (AVX-512 VNNI, AVX2, NEON, portable): GB/s, ratios.
    Dot(dot::DotArgs),
    /// One case of `bench decode` (run by it in a child process).
    #[command(hide = true)]
    DecodeCase(decode::DecodeCaseArgs),
    /// One case of `bench train` (run by it in a child process, so that peak memory is the case's own).
    #[command(hide = true)]
    TrainCase(train::CaseArgs),
}

/// HY-MT1.5-1.8B at 1/8 of its width: hidden 256, MLP 768, 16/4 heads of 16, all 32 layers, full vocabulary.
pub fn eighth_width_config() -> HunYuanConfig {
    HunYuanConfig::new(120818, 256, 768, 32, 16, 4, 16).with_rope_alpha(1000.0)
}

impl Bench {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Bench::Forward(args) => forward::forward(args),
            Bench::Kernels(args) => kernels::kernels(args),
            Bench::KernelsMemoryCase(args) => kernels::memory_case(args),
            Bench::Matmul(args) => matmul::matmul(args),
            Bench::Train(args) => train::train(args),
            Bench::TrainCase(args) => train::case(args),
            Bench::Decode(args) => decode::decode(args),
            Bench::DecodeCase(args) => decode::decode_case(args),
            Bench::Dot(args) => dot::dot(args),
            Bench::Eval(args) => eval::eval(args),
        }
    }
}
