//! The trainer on the fixture: losses fall, a killed run resumes to the same weights, bad run files are named.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use bitdistill::checkpoint::ModelFiles;
use bitdistill::data::DataFiles;
use bitdistill::distill::{LossPositions, RelationKind, RelationReduction, RelationStates};
use bitdistill::train::{RunConfig, RunControl, RunFiles, RunOutcome, StepMetrics, TrainEvent, run, run_with};
use common::temp_dir;
use common::training::{training_setup, write_run_file};

fn steps_of(config: &RunConfig) -> Vec<StepMetrics> {
    let mut steps = Vec::new();
    let outcome = run(config, false, &RunControl::default(), &mut |event| {
        if let TrainEvent::Step(m) = event {
            steps.push(m);
        }
    })
    .unwrap();
    assert!(matches!(outcome, RunOutcome::Finished(_)));
    steps
}

#[test]
fn a_run_on_files_in_memory_trains_as_the_run_on_disk_and_writes_nothing() {
    let dir = temp_dir("train-memory");
    let teacher = training_setup(&dir);
    let extra = "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 3\nlambda = 1.0\ngamma = 100.0\n\n[optim]\nbatch_size = 4\n\n[checkpoint]\nevery = 0\n\n[snapshot]\nevery = 0\n";
    let mut config = RunConfig::from_file(&write_run_file(&dir, "disk", extra)).unwrap();
    // Two Stage-2 steps of 4 blocks of 16 tokens, then three Stage-3 steps.
    config.stage2.tokens = 2 * 4 * 16;
    let on_disk = steps_of(&config);
    assert_eq!(on_disk.len(), 5);

    // What the browser hands over: the same bytes, named by the URL-like paths of its run file.
    let read = |path: std::path::PathBuf| std::fs::read(path).unwrap();
    let teacher_files =
        ["config.json", "model.safetensors", "tokenizer.json"].map(|name| (name.to_string(), read(teacher.join(name))));
    let mut browser = config.clone();
    browser.teacher = "models/teacher".into();
    browser.out = dir.join("browser-out");
    browser.stage2.corpus = vec!["data/corpus.txt".into()];
    browser.stage3.pairs = Some("data/pairs.jsonl".into());
    let files = RunFiles {
        teacher: ModelFiles::memory("models/teacher", teacher_files),
        data: DataFiles::memory([
            ("data/corpus.txt".into(), read(dir.join("corpus.txt"))),
            ("data/pairs.jsonl".into(), read(dir.join("pairs.jsonl"))),
        ]),
        writes_out: false,
    };
    let mut in_memory = Vec::new();
    let outcome = run_with(&browser, &files, false, &RunControl::default(), &mut |event| {
        if let TrainEvent::Step(m) = event {
            in_memory.push(m);
        }
    })
    .unwrap();
    assert_eq!(outcome, RunOutcome::FinishedUnwritten);
    let terms = |m: &StepMetrics| (m.stage, m.step, m.loss, m.ce, m.logits_kd, m.attention_kd, m.grad_norm);
    assert_eq!(
        in_memory.iter().map(terms).collect::<Vec<_>>(),
        on_disk.iter().map(terms).collect::<Vec<_>>()
    );
    assert!(
        !browser.out.exists(),
        "a run that keeps nothing wrote {}",
        browser.out.display()
    );

    // A data file the run names but was not handed over is named in the error.
    let mut missing = browser.clone();
    missing.stage3.pairs = Some("data/other.jsonl".into());
    missing.stage2.tokens = 0;
    let error = run_with(&missing, &files, false, &RunControl::default(), &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("data/other.jsonl"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn fifty_steps_of_stage_2_and_of_stage_3_lower_their_losses() {
    let dir = temp_dir("train-trend");
    training_setup(&dir);
    let extra = "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 50\n\n[optim]\nlr = 3e-3\nwarmup_steps = 5\nbatch_size = 4\n\n[checkpoint]\nevery = 0\n\n[snapshot]\nevery = 0\n";
    let path = write_run_file(
        &dir,
        "trend",
        &extra.replace("[stage3]", "[stage3]\nlambda = 1.0\ngamma = 100.0"),
    );
    let mut config = RunConfig::from_file(&path).unwrap();
    // 50 Stage-2 steps of 4 blocks of 16 tokens.
    config.stage2.tokens = 50 * 4 * 16;
    let steps = steps_of(&config);
    let (stage2, stage3): (Vec<_>, Vec<_>) = steps
        .iter()
        .partition(|m| m.stage == bitdistill::train::Stage::Pretrain);
    assert_eq!((stage2.len(), stage3.len()), (50, 50));
    for (name, stage) in [("stage 2", &stage2), ("stage 3", &stage3)] {
        let losses: Vec<f64> = stage.iter().map(|m| m.loss).collect();
        let (first, last) = (mean(&losses[..10]), mean(&losses[40..]));
        assert!(
            last < 0.8 * first,
            "{name}: mean loss of the first 10 steps {first}, of the last 10 {last}"
        );
        assert!(losses.iter().all(|l| l.is_finite()));
    }
    // Stage 3 reports every term, and the distillation terms fall too.
    assert!(stage3.iter().all(|m| m.logits_kd.is_some() && m.attention_kd.is_some()));
    let kd: Vec<f64> = stage3.iter().map(|m| m.logits_kd.unwrap()).collect();
    assert!(mean(&kd[40..]) < mean(&kd[..10]));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_same_weights() {
    let dir = temp_dir("train-resume");
    training_setup(&dir);
    let extra = "[stage2]\ncorpus = [\"corpus.txt\"]\ntokens = 2560\nblock_len = 16\n\n[stage3]\npairs = \"pairs.jsonl\"\nsteps = 40\n\n[optim]\nlr = 1e-3\nbatch_size = 4\ngrad_accum = 2\n\n[checkpoint]\nevery = 3\nkeep = 2\n\n[snapshot]\nevery = 10\n";
    let run_file = |name: &str| {
        let path = write_run_file(&dir, name, "");
        // Replace the default [stage2] table of write_run_file with this test's.
        let text = std::fs::read_to_string(&path).unwrap();
        let head: String = text.split("[stage2]").next().unwrap().to_string();
        std::fs::write(&path, head + extra).unwrap();
        path
    };
    let distill = |config: &std::path::Path, resume: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bitdistill"));
        command.args(["distill", "--config", config.to_str().unwrap()]);
        if resume {
            command.arg("--resume");
        }
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    };

    let whole = run_file("whole");
    assert!(distill(&whole, false).status().unwrap().success());

    let killed = run_file("killed");
    let mut child = distill(&killed, false).spawn().unwrap();
    let checkpoints = dir.join("killed/checkpoints");
    let started = Instant::now();
    while bitdistill::train::complete_checkpoints(&checkpoints).unwrap().len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(120), "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !dir.join("killed/student").exists(),
        "the run finished before it could be killed"
    );
    assert!(distill(&killed, true).status().unwrap().success());

    let weights = |name: &str| std::fs::read(dir.join(name).join("student/model.safetensors")).unwrap();
    assert!(
        weights("whole") == weights("killed"),
        "resumed weights differ from the uninterrupted run's"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn shards_of_a_batch_add_up_to_the_whole_batch() {
    let dir = temp_dir("train-shards");
    training_setup(&dir);
    // Batches of 5 in 3 shards: rows 2 + 2 + 1, each shard cut to its own longest pair; the logits term counts
    // reply positions and the relation term all real positions, so each term has its own shares.
    let extra = "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 4\nlambda = 1.0\ngamma = 100.0\nlogits_positions = \"reply\"\n\n[optim]\nlr = 0.0\nwarmup_steps = 0\nbatch_size = 5\n\n[checkpoint]\nevery = 0\n\n[snapshot]\nevery = 0\n";
    let mut config = RunConfig::from_file(&write_run_file(&dir, "shards", extra)).unwrap();
    config.stage2.tokens = 4 * 5 * 16;
    let mut steps = |shards: usize| {
        config.optim.shards = shards;
        config.out = dir.join(format!("shards-{shards}"));
        steps_of(&config)
    };
    let (whole, sharded) = (steps(1), steps(3));
    assert_eq!(whole.len(), 8);
    // lr 0 keeps the weights, so every step compares one more batch at the same weights. (With lr > 0 the runs
    // drift apart by ~1e-3 over a few steps: Adam's first updates are about lr·sign(g), so rounding noise in a
    // near-zero gradient moves a latent weight by up to 2·lr, and that can flip its ternary code.)
    // Cutting a shard to its own longest row changes the length of attention's reductions and so their float
    // rounding (~1e-7), which can move an 8-bit activation code by one step. The losses hardly notice (measured
    // ≤ 1.2e-7 relative), but the relation term's gradient is a difference of nearly equal student and teacher
    // relations times γ = 100, so the gradient norm moves by up to 3e-4 relative (none with γ = 0: 1e-7).
    assert_close_steps(&whole, &sharded, 2e-5, 1e-3);
    // The distillation terms were really computed (and so compared) in Stage 3.
    assert!(
        whole[4..]
            .iter()
            .all(|m| m.logits_kd.unwrap() > 0.0 && m.attention_kd.unwrap() > 0.0)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn config_error(dir: &std::path::Path, name: &str, extra: &str) -> String {
    let path = write_run_file(dir, name, extra);
    RunConfig::from_file(&path)
        .expect_err("the run file should be refused")
        .to_string()
}

#[test]
fn malformed_run_files_are_refused_with_the_key_and_file() {
    let dir = temp_dir("run-errors");
    training_setup(&dir);
    let unknown = config_error(&dir, "unknown", "[stage3]\npairs = \"pairs.jsonl\"\nlamda = 1.0\n");
    assert!(
        unknown.contains("unknown.toml") && unknown.contains("unknown field `lamda`"),
        "{unknown}"
    );
    let wrong_type = config_error(
        &dir,
        "wrong-type",
        "[stage3]\npairs = \"pairs.jsonl\"\nsteps = \"many\"\n",
    );
    assert!(
        wrong_type.contains("wrong-type.toml") && wrong_type.contains("steps"),
        "{wrong_type}"
    );
    let syntax = config_error(&dir, "syntax", "[stage3\n");
    assert!(syntax.contains("syntax.toml"), "{syntax}");
    let no_pairs = config_error(&dir, "no-pairs", "[stage3]\npairs = \"missing.jsonl\"\n");
    assert!(
        no_pairs.contains("`stage3.pairs`") && no_pairs.contains("missing.jsonl does not exist"),
        "{no_pairs}"
    );
    // Out-of-range numbers: a negative learning rate or loss weight would push the student away from the
    // teacher.
    for (name, extra, message) in [
        (
            "negative-lr",
            "[optim]\nlr = -1e-3\n[stage3]\npairs = \"pairs.jsonl\"\n",
            "`optim.lr` must be zero or positive",
        ),
        (
            "cold-tau",
            "[stage3]\npairs = \"pairs.jsonl\"\ntau = 0.0\n",
            "`stage3.tau` must be positive",
        ),
        (
            "negative-gamma",
            "[stage3]\npairs = \"pairs.jsonl\"\ngamma = -1e3\n",
            "`stage3.gamma` must be zero or positive",
        ),
        (
            "no-batch",
            "[optim]\nbatch_size = 0\n[stage3]\npairs = \"pairs.jsonl\"\n",
            "`optim.batch_size` must be at least 1",
        ),
    ] {
        let error = config_error(&dir, name, extra);
        assert!(
            error.contains(&format!("{name}.toml")) && error.contains(message),
            "{error}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_missing_or_empty_corpus_is_named() {
    let dir = temp_dir("corpus-errors");
    training_setup(&dir);
    let path = write_run_file(&dir, "missing-corpus", "[stage3]\nsteps = 0\n");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("corpus.txt", "nope.txt")
        .replace("tokens = 0", "tokens = 64");
    std::fs::write(&path, text).unwrap();
    let message = RunConfig::from_file(&path).err().unwrap().to_string();
    assert!(
        message.contains("`stage2.corpus`") && message.contains("nope.txt does not exist"),
        "{message}"
    );

    std::fs::write(dir.join("empty.txt"), "\n\n").unwrap();
    let path = write_run_file(&dir, "empty-corpus", "[stage3]\nsteps = 0\n");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("corpus.txt", "empty.txt")
        .replace("tokens = 0", "tokens = 64");
    std::fs::write(&path, text).unwrap();
    let config = RunConfig::from_file(&path).unwrap();
    let message = run(&config, false, &RunControl::default(), &mut |_| {})
        .err()
        .unwrap()
        .to_string();
    assert!(message.ends_with("empty.txt: the corpus is empty"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_student_whose_shape_differs_from_the_teacher_is_refused() {
    let dir = temp_dir("shape-mismatch");
    training_setup(&dir);
    let student = dir.join("student");
    std::fs::create_dir_all(&student).unwrap();
    let config = std::fs::read_to_string(dir.join("teacher/config.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&config).unwrap();
    json["num_hidden_layers"] = 3.into();
    json["bitdistill"] = serde_json::json!({"subln": "paper"});
    std::fs::write(student.join("config.json"), json.to_string()).unwrap();
    std::fs::copy(dir.join("teacher/model.safetensors"), student.join("model.safetensors")).unwrap();
    let path = write_run_file(
        &dir,
        "mismatch",
        "[student]\ninit = \"student\"\n\n[stage3]\npairs = \"pairs.jsonl\"\nsteps = 1\n",
    );
    let config = RunConfig::from_file(&path).unwrap();
    let message = run(&config, false, &RunControl::default(), &mut |_| {})
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("student/config.json: student shape") && message.contains("does not match the teacher's"),
        "{message}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn snapshots_report_the_quantizer_and_the_attention_of_the_probe() {
    let dir = temp_dir("train-snapshot");
    training_setup(&dir);
    let path = write_run_file(
        &dir,
        "snap",
        "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 1\n\n[snapshot]\nevery = 1\nprobe = \"Open the file.\"\n",
    );
    let config = RunConfig::from_file(&path).unwrap();
    let mut snapshots = Vec::new();
    run(&config, false, &RunControl::default(), &mut |event| {
        if let TrainEvent::Snapshot(s) = event {
            snapshots.push(*s);
        }
    })
    .unwrap();
    assert_eq!(snapshots.len(), 1);
    let snapshot = &snapshots[0];
    let student = bitdistill::checkpoint::Checkpoint::open(&dir.join("snap/student"))
        .unwrap()
        .load_model(&bitdistill::backend::BackendKind::Ndarray.device())
        .unwrap();
    // 2 layers, each with q, o: 64·64; k, v: 32·64; gate, up, down: 64·160 weights.
    assert_eq!(snapshot.layers.len(), 2);
    for stats in &snapshot.layers {
        assert_eq!(
            stats.histogram.iter().sum::<u64>(),
            (2 * 64 * 64 + 2 * 32 * 64 + 3 * 64 * 160) as u64
        );
        let (share, _) = bitdistill::train::layer_weight_stats(&student, stats.layer);
        assert_eq!(
            share, stats.ternary_share,
            "the student written at the end is the snapshot's"
        );
        assert!((share.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(stats.activation_error > 0.0 && stats.activation_error < 0.05);
    }
    let t = snapshot.tokens.len();
    assert_eq!(snapshot.tokens.concat(), "Open the file.");
    for maps in [&snapshot.teacher_attention, &snapshot.student_attention] {
        assert_eq!(maps.len(), snapshot.heads * t * t);
        assert!(maps.chunks(t).all(|row| (row.iter().sum::<f32>() - 1.0).abs() < 1e-5));
    }
    for relations in [&snapshot.teacher_relations, &snapshot.student_relations] {
        assert_eq!(relations.len(), 3 * t * t);
        // The default relations relate every pair: each row sums to one, and with cosine scores in [−1, 1]
        // no probability falls below 1 / (1 + (T − 1)·e²).
        let floor = 1.0 / (1.0 + (t as f32 - 1.0) * std::f32::consts::E.powi(2));
        for row in relations.chunks(t) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!(row.iter().all(|&p| p >= floor * 0.999), "{row:?}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_distilled_layer_beyond_the_model_is_refused() {
    let dir = temp_dir("layer-range");
    training_setup(&dir);
    let path = write_run_file(
        &dir,
        "layer",
        "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 1\nlayer = 2\n",
    );
    let config = RunConfig::from_file(&path).unwrap();
    let message = run(&config, false, &RunControl::default(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        message.ends_with("the run file's `stage3.layer` is 2, but this model's layers are 0..=1"),
        "{message}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn stage3_conventions_default_to_the_official_code_and_the_earlier_ones_parse() {
    let dir = temp_dir("conventions");
    training_setup(&dir);
    let defaults = RunConfig::from_file(&write_run_file(&dir, "defaults", "[stage3]\npairs = \"pairs.jsonl\"\n"))
        .unwrap()
        .stage3;
    assert_eq!(
        (
            defaults.relation_states,
            defaults.relation,
            defaults.relation_positions,
            defaults.causal,
            defaults.relation_reduction,
            defaults.logits_positions,
            defaults.relation_heads,
        ),
        (
            RelationStates::Attention,
            RelationKind::Cosine,
            LossPositions::All,
            false,
            RelationReduction::Official,
            LossPositions::All,
            32
        )
    );
    let earlier = "[stage3]\npairs = \"pairs.jsonl\"\nrelation_states = \"projections\"\nrelation = \"scaled-dot\"\n\
                   relation_positions = \"reply\"\ncausal = true\nrelation_reduction = \"mean\"\nlogits_positions = \"reply\"\n";
    let earlier = RunConfig::from_file(&write_run_file(&dir, "earlier", earlier))
        .unwrap()
        .stage3;
    assert_eq!(
        (
            earlier.relation_states,
            earlier.relation,
            earlier.relation_positions,
            earlier.causal
        ),
        (
            RelationStates::Projections,
            RelationKind::ScaledDot,
            LossPositions::Reply,
            true
        )
    );
    assert_eq!(
        (earlier.relation_reduction, earlier.logits_positions),
        (RelationReduction::Mean, LossPositions::Reply)
    );
    let bad = config_error(
        &dir,
        "bad-kind",
        "[stage3]\npairs = \"pairs.jsonl\"\nrelation = \"dot\"\n",
    );
    assert!(
        bad.contains("bad-kind.toml") && bad.contains("relation") && bad.contains("cosine"),
        "{bad}"
    );

    // r = 5 divides neither the fixture's Q (64) nor K/V (32) width: the run stops before training.
    let path = write_run_file(
        &dir,
        "heads",
        "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 1\nrelation_heads = 5\n",
    );
    let config = RunConfig::from_file(&path).unwrap();
    let message = run(&config, false, &RunControl::default(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("config.json") && message.contains("relation_heads = 5") && message.contains("Q is 64"),
        "{message}"
    );
    // Without the relation term (γ = 0) r is unused: the same r trains, and snapshots carry no relations.
    let extra =
        "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 1\nrelation_heads = 5\ngamma = 0.0\n[snapshot]\nevery = 1\n";
    let config = RunConfig::from_file(&write_run_file(&dir, "no-relations", extra)).unwrap();
    let mut relations = Vec::new();
    run(&config, false, &RunControl::default(), &mut |event| {
        if let TrainEvent::Snapshot(s) = event {
            relations.push(s.teacher_relations.len() + s.student_relations.len());
        }
    })
    .unwrap();
    assert_eq!(relations, vec![0]);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Stage-3 padding share per step of a run with `length_pool` (8 pairs in batches of 2: 4 steps an epoch).
fn stage3_padding(dir: &std::path::Path, name: &str, length_pool: usize) -> Vec<f64> {
    let extra =
        format!("[stage3]\npairs = \"pairs.jsonl\"\nsteps = 8\nlength_pool = {length_pool}\n[optim]\nbatch_size = 2\n");
    let config = RunConfig::from_file(&write_run_file(dir, name, &extra)).unwrap();
    let mut shares = Vec::new();
    run(&config, false, &RunControl::default(), &mut |event| {
        if let TrainEvent::Step(m) = event {
            shares.push(m.padding_share);
        }
    })
    .unwrap();
    shares
}

#[test]
fn length_grouping_lowers_the_padding_of_stage3_batches() {
    let dir = temp_dir("length-pool");
    training_setup(&dir);
    let plain = stage3_padding(&dir, "plain", 0);
    let grouped = stage3_padding(&dir, "grouped", 16);
    assert_eq!((plain.len(), grouped.len()), (8, 8));
    assert!(plain.iter().chain(&grouped).all(|s| (0.0..1.0).contains(s)));
    // Sorted neighbours make the least padding a pairing can have, epoch by epoch.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for epoch in 0..2 {
        let range = epoch * 4..(epoch + 1) * 4;
        assert!(
            mean(&grouped[range.clone()]) <= mean(&plain[range]) + 1e-12,
            "epoch {epoch}"
        );
    }
    assert!(mean(&grouped) < mean(&plain), "grouped {grouped:?} vs plain {plain:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_paused_run_takes_single_steps_on_request_and_stops_cleanly() {
    let dir = temp_dir("pause");
    training_setup(&dir);
    let path = write_run_file(
        &dir,
        "paused",
        "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 20\n[optim]\nbatch_size = 2\n",
    );
    let config = RunConfig::from_file(&path).unwrap();
    let control = RunControl::default();
    control.pause();
    let (sender, receiver) = std::sync::mpsc::channel();
    let worker = {
        let control = control.clone();
        std::thread::spawn(move || run(&config, false, &control, &mut |event| sender.send(event).unwrap()))
    };
    let next_step = || loop {
        if let TrainEvent::Step(m) = receiver.recv_timeout(std::time::Duration::from_secs(60)).unwrap() {
            return m.step;
        }
    };
    control.step_once();
    assert_eq!(next_step(), 1);
    control.step_once();
    assert_eq!(next_step(), 2);
    // Still paused: no third step arrives on its own.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(receiver.try_iter().all(|e| !matches!(e, TrainEvent::Step(_))));
    control.stop();
    assert_eq!(worker.join().unwrap().unwrap(), RunOutcome::Stopped);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn stage2_trains_from_its_token_cache_built_once_from_compressed_globs() {
    let dir = temp_dir("train-token-cache");
    training_setup(&dir);
    let extra = "[stage3]\nsteps = 0\n\n[optim]\nbatch_size = 2\n\n[checkpoint]\nevery = 0\n\n[snapshot]\nevery = 0\n";
    let plain = {
        let mut config = RunConfig::from_file(&write_run_file(&dir, "plain", extra)).unwrap();
        config.stage2.tokens = 3 * 2 * 16;
        config
    };
    // The same documents, split over a gzip text file and a zstd JSON-lines file matched by one glob.
    let lines: Vec<String> = std::fs::read_to_string(dir.join("corpus.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let (first, second) = lines.split_at(5);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, (first.join("\n") + "\n").as_bytes()).unwrap();
    std::fs::write(dir.join("part-0.txt.gz"), gz.finish().unwrap()).unwrap();
    let jsonl: String = second
        .iter()
        .map(|l| serde_json::json!({ "body": l }).to_string() + "\n")
        .collect();
    std::fs::write(
        dir.join("part-1.jsonl.zst"),
        zstd::encode_all(jsonl.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    let path = write_run_file(&dir, "globbed", extra);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "corpus = [\"corpus.txt\"]",
        "corpus = [\"part-*\"]\ntext_field = \"body\"\ncache = \"shared-cache\"",
    );
    std::fs::write(&path, text).unwrap();
    let mut globbed = RunConfig::from_file(&path).unwrap();
    globbed.stage2.tokens = plain.stage2.tokens;

    let run_noting = |config: &RunConfig| {
        let (mut steps, mut notices) = (Vec::new(), Vec::new());
        run(config, false, &RunControl::default(), &mut |event| match event {
            TrainEvent::Step(m) => steps.push(m.loss),
            TrainEvent::Notice { message } => notices.push(message),
            _ => {}
        })
        .unwrap();
        (steps, notices)
    };
    let (plain_losses, plain_notices) = run_noting(&plain);
    assert!(
        plain_notices
            .iter()
            .any(|n| n.contains("plain/token-cache") && n.contains("built now")),
        "{plain_notices:?}"
    );
    let (losses, notices) = run_noting(&globbed);
    assert_eq!(losses.len(), 3);
    assert_eq!(losses, plain_losses, "one token stream, one order: the same steps");
    assert!(
        notices
            .iter()
            .any(|n| n.contains("shared-cache") && n.contains("built now")),
        "{notices:?}"
    );
    assert!(dir.join("shared-cache/index.json").exists());
    let (again, notices) = run_noting(&globbed);
    assert_eq!(again, losses);
    assert!(notices.iter().any(|n| n.contains("reused")), "{notices:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Trains `config` on `devices` (none: `backend` alone) with `shards` per device at `lr`: the steps and the
/// weights file written.
fn train_on(
    config: &mut RunConfig,
    dir: &std::path::Path,
    devices: &[&str],
    shards: usize,
    lr: f64,
) -> (Vec<StepMetrics>, std::path::PathBuf) {
    config.devices = devices.iter().map(|d| d.to_string().try_into().unwrap()).collect();
    config.optim.shards = shards;
    config.optim.lr = lr;
    config.out = dir.join(format!("{}-{shards}-{lr}", devices.join("+")));
    let steps = steps_of(config);
    let result = if config.method == bitdistill::train::Method::FullPrecision {
        "model"
    } else {
        "student"
    };
    (steps, config.out.join(result).join("model.safetensors"))
}

/// Weights of two weight files that differ by more than `tolerance`, and how many there are.
fn weights_apart(a: &std::path::Path, b: &std::path::Path, tolerance: f32) -> (usize, usize) {
    use bitdistill::checkpoint::SafetensorsFile;
    let (a, b) = (SafetensorsFile::open(a).unwrap(), SafetensorsFile::open(b).unwrap());
    let (mut apart, mut total) = (0, 0);
    for name in a.names() {
        let read = |file: &SafetensorsFile| file.read_f32(&name, None).unwrap().try_to_vec::<f32>().unwrap();
        for (x, y) in read(&a).iter().zip(&read(&b)) {
            total += 1;
            apart += usize::from((x - y).abs() > tolerance);
        }
    }
    (apart, total)
}

/// Every step's losses agree within `tolerance` relative, its gradient norm within `grad_norm_tolerance`.
fn assert_close_steps(whole: &[StepMetrics], split: &[StepMetrics], tolerance: f64, grad_norm_tolerance: f64) {
    assert_eq!(whole.len(), split.len());
    for (w, s) in whole.iter().zip(split) {
        let pairs = [
            ("loss", w.loss, s.loss, tolerance),
            ("ce", w.ce, s.ce, tolerance),
            (
                "logits_kd",
                w.logits_kd.unwrap_or(0.0),
                s.logits_kd.unwrap_or(0.0),
                tolerance,
            ),
            (
                "attention_kd",
                w.attention_kd.unwrap_or(0.0),
                s.attention_kd.unwrap_or(0.0),
                tolerance,
            ),
            ("grad_norm", w.grad_norm, s.grad_norm, grad_norm_tolerance),
        ];
        for (name, a, b, tolerance) in pairs {
            assert!(
                (a - b).abs() <= tolerance * a.abs().max(1e-3),
                "{:?} step {}: {name} {a} whole, {b} split",
                w.stage,
                w.step
            );
        }
    }
}

#[test]
fn two_devices_update_the_model_as_one_device_does_on_the_whole_batch() {
    let dir = temp_dir("train-devices");
    training_setup(&dir);
    // Full precision: no quantizer can turn a rounding difference into a code flip, so the two backends' float
    // rounding is all that separates the runs. Stage 2 and Stage 3, 4 steps each, batches of 4 split 2 + 2.
    let extra = "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 4\n\n[optim]\nlr = 0.0\nwarmup_steps = 0\nbatch_size = 4\n\n[checkpoint]\nevery = 0\n\n[snapshot]\nevery = 0\n";
    let mut config = RunConfig::from_file(&write_run_file(&dir, "devices", extra)).unwrap();
    config.method = bitdistill::train::Method::FullPrecision;
    config.stage2.tokens = 4 * 4 * 16;
    // At lr 0 every step compares another batch at the same weights: the losses and the summed gradient's norm.
    let (whole, _) = train_on(&mut config, &dir, &[], 2, 0.0);
    let (split, _) = train_on(&mut config, &dir, &["flex", "ndarray"], 1, 0.0);
    assert_eq!(whole.len(), 8);
    assert!(whole.iter().all(|m| m.grad_norm > 0.0));
    assert_close_steps(&whole, &split, 1e-5, 1e-5);
    // ... and not equal bit for bit: NdArray really computed half of every batch.
    assert!(
        whole
            .iter()
            .zip(&split)
            .any(|(w, s)| w.loss != s.loss || w.grad_norm != s.grad_norm),
        "the second device computed nothing"
    );
    // With lr 1e-3 the updated weights agree too (Adam's first steps are about lr·sign(g), so a weight whose
    // gradient is ~0 may move differently by up to 2·lr; those are rare).
    let (_, one) = train_on(&mut config, &dir, &[], 2, 1e-3);
    let (_, two) = train_on(&mut config, &dir, &["flex", "ndarray"], 1, 1e-3);
    let (apart, total) = weights_apart(&one, &two, 1e-6);
    assert!(total > 100_000);
    assert!(
        apart * 1000 < total,
        "{apart} of {total} weights differ by more than 1e-6"
    );
    assert_eq!(weights_apart(&one, &two, 2.5e-3).0, 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bitdistill_run_over_two_devices_distils_as_on_one() {
    let dir = temp_dir("train-devices-bitdistill");
    training_setup(&dir);
    let extra = "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 4\nlambda = 1.0\ngamma = 10.0\n\n[optim]\nlr = 1e-3\nwarmup_steps = 0\nbatch_size = 4\n\n[checkpoint]\nevery = 0\n\n[snapshot]\nevery = 0\n";
    let mut config = RunConfig::from_file(&write_run_file(&dir, "devices", extra)).unwrap();
    // One device in 2 shards, and the same device listed twice with a shard each: the same split into replicas,
    // the same sums, so the same student bit for bit.
    let (one, one_student) = train_on(&mut config, &dir, &[], 2, 1e-3);
    let (twice, twice_student) = train_on(&mut config, &dir, &["flex", "flex"], 1, 1e-3);
    assert_close_steps(&one, &twice, 0.0, 0.0);
    assert_eq!(
        std::fs::read(&one_student).unwrap(),
        std::fs::read(&twice_student).unwrap()
    );
    // Flex and NdArray at lr 0: the teacher's replica on NdArray gives the same distillation terms, up to the
    // int8 activation codes a rounding difference moves by one step (~1e-4 of the losses here; the relation
    // term's gradient, γ times a difference of nearly equal relations, moves most).
    let (whole, _) = train_on(&mut config, &dir, &[], 2, 0.0);
    let (split, _) = train_on(&mut config, &dir, &["flex", "ndarray"], 1, 0.0);
    assert!(
        whole
            .iter()
            .all(|m| m.logits_kd.unwrap() > 0.0 && m.attention_kd.unwrap() > 0.0)
    );
    assert_close_steps(&whole, &split, 1e-3, 1e-3);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_device_lists_are_named_with_the_run_file() {
    let dir = temp_dir("device-errors");
    training_setup(&dir);
    let with_devices = |name: &str, line: &str| {
        let path = write_run_file(&dir, name, "[stage3]\nsteps = 0\n");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("seed = 7\n", &format!("seed = 7\n{line}\n"));
        std::fs::write(&path, text).unwrap();
        RunConfig::from_file(&path)
            .map(|c| c.devices())
            .map_err(|e| e.to_string())
    };
    let cuda = with_devices("cuda", "devices = [\"flex\", \"cuda:0\"]").unwrap_err();
    assert!(
        cuda.contains("cuda.toml") && cuda.contains("CUDA backend is not built"),
        "{cuda}"
    );
    let first = with_devices("first", "devices = [\"ndarray\", \"flex\"]").unwrap_err();
    assert!(
        first.contains("first.toml") && first.contains("must be of `backend` (flex), not `ndarray`"),
        "{first}"
    );
    let typo = with_devices("typo", "devices = [\"flex\", \"wgpu:one\"]").unwrap_err();
    assert!(typo.contains("`one` is not a device index"), "{typo}");
    let fine = with_devices("fine", "devices = [\"flex\", \"ndarray\"]").unwrap();
    assert_eq!(
        fine.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["flex", "ndarray"]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn vocabulary_terms_in_chunks_train_as_all_positions_at_once() {
    let dir = temp_dir("train-vocab-chunk");
    training_setup(&dir);
    // Stage 2 (cross-entropy alone) and Stage 3 (CE, logits KD over all positions, relations), 4 steps each.
    let extra = "[stage3]\npairs = \"pairs.jsonl\"\nsteps = 4\nlambda = 1.0\ngamma = 10.0\n\n[optim]\nlr = 0.0\nwarmup_steps = 0\nbatch_size = 3\nshards = 1\n\n[checkpoint]\nevery = 0\n\n[snapshot]\nevery = 0\n";
    let mut config = RunConfig::from_file(&write_run_file(&dir, "chunks", extra)).unwrap();
    config.stage2.tokens = 4 * 3 * 16;
    let train = |config: &mut RunConfig, chunk: usize, lr: f64| {
        config.optim.vocab_chunk = chunk;
        config.optim.lr = lr;
        config.out = dir.join(format!("chunk-{chunk}-{lr}"));
        (steps_of(config), config.out.join("student/model.safetensors"))
    };
    // 7 positions a chunk: chunks that cut rows and a shorter last one.
    let (whole, _) = train(&mut config, 0, 0.0);
    let (chunked, _) = train(&mut config, 7, 0.0);
    assert_eq!(whole.len(), 8);
    assert!(
        whole[4..]
            .iter()
            .all(|m| m.logits_kd.unwrap() > 0.0 && m.attention_kd.unwrap() > 0.0)
    );
    assert_close_steps(&whole, &chunked, 1e-5, 1e-4);
    // One step with lr > 0 updates the student alike. (Over several steps a rounding difference that moves a
    // latent weight across a ternary threshold sends the two runs apart, as in the shards test.)
    config.stage2.tokens = 0;
    config.stage3.steps = 1;
    let (_, one) = train(&mut config, 0, 1e-3);
    let (_, chunks) = train(&mut config, 7, 1e-3);
    let (apart, total) = weights_apart(&one, &chunks, 1e-6);
    assert!(
        apart * 1000 < total,
        "{apart} of {total} weights differ by more than 1e-6"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
