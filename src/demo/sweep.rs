//! `bitdistill sweep`: Stage 3's settings tuned on held-out pairs. Stage 2 runs once; every point of the grid
//! then starts Stage 3 from that same student with the same budget, and is scored on the dev pairs. Each point's
//! `result.json` is kept, so an interrupted sweep continues where it stopped, and `sweep.{md,json}` is rewritten
//! after every point.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::results::{kept_result, steps_and_wall_cells, write_tables};
use super::{Budget, ModelSummary, limit_per_pair, summarize};
use crate::backend::BackendKind;
use crate::data::read_pairs;
use crate::error::{Error, Result};
use crate::train::{Method, RunConfig, RunControl, RunOutcome, TrainEvent, run};

/// A run-file setting the sweep may vary. All of them act on Stage 3 only, so Stage 2 can be shared: `optim.lr`
/// is Stage 3's peak learning rate (the shared Stage 2 keeps the run file's), `stage3.steps` its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SweepKey {
    Gamma,
    Lambda,
    Tau,
    Layer,
    RelationHeads,
    Lr,
    Steps,
}

impl SweepKey {
    pub const ALL: [Self; 7] = [
        Self::Gamma,
        Self::Lambda,
        Self::Tau,
        Self::Layer,
        Self::RelationHeads,
        Self::Lr,
        Self::Steps,
    ];

    /// The key as the run file spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gamma => "stage3.gamma",
            Self::Lambda => "stage3.lambda",
            Self::Tau => "stage3.tau",
            Self::Layer => "stage3.layer",
            Self::RelationHeads => "stage3.relation_heads",
            Self::Lr => "optim.lr",
            Self::Steps => "stage3.steps",
        }
    }

    /// The key without its section: a column of the table and part of a point's folder name.
    fn short(self) -> &'static str {
        let name = self.name();
        name.split_once('.').map_or(name, |(_, key)| key)
    }

    fn apply(self, config: &mut RunConfig, value: f64) {
        let s3 = &mut config.stage3;
        match self {
            Self::Gamma => s3.gamma = value,
            Self::Lambda => s3.lambda = value,
            Self::Tau => s3.tau = value,
            Self::Layer => s3.layer = Some(value as usize),
            Self::RelationHeads => s3.relation_heads = value as usize,
            Self::Lr => config.optim.lr = value,
            Self::Steps => s3.steps = value as usize,
        }
    }

    /// Integer settings must be given as integers (ranges are the run file's checks; see [`checked_grid`]).
    fn integral(self) -> bool {
        matches!(self, Self::Layer | Self::RelationHeads | Self::Steps)
    }
}

/// One axis of the grid: a key and its values, parsed from `key=v1,v2,...`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepAxis {
    pub key: SweepKey,
    pub values: Vec<f64>,
}

impl std::str::FromStr for SweepAxis {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let names: Vec<&str> = SweepKey::ALL.iter().map(|k| k.name()).collect();
        let (name, values) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}`: expected KEY=V1,V2,... with KEY one of {}", names.join(", ")))?;
        let key = SweepKey::ALL
            .into_iter()
            .find(|k| k.name() == name.trim())
            .ok_or_else(|| format!("`{name}` cannot be swept; these can: {}", names.join(", ")))?;
        let values = values
            .split(',')
            .map(|v| {
                let value: f64 = v.trim().parse().map_err(|_| format!("{name}: `{v}` is not a number"))?;
                if key.integral() && (value.fract() != 0.0 || value < 0.0) {
                    return Err(format!("{name}: `{v}` is not a whole number"));
                }
                Ok(value)
            })
            .collect::<std::result::Result<Vec<f64>, String>>()?;
        Ok(Self { key, values })
    }
}

/// Every combination of the axes' values, the first axis varying slowest.
pub fn grid(axes: &[SweepAxis]) -> Vec<Vec<(SweepKey, f64)>> {
    axes.iter().fold(vec![Vec::new()], |points, axis| {
        points
            .iter()
            .flat_map(|point| {
                axis.values.iter().map(move |&v| {
                    let mut next = point.clone();
                    next.push((axis.key, v));
                    next
                })
            })
            .collect()
    })
}

/// The grid, every point checked like a run file (`RunConfig::validate`) before any training starts, so a bad
/// `--set` value fails at once and names its point.
fn checked_grid(base: &RunConfig, run_file: &Path, axes: &[SweepAxis]) -> Result<Vec<Vec<(SweepKey, f64)>>> {
    let points = grid(axes);
    for point in &points {
        with_point(base, point)
            .validate(run_file)
            .map_err(|e| Error::Invalid(format!("sweep point `{}`: {e}", slug(point))))?;
    }
    Ok(points)
}

/// `base` with a point's settings applied.
fn with_point(base: &RunConfig, point: &[(SweepKey, f64)]) -> RunConfig {
    let mut config = base.clone();
    for &(key, value) in point {
        key.apply(&mut config, value);
    }
    config
}

/// A point's folder name, e.g. `gamma=1000,lambda=1`.
fn slug(point: &[(SweepKey, f64)]) -> String {
    let parts: Vec<String> = point.iter().map(|(k, v)| format!("{}={v}", k.short())).collect();
    parts.join(",")
}

/// What to run.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The BitDistill run file every point starts from.
    pub run_file: PathBuf,
    pub out: PathBuf,
    pub backend: BackendKind,
    pub axes: Vec<SweepAxis>,
    pub budget: Budget,
    /// The held-out pairs the points are scored on (a dev split, not the test split).
    pub dev: PathBuf,
}

/// One finished point.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PointResult {
    pub settings: Vec<(SweepKey, f64)>,
    pub model: ModelSummary,
    pub optimizer_steps: usize,
    pub wall_seconds: f64,
}

impl PointResult {
    /// Mean chrF over the language pairs: how the table ranks points.
    pub fn mean_chrf(&self) -> f64 {
        let scores = &self.model.scores;
        scores.values().map(|s| s.chrf).sum::<f64>() / scores.len().max(1) as f64
    }
}

/// Runs Stage 2 once, then every point of the grid; returns the points' results in grid order.
pub fn run_sweep(options: &SweepOptions, emit: &mut dyn FnMut(&str, TrainEvent)) -> Result<Vec<PointResult>> {
    let mut base = RunConfig::from_file(&options.run_file)?;
    if base.method != Method::Bitdistill {
        return Err(Error::config(
            &options.run_file,
            "a sweep tunes Stage 3 of a `method = \"bitdistill\"` run",
        ));
    }
    base.backend = options.backend;
    options.budget.apply(&mut base);
    let points = checked_grid(&base, &options.run_file, &options.axes)?;
    let dev = limit_per_pair(read_pairs(&options.dev, ("en", "pt"))?, options.budget.eval_limit);
    let shared = shared_stage2(&base, &options.out, &mut |e| emit("stage 2", e))?;
    let mut results = Vec::new();
    for point in points {
        let name = slug(&point);
        let dir = options.out.join(&name);
        let result = kept_result(&dir, || {
            let mut config = with_point(&base, &point);
            config.stage2.tokens = 0;
            config.student.init = shared.clone();
            config.out = dir.clone();
            run_point(&config, point.clone(), &dev, &mut |e| emit(&name, e))
        })?;
        results.push(result);
        write_tables(&options.out, "sweep", &results, &sweep_markdown(&results))?;
    }
    Ok(results)
}

/// The student after Stage 2 (trained once into `out/stage2/student`), or `None` when the run has no Stage 2.
fn shared_stage2(base: &RunConfig, out: &Path, emit: &mut dyn FnMut(TrainEvent)) -> Result<Option<PathBuf>> {
    if base.stage2.tokens == 0 {
        return Ok(None);
    }
    let student = out.join("stage2").join("student");
    if !student.join("config.json").exists() {
        let mut config = base.clone();
        config.stage3.steps = 0;
        config.out = out.join("stage2");
        finished(run(&config, true, &RunControl::default(), emit)?, "stage 2")?;
    }
    Ok(Some(student))
}

fn finished(outcome: RunOutcome, what: &str) -> Result<PathBuf> {
    match outcome {
        RunOutcome::Finished(dir) => Ok(dir),
        RunOutcome::Stopped | RunOutcome::FinishedUnwritten => {
            Err(Error::Invalid(format!("the sweep's {what} stopped early")))
        }
    }
}

fn run_point(
    config: &RunConfig,
    settings: Vec<(SweepKey, f64)>,
    dev: &[crate::data::Pair],
    emit: &mut dyn FnMut(TrainEvent),
) -> Result<PointResult> {
    let started = Instant::now();
    let mut steps = 0;
    let outcome = run(config, true, &RunControl::default(), &mut |event| {
        steps += matches!(event, TrainEvent::Step(_)) as usize;
        emit(event);
    })?;
    let dir = finished(outcome, &slug(&settings))?;
    let model = summarize(&slug(&settings), &dir, dev, config.backend)?;
    Ok(PointResult {
        settings,
        model,
        optimizer_steps: steps,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The table: one line per point (its settings, chrF and BLEU per language pair, the mean chrF, steps run, wall
/// time), the best mean chrF in bold.
pub fn sweep_markdown(results: &[PointResult]) -> String {
    let keys: Vec<SweepKey> = results
        .first()
        .map(|r| r.settings.iter().map(|(k, _)| *k).collect())
        .unwrap_or_default();
    let pairs: Vec<&String> = results
        .first()
        .map(|r| r.model.scores.keys().collect())
        .unwrap_or_default();
    let best = results
        .iter()
        .map(PointResult::mean_chrf)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut md = String::from("|");
    for key in &keys {
        md.push_str(&format!(" {} |", key.short()));
    }
    for pair in &pairs {
        md.push_str(&format!(" chrF {pair} | BLEU {pair} |"));
    }
    md.push_str(" mean chrF | steps run | wall time |\n|");
    md.push_str(&"---|".repeat(keys.len() + 2 * pairs.len() + 3));
    md.push('\n');
    for result in results {
        md.push('|');
        for (_, value) in &result.settings {
            md.push_str(&format!(" {value} |"));
        }
        for pair in &pairs {
            let s = &result.model.scores[*pair];
            md.push_str(&format!(" {:.2} | {:.2} |", s.chrf, s.bleu));
        }
        let mean = result.mean_chrf();
        let mean = if mean == best {
            format!("**{mean:.2}**")
        } else {
            format!("{mean:.2}")
        };
        md.push_str(&format!(" {mean} |"));
        md.push_str(&steps_and_wall_cells(result.optimizer_steps, result.wall_seconds));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{PairScores, Tokenize};

    #[test]
    fn axes_parse_and_bad_ones_are_named() {
        let axis: SweepAxis = "stage3.gamma=1e2, 1e3,1e4".parse().unwrap();
        assert_eq!(
            axis,
            SweepAxis {
                key: SweepKey::Gamma,
                values: vec![100.0, 1000.0, 10000.0]
            }
        );
        let unknown = "optim.batch_size=4".parse::<SweepAxis>().unwrap_err();
        assert!(
            unknown.contains("`optim.batch_size` cannot be swept") && unknown.contains("stage3.tau"),
            "{unknown}"
        );
        let lr: SweepAxis = "optim.lr=5e-4,2e-3".parse().unwrap();
        assert_eq!((lr.key, lr.values), (SweepKey::Lr, vec![5e-4, 2e-3]));
        assert!(
            "stage3.steps=300,1e2.5"
                .parse::<SweepAxis>()
                .unwrap_err()
                .contains("`1e2.5` is not a number")
        );
        assert!(
            "stage3.layer=1.5"
                .parse::<SweepAxis>()
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(
            "stage3.tau=hot"
                .parse::<SweepAxis>()
                .unwrap_err()
                .contains("`hot` is not a number")
        );
    }

    #[test]
    fn out_of_range_points_are_refused_before_training_with_the_run_files_checks() {
        let run_file = crate::demo::assets_dir().join(crate::demo::DEMO_RUN_FILE);
        let base = RunConfig::from_file(&run_file).unwrap();
        let axes = |text: &[&str]| -> Vec<SweepAxis> { text.iter().map(|t| t.parse().unwrap()).collect() };
        for (grid_text, message) in [
            (&["optim.lr=1e-3,-1e-3"][..], "sweep point `lr=-0.001`: "),
            (&["stage3.tau=5,0"][..], "`stage3.tau` must be positive"),
            (
                &["stage3.lambda=1", "stage3.gamma=1e3,-1e3"][..],
                "`lambda=1,gamma=-1000`",
            ),
            (
                &["stage3.relation_heads=8,0"][..],
                "`stage3.relation_heads` must be at least 1",
            ),
        ] {
            let error = checked_grid(&base, &run_file, &axes(grid_text))
                .unwrap_err()
                .to_string();
            assert!(error.contains(message), "{grid_text:?}: {error}");
        }
        let fine = checked_grid(&base, &run_file, &axes(&["stage3.lambda=0,10", "optim.lr=0,1e-3"])).unwrap();
        assert_eq!(fine.len(), 4);
    }

    #[test]
    fn each_key_sets_the_run_file_value_it_names() {
        let mut config = RunConfig::from_file(&crate::demo::assets_dir().join(crate::demo::DEMO_RUN_FILE)).unwrap();
        let stage2 = config.stage2.clone();
        for (key, value) in [
            (SweepKey::Gamma, 1e4),
            (SweepKey::Lambda, 10.0),
            (SweepKey::Tau, 2.0),
            (SweepKey::Layer, 3.0),
            (SweepKey::RelationHeads, 8.0),
            (SweepKey::Lr, 2e-3),
            (SweepKey::Steps, 600.0),
        ] {
            key.apply(&mut config, value);
        }
        let s3 = &config.stage3;
        assert_eq!((s3.gamma, s3.lambda, s3.tau), (1e4, 10.0, 2.0));
        assert_eq!((s3.layer, s3.relation_heads, s3.steps), (Some(3), 8, 600));
        assert_eq!(config.optim.lr, 2e-3);
        assert_eq!(config.stage2, stage2, "a sweep key must leave the shared Stage 2 alone");
    }

    #[test]
    fn the_grid_is_every_combination_first_axis_slowest() {
        let axes = [
            "stage3.gamma=10,100".parse().unwrap(),
            "stage3.lambda=1,10,20".parse().unwrap(),
        ];
        let points = grid(&axes);
        assert_eq!(points.len(), 6);
        assert_eq!(points[0], [(SweepKey::Gamma, 10.0), (SweepKey::Lambda, 1.0)]);
        assert_eq!(points[4], [(SweepKey::Gamma, 100.0), (SweepKey::Lambda, 10.0)]);
        assert_eq!(slug(&points[4]), "gamma=100,lambda=10");
        let lr_and_steps = ["optim.lr=0.001".parse().unwrap(), "stage3.steps=600".parse().unwrap()];
        assert_eq!(slug(&grid(&lr_and_steps)[0]), "lr=0.001,steps=600");
    }

    #[test]
    fn the_table_has_one_row_per_point_and_marks_the_best() {
        let point = |gamma: f64, pt: f64, zh: f64| {
            let scores = [("en-pt", pt), ("en-zh", zh)]
                .into_iter()
                .map(|(pair, chrf)| {
                    let scores = PairScores {
                        sentences: 100,
                        tokenize: Tokenize::default(),
                        bleu: chrf / 2.0,
                        chrf,
                        chrf_pp: chrf,
                        placeholder_rate: None,
                    };
                    (pair.to_string(), scores)
                })
                .collect();
            let model = ModelSummary {
                name: "s".into(),
                scores,
                tokens_per_s: 100.0,
                linear_bytes_bf16: 0,
                linear_bytes: 0,
                model_bytes: 0,
            };
            PointResult {
                settings: vec![(SweepKey::Gamma, gamma)],
                model,
                optimizer_steps: 150,
                wall_seconds: 75.0,
            }
        };
        let md = sweep_markdown(&[point(100.0, 30.0, 20.0), point(1000.0, 34.0, 22.0)]);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(
            lines[0],
            "| gamma | chrF en-pt | BLEU en-pt | chrF en-zh | BLEU en-zh | mean chrF | steps run | wall time |"
        );
        assert_eq!(lines[1], "|---|---|---|---|---|---|---|---|");
        assert_eq!(
            lines[2],
            "| 100 | 30.00 | 15.00 | 20.00 | 10.00 | 25.00 | 150 | 1 min 15 s |"
        );
        assert_eq!(
            lines[3],
            "| 1000 | 34.00 | 17.00 | 22.00 | 11.00 | **28.00** | 150 | 1 min 15 s |"
        );
    }
}
