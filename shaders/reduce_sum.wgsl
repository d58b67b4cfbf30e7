// Deterministic sum of x (or of |x|) over a buffer. Launched twice: first every workgroup sums one fixed
// chunk (each lane a fixed stride, then a fixed halving tree), then a single workgroup sums those partials the
// same way. No float atomics: the order of additions never changes, so neither does the result.

@group(0) @binding(0) var<storage, read_write> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;
// [len, chunk, absolute (0 | 1)]
@group(0) @binding(2) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;

var<workgroup> lanes: array<f32, WORKGROUP>;

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let len = params[0];
    let chunk = params[1];
    let absolute = params[2] == 1u;
    let chunk_index = group.y * groups.x + group.x;
    let start = chunk_index * chunk;
    let end = min(start + chunk, len);

    var sum = 0.0;
    for (var i = start + lane; i < end; i += WORKGROUP) {
        let value = values[i];
        sum += select(value, abs(value), absolute);
    }
    lanes[lane] = sum;
    workgroupBarrier();
    for (var stride = WORKGROUP / 2u; stride > 0u; stride /= 2u) {
        if lane < stride {
            lanes[lane] += lanes[lane + stride];
        }
        workgroupBarrier();
    }
    if lane == 0u && start < len {
        sums[chunk_index] = lanes[0];
    }
}
