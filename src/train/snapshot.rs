//! Snapshots: per-layer ternary statistics and teacher-vs-student attention on the probe sentence.

use burn::tensor::{Device, Tensor};

use super::events::{LayerQuantStats, Snapshot, Stage};
use crate::distill::{RelationKind, RelationStates, Stage3Objective, log_relations};
use crate::generate::ids_tensor;
use crate::model::{HunYuan, Probes, Projection, QkvTrace};
use crate::quant::{absmean_scale, int8_fake_quant, per_token_relative_error, ternary_code};

/// Bins of the W/Δ histogram over [−HISTOGRAM_RANGE, HISTOGRAM_RANGE].
pub const HISTOGRAM_BINS: usize = 60;
/// Half-width of the W/Δ histogram, in units of Δ: beyond ±3 Δ everything lands in the edge bins.
pub const HISTOGRAM_RANGE: f64 = 3.0;

fn projections(model: &HunYuan, layer: usize) -> [&Projection; 7] {
    let l = &model.layers[layer];
    let (a, m) = (&l.self_attn, &l.mlp);
    [
        &a.q_proj,
        &a.k_proj,
        &a.v_proj,
        &a.o_proj,
        &m.gate_proj,
        &m.up_proj,
        &m.down_proj,
    ]
}

/// Share of −1/0/+1 codes and the histogram of W/Δ over one layer's seven projections.
pub fn layer_weight_stats(model: &HunYuan, layer: usize) -> ([f64; 3], Vec<u64>) {
    let mut counts = [0u64; 3];
    let mut histogram = vec![0u64; HISTOGRAM_BINS];
    for projection in projections(model, layer) {
        let w = projection.weight().val();
        let delta = absmean_scale(w.clone()).into_scalar::<f32>();
        for value in w.into_data().try_into_vec_as::<f32>().expect("f32 weights") {
            counts[(ternary_code(value, delta) + 1) as usize] += 1;
            let ratio = value as f64 / delta as f64;
            let bin = ((ratio + HISTOGRAM_RANGE) / (2.0 * HISTOGRAM_RANGE) * HISTOGRAM_BINS as f64).floor();
            histogram[bin.clamp(0.0, (HISTOGRAM_BINS - 1) as f64) as usize] += 1;
        }
    }
    let total = counts.iter().sum::<u64>() as f64;
    (counts.map(|c| c as f64 / total), histogram)
}

/// Builds a snapshot from the probe token ids (`pieces` are their texts); the Q/K/V relation matrices only when
/// `relations` (the step distils them), else they stay empty.
#[allow(clippy::too_many_arguments)]
pub fn take_snapshot(
    stage: Stage,
    step: usize,
    teacher: &HunYuan,
    student: &HunYuan,
    probe: &[u32],
    pieces: Vec<String>,
    objective: &Stage3Objective,
    relations: bool,
    device: &Device,
) -> Snapshot {
    let attention_layer = objective.layer;
    let probes = Probes {
        hidden_states: true,
        // The Q/K/V relations only when this step distils them (Stage 3 with γ > 0).
        qkv_layer: relations.then_some(attention_layer),
        attention_layer: Some(attention_layer),
        every_layer: false,
    };
    let student_out = student.forward(ids_tensor(probe, device), None, &probes);
    let teacher_out = teacher.forward(
        ids_tensor(probe, device),
        None,
        &Probes {
            hidden_states: false,
            ..probes
        },
    );
    let layers = (0..student.num_layers())
        .map(|layer| {
            let (ternary_share, histogram) = layer_weight_stats(student, layer);
            let input = student.layers[layer]
                .input_layernorm
                .forward(student_out.hidden_states[layer].clone());
            LayerQuantStats {
                layer,
                ternary_share,
                histogram,
                activation_error: relative_error(input),
            }
        })
        .collect();
    let attention = |t: Option<Tensor<4>>| {
        t.map(|a| a.into_data().try_into_vec_as::<f32>().expect("f32 attention"))
            .unwrap_or_default()
    };
    let heads = student.layers[attention_layer].self_attn.num_heads;
    // The probe sentence is all real tokens: every position is a query and a key, as under `all` positions.
    let relation_maps = |qkv: Option<QkvTrace>| {
        let mask = Tensor::<2>::ones([1, probe.len()], device);
        qkv.map(|trace| {
            let s = objective.relation_states.pick(trace);
            [s.q, s.k, s.v]
                .into_iter()
                .flat_map(|a| {
                    let log_r = log_relations(a, &objective.relation, &mask).narrow(1, 0, 1); // [1, 1, T, T]
                    log_r.exp().into_data().try_into_vec_as::<f32>().expect("f32 relations")
                })
                .collect()
        })
        .unwrap_or_default()
    };
    Snapshot {
        stage,
        step,
        layers,
        tokens: pieces,
        attention_layer,
        teacher_attention: attention(teacher_out.attention),
        student_attention: attention(student_out.attention),
        heads,
        teacher_relations: relation_maps(teacher_out.qkv),
        student_relations: relation_maps(student_out.qkv),
        relation_form: relation_form(objective),
    }
}

/// What the snapshot's relation matrices are, for the Attention panel.
fn relation_form(objective: &Stage3Objective) -> String {
    let states = match objective.relation_states {
        RelationStates::Attention => "Q and K after RoPE and qk-norm, V projected",
        RelationStates::Projections => "raw q/k/v projections",
    };
    let kind = match objective.relation.kind {
        RelationKind::Cosine => "cosine",
        RelationKind::ScaledDot => "scaled dot",
    };
    let pairs = if objective.relation.causal {
        "earlier keys only"
    } else {
        "every pair"
    };
    format!(
        "layer {}, {states}, {kind}, {pairs}; relation head 1 of {}",
        objective.layer, objective.relation.heads
    )
}

/// Per layer, the per-token relative error of int8-quantizing the layer's normed attention input (what its
/// q/k/v projections quantize; with SubLN `all` they norm it once more first) on the sentence `ids`.
pub fn attention_input_errors(model: &HunYuan, ids: &[u32], device: &Device) -> Vec<Vec<f64>> {
    let probes = Probes {
        hidden_states: true,
        ..Probes::default()
    };
    let out = model.forward(ids_tensor(ids, device), None, &probes);
    (0..model.num_layers())
        .map(|layer| {
            let input = model.layers[layer]
                .input_layernorm
                .forward(out.hidden_states[layer].clone());
            let [_, tokens, hidden] = input.dims();
            per_token_relative_error(input.reshape([tokens, hidden]))
        })
        .collect()
}

/// ‖x − int8(x)‖ / ‖x‖.
fn relative_error(x: Tensor<3>) -> f64 {
    let error = (x.clone() - int8_fake_quant(x.clone()))
        .square()
        .sum()
        .into_scalar::<f32>() as f64;
    let norm = x.square().sum().into_scalar::<f32>() as f64;
    (error / norm.max(1e-30)).sqrt()
}
