//! Generating for many prompts at once, continuously batched: up to `rows` sequences decode together, each
//! fed its newest token in one pass; a row leaves the batch when it stops and waiting prompts join once half the
//! rows are free (their prompts run in one pass of their own), so a batch never waits, nearly empty, on its
//! longest translation. Each row chooses its tokens exactly as [`generate`] does alone: its own context for the
//! repetition penalty, its own random stream seeded alike.

use std::collections::VecDeque;
use std::ops::ControlFlow;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{DecodeState, GenerationConfig, LanguageModel, generate, next_token};

/// Several sequences being decoded together; a row is a sequence, numbered from 0.
pub trait BatchDecodeState {
    /// Appends `feeds[i].1` (non-empty) to row `feeds[i].0` (rows increasing) and returns the logits `[vocab]`
    /// of each fed row's last position, in `feeds`' order. A row's first feed starts it (its prompt); a started
    /// row left out of a call has finished: it is never fed again, and its cache may be freed.
    fn feed(&mut self, feeds: &[(usize, &[u32])]) -> Vec<Vec<f32>>;
}

/// Per-row states of a batch, made up front (empty caches cost nothing): a row runs from its first feed until
/// a call leaves it out, when its state is dropped.
pub(crate) struct RowSlots<T>(Vec<Slot<T>>);

enum Slot<T> {
    Waiting(T),
    Running(T),
    Finished,
}

impl<T> RowSlots<T> {
    pub fn new(rows: usize, mut make: impl FnMut() -> T) -> Self {
        Self((0..rows).map(|_| Slot::Waiting(make())).collect())
    }

    /// Starts the rows fed for the first time and drops those that finished: afterwards exactly the fed rows
    /// run.
    pub fn update(&mut self, feeds: &[(usize, &[u32])]) {
        let mut fed = vec![false; self.0.len()];
        feeds.iter().for_each(|&(row, _)| fed[row] = true);
        for (row, (slot, fed)) in self.0.iter_mut().zip(fed).enumerate() {
            *slot = match (std::mem::replace(slot, Slot::Finished), fed) {
                (Slot::Waiting(state) | Slot::Running(state), true) => Slot::Running(state),
                (Slot::Waiting(state), false) => Slot::Waiting(state),
                (Slot::Running(_) | Slot::Finished, false) => Slot::Finished,
                (Slot::Finished, true) => panic!("row {row} fed after it finished"),
            };
        }
    }

    /// The running rows' states, rows increasing.
    pub fn running_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.0.iter_mut().filter_map(|slot| match slot {
            Slot::Running(state) => Some(state),
            _ => None,
        })
    }
}

/// The default batch: one [`DecodeState`] per row, fed in turn.
pub(super) struct RowByRow<'a>(pub RowSlots<Box<dyn DecodeState + 'a>>);

impl BatchDecodeState for RowByRow<'_> {
    fn feed(&mut self, feeds: &[(usize, &[u32])]) -> Vec<Vec<f32>> {
        self.0.update(feeds);
        self.0
            .running_mut()
            .zip(feeds)
            .map(|(state, &(_, ids))| state.feed(ids))
            .collect()
    }
}

/// Generates after every prompt, up to `rows` decoded together, and returns each prompt's new tokens (the stop
/// token included if one was hit): for every prompt what [`generate`] returns for it alone. Prompts join in the
/// order given; `on_finish` sees each one, by index, as it stops. Without the cache (`use_cache` off) prompts
/// run one at a time.
pub fn generate_batch(
    model: &dyn LanguageModel,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
    rows: usize,
    mut on_finish: impl FnMut(usize, &[u32]),
) -> Vec<Vec<u32>> {
    let mut generated = vec![Vec::new(); prompts.len()];
    if !config.use_cache || config.max_new_tokens == 0 {
        for (index, prompt) in prompts.iter().enumerate() {
            generated[index] = generate(model, prompt, config, |_| ControlFlow::Continue(()));
            on_finish(index, &generated[index]);
        }
        return generated;
    }
    let rows = rows.max(1);
    let mut state = model.start_batch(prompts.len());
    let mut rngs: Vec<StdRng> = prompts.iter().map(|_| StdRng::seed_from_u64(config.seed)).collect();
    let mut contexts = prompts.to_vec();
    let mut fed = vec![0; prompts.len()];
    let mut waiting: VecDeque<usize> = (0..prompts.len()).collect();
    let mut active: Vec<usize> = Vec::with_capacity(rows);
    loop {
        if 2 * active.len() <= rows {
            let free = rows - active.len();
            active.extend(waiting.drain(..free.min(waiting.len())));
            active.sort_unstable();
        }
        if active.is_empty() {
            return generated;
        }
        let feeds: Vec<(usize, &[u32])> = active.iter().map(|&row| (row, &contexts[row][fed[row]..])).collect();
        let logits = state.feed(&feeds);
        let mut unfinished = Vec::with_capacity(rows);
        for (row, mut last) in active.drain(..).zip(logits) {
            let token = next_token(&mut last, &contexts[row], config, &mut rngs[row]);
            fed[row] = contexts[row].len();
            contexts[row].push(token);
            generated[row].push(token);
            if config.stop_tokens.contains(&token) || generated[row].len() >= config.max_new_tokens {
                on_finish(row, &generated[row]);
            } else {
                unfinished.push(row);
            }
        }
        active = unfinished;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_run_from_their_first_feed_until_left_out() {
        let mut slots = RowSlots::new(3, || 0usize);
        let ids: &[u32] = &[1];
        slots.update(&[(1, ids)]);
        slots.running_mut().for_each(|s| *s += 1);
        slots.update(&[(0, ids), (1, ids)]);
        slots.running_mut().for_each(|s| *s += 10);
        let running: Vec<usize> = slots.running_mut().map(|s| *s).collect();
        assert_eq!(running, vec![10, 11]);
        // Row 1 left out: finished; row 2 still waits.
        slots.update(&[(0, ids), (2, ids)]);
        let running: Vec<usize> = slots.running_mut().map(|s| *s).collect();
        assert_eq!(running, vec![10, 0]);
    }

    #[test]
    #[should_panic(expected = "row 1 fed after it finished")]
    fn a_finished_row_cannot_be_fed_again() {
        let mut slots = RowSlots::new(2, || ());
        let ids: &[u32] = &[1];
        slots.update(&[(1, ids)]);
        slots.update(&[(0, ids)]);
        slots.update(&[(1, ids)]);
    }
}
