//! An independent HunYuanDenseV1 forward in f64 with plain loops, written from the equations in
//! ../shared/fixtures/README.md and sharing no code with the crate's model: it checks the burn model on
//! checkpoints that have no reference outputs (other shapes, untied heads, bf16 weights).

use std::collections::HashMap;

use std::path::PathBuf;

use bitdistill::checkpoint::SafetensorsFile;
use bitdistill::model::HunYuanConfig;

/// One layer's states per position, `[T][width]`: the q/k/v raw projections, q/k as attention uses them
/// (after RoPE and the per-head RMSNorm; heads side by side), the attention block's output (before the residual
/// add) and the layer's output (the last layer's after the final norm, as transformers' `hidden_states`).
pub struct NaiveLayer {
    pub q_proj: Vec<Vec<f64>>,
    pub k_proj: Vec<Vec<f64>>,
    pub v_proj: Vec<Vec<f64>>,
    pub q_attended: Vec<Vec<f64>>,
    pub k_attended: Vec<Vec<f64>>,
    pub attention_output: Vec<Vec<f64>>,
    pub output: Vec<Vec<f64>>,
}

pub struct NaiveModel {
    weights: HashMap<String, Vec<f64>>,
    hidden: usize,
    mlp: usize,
    layers: usize,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    vocab: usize,
    eps: f64,
    base: f64,
    tied: bool,
    qk_norm: bool,
    /// BitLinear projections: ternary weights (already dequantized at load), int8 activations, SubLN.
    student: bool,
}

impl NaiveModel {
    /// Reads every tensor of the given safetensors files, widened to f64; for a student (`c.student` set)
    /// the projection weights are replaced by `Δ · RoundClip(W / Δ, −1, 1)`, `Δ = max(mean|W|, 1e-5)` (the
    /// official code's weight_quant).
    pub fn new(c: &HunYuanConfig, files: &[PathBuf]) -> Self {
        let mut weights = HashMap::new();
        for path in files {
            let file = SafetensorsFile::open(path).unwrap();
            for name in file.names() {
                let data = file.read_f32(&name, None).unwrap().try_into_vec_as::<f32>().unwrap();
                let mut values: Vec<f64> = data.into_iter().map(f64::from).collect();
                if c.student.is_some() && name.ends_with("_proj.weight") && name.starts_with("model.layers.") {
                    let delta = (values.iter().map(|v| v.abs()).sum::<f64>() / values.len() as f64).max(1e-5);
                    values
                        .iter_mut()
                        .for_each(|v| *v = delta * (*v / delta).round_ties_even().clamp(-1.0, 1.0));
                }
                weights.insert(name, values);
            }
        }
        let d = c.head_dim as f64;
        Self {
            weights,
            hidden: c.hidden_size,
            mlp: c.intermediate_size,
            layers: c.num_hidden_layers,
            heads: c.num_attention_heads,
            kv_heads: c.num_key_value_heads,
            head_dim: c.head_dim,
            vocab: c.vocab_size,
            eps: c.rms_norm_eps,
            base: c.rope_theta * c.rope_alpha.powf(d / (d - 2.0)),
            tied: c.tie_word_embeddings,
            qk_norm: c.use_qk_norm,
            student: c.student.is_some(),
        }
    }

    fn w(&self, name: &str) -> &[f64] {
        self.weights
            .get(name)
            .unwrap_or_else(|| panic!("naive reference: no tensor {name}"))
    }

    /// Logits `[T][vocab]` of one sequence.
    pub fn logits(&self, ids: &[usize]) -> Vec<Vec<f64>> {
        self.trace(ids).0
    }

    /// Logits `[T][vocab]` of one sequence and every layer's states.
    pub fn trace(&self, ids: &[usize]) -> (Vec<Vec<f64>>, Vec<NaiveLayer>) {
        let mut states = Vec::with_capacity(self.layers);
        let embed = self.w("model.embed_tokens.weight");
        let mut x: Vec<Vec<f64>> = ids
            .iter()
            .map(|&id| embed[id * self.hidden..(id + 1) * self.hidden].to_vec())
            .collect();
        for l in 0..self.layers {
            let p = format!("model.layers.{l}");
            let normed: Vec<Vec<f64>> = x
                .iter()
                .map(|v| rms(v, self.w(&format!("{p}.input_layernorm.weight")), self.eps))
                .collect();
            let (attn, mut layer) = self.attention(&p, &normed);
            for (xt, at) in x.iter_mut().zip(&attn) {
                xt.iter_mut().zip(at).for_each(|(a, b)| *a += b);
            }
            for xt in x.iter_mut() {
                let h = rms(xt, self.w(&format!("{p}.post_attention_layernorm.weight")), self.eps);
                let gate = self.project(&format!("{p}.mlp.gate_proj"), &h, self.mlp);
                let up = self.project(&format!("{p}.mlp.up_proj"), &h, self.mlp);
                let act: Vec<f64> = gate.iter().zip(&up).map(|(g, u)| g / (1.0 + (-g).exp()) * u).collect();
                let down = self.project(&format!("{p}.mlp.down_proj"), &act, self.hidden);
                xt.iter_mut().zip(&down).for_each(|(a, b)| *a += b);
            }
            layer.attention_output = attn;
            layer.output = x.clone();
            states.push(layer);
        }
        let head = if self.tied {
            self.w("model.embed_tokens.weight")
        } else {
            self.w("lm_head.weight")
        };
        let normed: Vec<Vec<f64>> = x
            .iter()
            .map(|v| rms(v, self.w("model.norm.weight"), self.eps))
            .collect();
        let logits = normed.iter().map(|v| matvec(head, v, self.vocab)).collect();
        if let Some(last) = states.last_mut() {
            last.output = normed;
        }
        (logits, states)
    }

    fn attention(&self, p: &str, x: &[Vec<f64>]) -> (Vec<Vec<f64>>, NaiveLayer) {
        let (hd, len) = (self.head_dim, x.len());
        let proj = |name: &str, out: usize| -> Vec<Vec<f64>> {
            x.iter()
                .map(|v| self.project(&format!("{p}.self_attn.{name}"), v, out))
                .collect()
        };
        let q = proj("q_proj", self.heads * hd);
        let k = proj("k_proj", self.kv_heads * hd);
        let v = proj("v_proj", self.kv_heads * hd);
        // rope, then per-head RMSNorm (after RoPE, as the reference does).
        let prep = |states: &[Vec<f64>], heads: usize, norm: &str| -> Vec<Vec<Vec<f64>>> {
            (0..len)
                .map(|t| {
                    (0..heads)
                        .map(|h| {
                            let rotated = self.rope(&states[t][h * hd..(h + 1) * hd], t);
                            if self.qk_norm {
                                rms(&rotated, self.w(&format!("{p}.self_attn.{norm}.weight")), self.eps)
                            } else {
                                rotated
                            }
                        })
                        .collect()
                })
                .collect()
        };
        let (q_proj, k_proj) = (q.clone(), k.clone());
        let q = prep(&q, self.heads, "query_layernorm");
        let k = prep(&k, self.kv_heads, "key_layernorm");
        let side_by_side = |states: &[Vec<Vec<f64>>]| -> Vec<Vec<f64>> { states.iter().map(|t| t.concat()).collect() };
        let qkv = NaiveLayer {
            q_attended: side_by_side(&q),
            k_attended: side_by_side(&k),
            q_proj,
            k_proj,
            v_proj: v.clone(),
            attention_output: Vec::new(),
            output: Vec::new(),
        };
        let group = self.heads / self.kv_heads;
        let mut out = vec![vec![0.0; self.heads * hd]; len];
        for t in 0..len {
            for h in 0..self.heads {
                let kv = h / group;
                let scores: Vec<f64> = (0..=t)
                    .map(|s| q[t][h].iter().zip(&k[s][kv]).map(|(a, b)| a * b).sum::<f64>() / (hd as f64).sqrt())
                    .collect();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f64 = exps.iter().sum();
                for (s, e) in exps.iter().enumerate() {
                    for d in 0..hd {
                        out[t][h * hd + d] += e / total * v[s][kv * hd + d];
                    }
                }
            }
        }
        let out = out
            .iter()
            .map(|o| self.project(&format!("{p}.self_attn.o_proj"), o, self.hidden))
            .collect();
        (out, qkv)
    }

    /// A projection: dense for a teacher; for a student SubLN (when stored), per-token int8 absmax
    /// activations, then the ternary weight.
    fn project(&self, prefix: &str, x: &[f64], out: usize) -> Vec<f64> {
        let weight = self.w(&format!("{prefix}.weight"));
        if !self.student {
            return matvec(weight, x, out);
        }
        let normed = match self.weights.get(&format!("{prefix}.rms_norm.weight")) {
            Some(scale) => rms(x, scale, self.eps),
            None => x.to_vec(),
        };
        let s = 127.0 / normed.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-5);
        let quantized: Vec<f64> = normed
            .iter()
            .map(|v| (v * s).round_ties_even().clamp(-128.0, 127.0) / s)
            .collect();
        matvec(weight, &quantized, out)
    }

    fn rope(&self, x: &[f64], position: usize) -> Vec<f64> {
        let half = x.len() / 2;
        let mut y = vec![0.0; x.len()];
        for i in 0..half {
            let angle = position as f64 * self.base.powf(-2.0 * i as f64 / x.len() as f64);
            let (sin, cos) = angle.sin_cos();
            y[i] = x[i] * cos - x[i + half] * sin;
            y[i + half] = x[i + half] * cos + x[i] * sin;
        }
        y
    }
}

fn rms(x: &[f64], weight: &[f64], eps: f64) -> Vec<f64> {
    let mean = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
    let scale = 1.0 / (mean + eps).sqrt();
    x.iter().zip(weight).map(|(v, w)| v * scale * w).collect()
}

/// `W x` for `W: [out, in]` stored row-major.
fn matvec(w: &[f64], x: &[f64], out: usize) -> Vec<f64> {
    let inputs = x.len();
    assert_eq!(w.len(), out * inputs, "matvec shape");
    (0..out)
        .map(|o| w[o * inputs..(o + 1) * inputs].iter().zip(x).map(|(a, b)| a * b).sum())
        .collect()
}

/// `log softmax` of one row.
pub fn log_softmax(x: &[f64]) -> Vec<f64> {
    let max = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    x.iter().map(|v| v - lse).collect()
}

/// How attention relations are formed: r heads, cosine (normalised) or scaled dot products, causal keys or all,
/// probabilities clamped at 1e-8 (the official reduction) or not.
#[derive(Clone, Copy, Debug)]
pub struct RelationForm {
    pub heads: usize,
    pub cosine: bool,
    pub causal: bool,
    pub clamp: bool,
}

/// Σ_i∈queries KL_i over the r relation heads of one state `[T][W]` (teacher, student), written from the
/// official code: split into heads, (normalise,) a·aᵀ (/√d), softmax over the allowed keys, (clamp,) KL.
pub fn relation_kl_sum(t: &[Vec<f64>], s: &[Vec<f64>], queries: &[usize], c: RelationForm) -> f64 {
    let width = t[0].len();
    let d = width / c.heads;
    let head = |a: &[f64], h: usize| -> Vec<f64> {
        let v = a[h * d..(h + 1) * d].to_vec();
        if !c.cosine {
            return v;
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
        v.iter().map(|x| x / norm).collect()
    };
    let scale = if c.cosine { 1.0 } else { 1.0 / (d as f64).sqrt() };
    let mut total = 0.0;
    for h in 0..c.heads {
        for &i in queries {
            let keys: Vec<usize> = queries.iter().copied().filter(|&x| !c.causal || x <= i).collect();
            let probs = |states: &[Vec<f64>]| -> Vec<f64> {
                let qi = head(&states[i], h);
                let scores: Vec<f64> = keys
                    .iter()
                    .map(|&x| qi.iter().zip(head(&states[x], h)).map(|(a, b)| a * b).sum::<f64>() * scale)
                    .collect();
                let p: Vec<f64> = log_softmax(&scores).iter().map(|l| l.exp()).collect();
                if c.clamp {
                    p.iter().map(|v| v.max(1e-8)).collect()
                } else {
                    p
                }
            };
            let (pt, ps) = (probs(t), probs(s));
            total += pt.iter().zip(&ps).map(|(a, b)| a * (a.ln() - b.ln())).sum::<f64>();
        }
    }
    total
}
