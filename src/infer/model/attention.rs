//! Causal GQA attention of the CPU engine over one pass's segments: each sequence's new positions attend to
//! its own cached keys and values, and NeoX split-half RoPE at each sequence's own positions.

use rayon::prelude::*;

use super::{NativeLayer, NativeModel, Segment};
use crate::infer::dense::dot_f32;
use crate::infer::linear::NativeLinear;
use crate::infer::norm::rms_norm_rows;

impl NativeModel {
    /// Attention of the segments' new tokens (`x: [tokens, hidden]`, the segments' tokens one after another);
    /// appends their keys and values to the segments' caches. Returns the attended values `[tokens, heads · d]`
    /// and this call's q, k (after RoPE and qk-norm) and v.
    pub(super) fn attention(
        &self,
        layer: &NativeLayer,
        x: &[f32],
        segments: &mut [Segment],
        index: usize,
    ) -> (Vec<f32>, [Vec<f32>; 3]) {
        let c = &self.config;
        let (heads, kv_heads, d) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
        let eps = c.rms_norm_eps as f32;
        let tokens = x.len() / c.hidden_size;
        let [mut q, mut k, v] = NativeLinear::forward_group([&layer.q_proj, &layer.k_proj, &layer.v_proj], x, tokens);
        // Which segment each token belongs to, and its position in that sequence.
        let mut owners = Vec::with_capacity(tokens);
        let mut offset = 0;
        for (number, segment) in segments.iter_mut().enumerate() {
            let (len, start) = (segment.ids.len(), segment.cache.positions);
            self.rope(&mut q[offset * heads * d..(offset + len) * heads * d], start, heads);
            self.rope(
                &mut k[offset * kv_heads * d..(offset + len) * kv_heads * d],
                start,
                kv_heads,
            );
            owners.extend((0..len).map(|token| (number, start + token)));
            offset += len;
        }
        if let Some((q_gamma, k_gamma)) = &layer.qk_norm {
            q = rms_norm_rows(&q, q_gamma, eps);
            k = rms_norm_rows(&k, k_gamma, eps);
        }
        let mut offset = 0;
        for segment in segments.iter_mut() {
            let rows = offset * kv_heads * d..(offset + segment.ids.len()) * kv_heads * d;
            segment.cache.keys[index].extend_from_slice(&k[rows.clone()]);
            segment.cache.values[index].extend_from_slice(&v[rows]);
            offset += segment.ids.len();
        }
        let caches: Vec<(&[f32], &[f32])> = segments
            .iter()
            .map(|s| (&s.cache.keys[index][..], &s.cache.values[index][..]))
            .collect();
        let group = heads / kv_heads;
        let scale = (d as f32).sqrt().recip();
        let mut out = vec![0f32; tokens * heads * d];
        // One task per (token, head): each reads its query, the cached keys/values of its sequence's KV head,
        // writes d outputs.
        out.par_chunks_mut(d).enumerate().for_each(|(task, out)| {
            let (token, head) = (task / heads, task % heads);
            let (segment, position) = owners[token];
            let (keys, values) = caches[segment];
            let kv = head / group;
            let query = &q[(token * heads + head) * d..][..d];
            let visible = position + 1;
            let mut scores: Vec<f32> = (0..visible)
                .map(|p| dot_f32(query, &keys[(p * kv_heads + kv) * d..][..d]) * scale)
                .collect();
            let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
            let mut total = 0f32;
            for s in scores.iter_mut() {
                *s = (*s - max).exp();
                total += *s;
            }
            for (p, weight) in scores.iter().enumerate() {
                let value = &values[(p * kv_heads + kv) * d..][..d];
                for (o, v) in out.iter_mut().zip(value) {
                    *o += weight / total * v;
                }
            }
        });
        (out, [q, k, v])
    }

    /// NeoX split-half RoPE of `[tokens, heads · d]` at positions `start..`.
    fn rope(&self, x: &mut [f32], start: usize, heads: usize) {
        let d = self.config.head_dim;
        let half = d / 2;
        for (token, row) in x.chunks_exact_mut(heads * d).enumerate() {
            let position = (start + token) as f64;
            let (cos, sin): (Vec<f32>, Vec<f32>) = self
                .inverse_frequencies
                .iter()
                .map(|f| ((position * f).cos() as f32, (position * f).sin() as f32))
                .unzip();
            for head in row.chunks_exact_mut(d) {
                for i in 0..half {
                    let (x1, x2) = (head[i], head[i + half]);
                    head[i] = x1 * cos[i] - x2 * sin[i];
                    head[i + half] = x2 * cos[i] + x1 * sin[i];
                }
            }
        }
    }
}
