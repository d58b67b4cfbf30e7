//! Matrix products split over rayon's threads by blocks of output rows: each task reads its weight rows once
//! for every token and writes its outputs straight into the `[tokens, rows]` result (no transpose afterwards).
//! Several matrices that share an input (q, k, v; gate, up) run as one parallel region, so a decoded token
//! wakes the thread pool once per group instead of once per projection.

use std::marker::PhantomData;

use rayon::prelude::*;

/// The outputs one task may write: rows `first .. first + count` of one `[tokens, rows]` matrix.
pub(crate) struct RowBlock<'a> {
    out: *mut f32,
    rows: usize,
    tokens: usize,
    pub first: usize,
    pub count: usize,
    _out: PhantomData<&'a mut [f32]>,
}

impl RowBlock<'_> {
    /// `y[token, first + row] = value`.
    pub fn set(&mut self, row: usize, token: usize, value: f32) {
        assert!(row < self.count && token < self.tokens, "inside the task's rows");
        // SAFETY: the index lies inside the matrix (asserted, and first + count ≤ rows by construction), and no
        // other task's block covers this row, so no two threads write one element.
        unsafe { *self.out.add(token * self.rows + self.first + row) = value }
    }
}

/// A result's base pointer, handed to the tasks (each writes only its own rows).
struct Outputs(Vec<*mut f32>);
// SAFETY: the tasks write disjoint elements (see `RowBlock::set`) and the vectors outlive the parallel region.
unsafe impl Sync for Outputs {}

impl Outputs {
    fn get(&self, matrix: usize) -> *mut f32 {
        self.0[matrix]
    }
}

/// One `[tokens, rows[m]]` result per matrix `m`, filled by `fill(m, block)` over blocks of `rows_per_task`
/// rows, all matrices' blocks in one parallel region.
pub(crate) fn row_blocks_in_parallel(
    rows: &[usize],
    tokens: usize,
    rows_per_task: usize,
    fill: impl Fn(usize, &mut RowBlock) + Sync,
) -> Vec<Vec<f32>> {
    let mut results: Vec<Vec<f32>> = rows.iter().map(|&r| vec![0f32; r * tokens]).collect();
    let outputs = Outputs(results.iter_mut().map(|r| r.as_mut_ptr()).collect());
    let tasks: Vec<(usize, usize)> = rows
        .iter()
        .enumerate()
        .flat_map(|(matrix, &r)| (0..r).step_by(rows_per_task.max(1)).map(move |first| (matrix, first)))
        .collect();
    tasks.into_par_iter().for_each(|(matrix, first)| {
        let mut block = RowBlock {
            out: outputs.get(matrix),
            rows: rows[matrix],
            tokens,
            first,
            count: rows_per_task.min(rows[matrix] - first),
            _out: PhantomData,
        };
        fill(matrix, &mut block);
    });
    results
}

/// `y[token, row] = value(row, token)` for one `[rows, ·]` matrix.
pub(crate) fn rows_in_parallel(
    rows: usize,
    tokens: usize,
    rows_per_task: usize,
    value: impl Fn(usize, usize) -> f32 + Sync,
) -> Vec<f32> {
    let mut results = row_blocks_in_parallel(&[rows], tokens, rows_per_task, |_, block| {
        for row in 0..block.count {
            for token in 0..tokens {
                block.set(row, token, value(block.first + row, token));
            }
        }
    });
    results.pop().expect("one matrix")
}
