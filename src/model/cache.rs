//! Key/value cache for incremental decoding.

use burn::tensor::{Int, Tensor, TensorData};

/// Keys (after RoPE and qk-norm) and values of every layer, each `[B, kv_heads, S, head_dim]`.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
}

impl KvCache {
    /// An empty cache for `num_layers` layers.
    pub fn new(num_layers: usize) -> Self {
        Self {
            layers: vec![None; num_layers],
        }
    }

    /// Number of positions already cached.
    pub fn len(&self) -> usize {
        self.layers
            .first()
            .and_then(|layer| layer.as_ref())
            .map_or(0, |(k, _)| k.dims()[2])
    }

    /// Whether nothing is cached yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the batch rows `rows` of every layer, in that order.
    pub(crate) fn select_rows(&mut self, rows: &[usize]) {
        let Some(device) = self.layers.iter().flatten().next().map(|(k, _)| k.device()) else {
            return;
        };
        let indices: Vec<i64> = rows.iter().map(|&row| row as i64).collect();
        let indices = Tensor::<1, Int>::from_data(TensorData::new(indices, [rows.len()]), &device);
        for (k, v) in self.layers.iter_mut().flatten() {
            *k = k.clone().select(0, indices.clone());
            *v = v.clone().select(0, indices.clone());
        }
    }

    /// Drops the first `count` positions of every layer.
    pub(crate) fn drop_leading(&mut self, count: usize) {
        let len = self.len();
        for (k, v) in self.layers.iter_mut().flatten() {
            *k = k.clone().narrow(2, count, len - count);
            *v = v.clone().narrow(2, count, len - count);
        }
    }

    /// Appends the rows of `other` after this cache's, the shorter one padded at the front with `pad` zero
    /// positions (what the caller masks out); returns the padding each side got.
    pub(crate) fn stack_rows(&mut self, other: KvCache) -> (usize, usize) {
        let (mine, theirs) = (self.len(), other.len());
        let longest = mine.max(theirs);
        for (slot, added) in self.layers.iter_mut().zip(other.layers) {
            *slot = match (slot.take(), added) {
                (Some((k, v)), Some((k2, v2))) => {
                    let pad = |t: Tensor<4>, len: usize| pad_front(t, longest - len);
                    Some((
                        Tensor::cat(vec![pad(k, mine), pad(k2, theirs)], 0),
                        Tensor::cat(vec![pad(v, mine), pad(v2, theirs)], 0),
                    ))
                }
                (mine, added) => mine.or(added),
            };
        }
        (longest - mine, longest - theirs)
    }

    /// Appends this step's keys and values to layer `index` and returns the whole sequence so far.
    pub(crate) fn append(&mut self, index: usize, k: Tensor<4>, v: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let (k, v) = match self.layers[index].take() {
            Some((past_k, past_v)) => (Tensor::cat(vec![past_k, k], 2), Tensor::cat(vec![past_v, v], 2)),
            None => (k, v),
        };
        self.layers[index] = Some((k.clone(), v.clone()));
        (k, v)
    }
}

/// `t: [B, H, S, d]` with `count` zero positions in front.
fn pad_front(t: Tensor<4>, count: usize) -> Tensor<4> {
    if count == 0 {
        return t;
    }
    let [batch, heads, _, d] = t.dims();
    let zeros = Tensor::zeros([batch, heads, count, d], &t.device());
    Tensor::cat(vec![zeros, t], 2)
}
