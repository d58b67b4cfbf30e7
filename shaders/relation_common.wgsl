// Shared by relation_kl.wgsl and relation_kl_backward.wgsl (appended to each by src/kernels/shader.rs): the
// launch parameters, which (key split, batch, head, query) an invocation owns, and the relation scores. Both
// shaders declare `student`, `teacher`, `params` and HEAD_WIDTH (a multiple of 4).

// params: [batch, len, width, heads, causal (0 | 1), c (f32 bits), splits, keys per split]
struct Relation {
    batch: u32,
    len: u32,
    width: u32,
    heads: u32,
    causal: bool,
    scale: f32,
    splits: u32,
    keys_per_split: u32,
    // Query rows: batch · heads · len.
    total: u32,
}

fn relation() -> Relation {
    let batch = params[0];
    let len = params[1];
    let heads = params[3];
    return Relation(batch, len, params[2], heads, params[4] == 1u, bitcast<f32>(params[5]), params[6], params[7],
        batch * heads * len);
}

// What invocation `index` (< splits · total) owns: query row `row` = (b, head, i) and key split `split`, whose
// keys are `first` .. `first + keys_per_split`; `query` is where the row's head slice starts.
struct Slot {
    row: u32,
    split: u32,
    b: u32,
    head: u32,
    i: u32,
    first: u32,
    query: u32,
}

fn slot(r: Relation, index: u32) -> Slot {
    let row = index % r.total;
    let split = index / r.total;
    let i = row % r.len;
    let head = (row / r.len) % r.heads;
    let b = row / (r.len * r.heads);
    return Slot(row, split, b, head, i, split * r.keys_per_split, (b * r.len + i) * r.width + head * HEAD_WIDTH);
}

// Where key x's head slice starts, for the slot's batch and head.
fn key_at(r: Relation, s: Slot, x: u32) -> u32 {
    return (s.b * r.len + x) * r.width + s.head * HEAD_WIDTH;
}

fn student4(at: u32) -> vec4<f32> {
    return vec4<f32>(student[at], student[at + 1u], student[at + 2u], student[at + 3u]);
}

fn teacher4(at: u32) -> vec4<f32> {
    return vec4<f32>(teacher[at], teacher[at + 1u], teacher[at + 2u], teacher[at + 3u]);
}

// (student, teacher) relation scores between the head slices that start at `a` and `b`. Sixteen columns a
// trip: lavapipe (llvmpipe) ends any loop after 65,535 trips per invocation, which len·d/4 would reach.
fn scores(a: u32, b: u32, scale: f32) -> vec2<f32> {
    var s = vec4<f32>(0.0);
    var t = vec4<f32>(0.0);
    var k = 0u;
    for (; k + 16u <= HEAD_WIDTH; k += 16u) {
        s += student4(a + k) * student4(b + k) + student4(a + k + 4u) * student4(b + k + 4u)
            + student4(a + k + 8u) * student4(b + k + 8u) + student4(a + k + 12u) * student4(b + k + 12u);
        t += teacher4(a + k) * teacher4(b + k) + teacher4(a + k + 4u) * teacher4(b + k + 4u)
            + teacher4(a + k + 8u) * teacher4(b + k + 8u) + teacher4(a + k + 12u) * teacher4(b + k + 12u);
    }
    for (; k < HEAD_WIDTH; k += 4u) {
        s += student4(a + k) * student4(b + k);
        t += teacher4(a + k) * teacher4(b + k);
    }
    return vec2<f32>(s.x + s.y + s.z + s.w, t.x + t.y + t.z + t.w) * scale;
}
