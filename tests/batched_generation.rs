//! Batched generation: every row of a batch gives what it gives alone, on burn and on the CPU engine, greedy
//! and sampled, through rows that join late, finish early and are left-padded.

mod common;

use std::ops::ControlFlow;
use std::path::PathBuf;

use bitdistill::backend::BackendKind;
use bitdistill::data::read_pairs;
use bitdistill::eval::evaluate;
use bitdistill::generate::{Engine, GenerationConfig, LanguageModel, Loaded, generate, generate_batch};
use bitdistill::infer::{NativeModel, Segment};
use bitdistill::model::{KvCache, RowCache};
use burn::tensor::{Int, Tensor, TensorData};

fn assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets")
}

fn open(dir: &str, engine: Engine) -> Loaded {
    Loaded::open(&assets().join(dir), None, engine, BackendKind::Flex).unwrap()
}

/// Prompts of different lengths (so rows are left-padded and join in several prefill groups).
fn prompts(count: usize) -> Vec<Vec<u32>> {
    (0..count)
        .map(|i| {
            (0..5 + (i * 7) % 23)
                .map(|t| ((i * 131 + t * 17) % 7000 + 10) as u32)
                .collect()
        })
        .collect()
}

fn one_at_a_time(model: &dyn LanguageModel, prompts: &[Vec<u32>], config: &GenerationConfig) -> Vec<Vec<u32>> {
    prompts
        .iter()
        .map(|prompt| generate(model, prompt, config, |_| ControlFlow::Continue(())))
        .collect()
}

#[test]
fn batched_evaluation_of_the_bundled_teacher_gives_the_one_at_a_time_hypotheses() {
    let loaded = open("tiny-hymt", Engine::Burn);
    let translator = loaded.translator().unwrap();
    let mut pairs = read_pairs(&assets().join("data/test.jsonl"), ("en", "pt")).unwrap();
    pairs.truncate(40);
    let generation = GenerationConfig {
        max_new_tokens: 48,
        ..GenerationConfig::default()
    };
    let single = evaluate(&translator, &pairs, &generation, 1, |_, _| {}).unwrap();
    // 8 rows for 40 sentences: rows join as others stop, several times.
    let batched = evaluate(&translator, &pairs, &generation, 8, |_, _| {}).unwrap();
    assert_eq!(batched.hypotheses, single.hypotheses);
    assert_eq!(batched.generated_tokens, single.generated_tokens);
    assert_eq!(batched.pairs, single.pairs);
    // The case is not trivial: translations of many lengths, so rows finished at different steps.
    let mut lengths: Vec<usize> = single.hypotheses.iter().map(String::len).collect();
    lengths.sort_unstable();
    lengths.dedup();
    assert!(lengths.len() > 15, "{lengths:?}");
}

#[test]
fn batched_greedy_tokens_equal_one_at_a_time_on_burn_and_the_cpu_engine() {
    let config = GenerationConfig {
        max_new_tokens: 12,
        stop_tokens: vec![4, 2, 9],
        ..GenerationConfig::default()
    };
    let prompts = prompts(13);
    for (dir, engine) in [
        ("tiny-hymt", Engine::Burn),
        ("tiny-hymt", Engine::Native),
        ("tiny-hymt-student", Engine::Auto),
    ] {
        let loaded = open(dir, engine);
        let model = loaded.language_model();
        let alone = one_at_a_time(model, &prompts, &config);
        let mut finished = Vec::new();
        let batched = generate_batch(model, &prompts, &config, 4, |row, tokens| {
            finished.push((row, tokens.len()))
        });
        assert_eq!(batched, alone, "{dir} on {}", loaded.engine);
        // Every prompt finished once, and not all in prompt order (rows joined and left as they stopped).
        let mut rows: Vec<usize> = finished.iter().map(|&(row, _)| row).collect();
        assert_ne!(rows, (0..prompts.len()).collect::<Vec<_>>());
        rows.sort_unstable();
        assert_eq!(rows, (0..prompts.len()).collect::<Vec<_>>());
    }
}

#[test]
fn sampled_rows_draw_what_each_draws_alone() {
    let config = GenerationConfig {
        max_new_tokens: 10,
        repetition_penalty: 1.05,
        ..GenerationConfig::hy_mt_sampling(11)
    };
    let prompts = prompts(7);
    for engine in [Engine::Native, Engine::Burn] {
        let loaded = open("tiny-hymt", engine);
        let model = loaded.language_model();
        let alone = one_at_a_time(model, &prompts, &config);
        assert_eq!(generate_batch(model, &prompts, &config, 3, |_, _| {}), alone);
        // The draws differ between prompts: sampling is on.
        assert!(alone.iter().any(|tokens| tokens != &alone[0]));
    }
}

#[test]
fn engine_segments_are_bit_identical_to_sequences_run_alone() {
    let loaded = open("tiny-hymt-student", Engine::Auto);
    let bitdistill::generate::LoadedModel::Native(engine) = &loaded.model else {
        panic!("a packed student runs on the CPU engine");
    };
    let check = |engine: &NativeModel| {
        let (a, b, c) = (vec![11u32, 500, 7, 42, 9], vec![77u32], vec![3u32, 3, 900]);
        // Alone: a in two feeds, b and c in one.
        let mut alone = [engine.new_cache(), engine.new_cache(), engine.new_cache()];
        engine.forward(&a[..2], &mut alone[0], false);
        let want = [
            engine.forward(&a[2..], &mut alone[0], false),
            engine.forward(&b, &mut alone[1], false),
            engine.forward(&c, &mut alone[2], false),
        ];
        let mut caches = [engine.new_cache(), engine.new_cache(), engine.new_cache()];
        engine.forward(&a[..2], &mut caches[0], false);
        let [ca, cb, cc] = &mut caches;
        let got = engine.forward_batch(&mut [
            Segment {
                ids: &a[2..],
                cache: ca,
            },
            Segment { ids: &b, cache: cb },
            Segment { ids: &c, cache: cc },
        ]);
        assert_eq!(got, want);
        assert_eq!(caches.map(|c| c.positions()), [5, 1, 3]);
    };
    check(engine);
    let teacher = open("tiny-hymt", Engine::Native);
    let bitdistill::generate::LoadedModel::Native(teacher) = &teacher.model else {
        panic!("asked for the CPU engine");
    };
    check(teacher);
}

#[test]
fn burn_rows_match_each_sequence_alone_through_padding_leaving_and_joining() {
    let loaded = open("tiny-hymt", Engine::Burn);
    let bitdistill::generate::LoadedModel::Burn(model) = &loaded.model else {
        panic!("asked for burn");
    };
    let device = BackendKind::Flex.device();
    let ids = |ids: &[u32]| {
        let values: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
        Tensor::<2, Int>::from_data(TensorData::new(values, [1, ids.len()]), &device)
    };
    let sequences: [Vec<u32>; 3] = [vec![5, 60, 700, 8, 90, 1000], vec![33, 44], vec![1, 2, 3, 4]];
    // Alone: each sequence in the feeds the batch gives it below.
    let feeds: [[&[u32]; 3]; 3] = [
        [&sequences[0][..3], &sequences[1][..1], &sequences[2][..4]],
        [&sequences[0][3..5], &sequences[1][1..], &[]],
        [&sequences[0][5..], &[], &[]],
    ];
    let mut alone: Vec<Vec<Vec<f32>>> = Vec::new();
    for row in 0..3 {
        let mut cache = KvCache::new(model.num_layers());
        let mut logits = Vec::new();
        for step in &feeds {
            if !step[row].is_empty() {
                logits.push(common::values(model.last_logits(ids(step[row]), &mut cache)));
            }
        }
        alone.push(logits);
    }
    let close = |got: &[f32], want: &[f32]| {
        let error = common::relative_l2(got, want);
        assert!(error < 1e-5, "relative error {error}");
    };
    let rows_of = |logits: Tensor<2>| -> Vec<Vec<f32>> {
        let vocab = logits.dims()[1];
        common::values(logits).chunks(vocab).map(<[f32]>::to_vec).collect()
    };
    // Rows 0 and 2 start together, row 0 left-padded to row 2's four tokens.
    let mut batch = RowCache::new(model.num_layers(), 2);
    let first = rows_of(model.forward_rows(&[feeds[0][0], feeds[0][2]], &mut batch));
    close(&first[0], &alone[0][0]);
    close(&first[1], &alone[2][0]);
    // Row 2 leaves; row 1 joins through its own prefill and is appended (padded in front to the batch's length).
    batch.keep_rows(&[0]);
    let mut joining = RowCache::new(model.num_layers(), 1);
    close(
        &rows_of(model.forward_rows(&[feeds[0][1]], &mut joining))[0],
        &alone[1][0],
    );
    batch.append(joining);
    // Uneven feeds: row 1's single token is padded to row 0's two, in the middle of its cache.
    let second = rows_of(model.forward_rows(&[feeds[1][0], feeds[1][1]], &mut batch));
    close(&second[0], &alone[0][1]);
    close(&second[1], &alone[1][1]);
    batch.keep_rows(&[0]);
    close(
        &rows_of(model.forward_rows(&[feeds[2][0]], &mut batch))[0],
        &alone[0][2],
    );
}

/// A model that only knows single sequences: batches fall back to the trait's row-by-row default.
struct SingleOnly<'a>(&'a dyn LanguageModel);

impl LanguageModel for SingleOnly<'_> {
    fn start(&self) -> Box<dyn bitdistill::generate::DecodeState + '_> {
        self.0.start()
    }
}

#[test]
fn a_model_without_a_batch_of_its_own_decodes_row_by_row_alike() {
    let loaded = open("tiny-hymt-student", Engine::Auto);
    let model = SingleOnly(loaded.language_model());
    let config = GenerationConfig {
        max_new_tokens: 8,
        stop_tokens: vec![4, 2, 9],
        ..GenerationConfig::default()
    };
    let prompts = prompts(6);
    assert_eq!(
        generate_batch(&model, &prompts, &config, 4, |_, _| {}),
        one_at_a_time(loaded.language_model(), &prompts, &config)
    );
}
