// out[j] = Σ_k partial[k · len + j] over the key splits of relation_kl_backward.wgsl, in split order (so the
// gradient is the same on every run).

@group(0) @binding(0) var<storage, read_write> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> summed: array<f32>;
// [len, splits]
@group(0) @binding(2) var<storage, read_write> params: array<u32>;

const WORKGROUP: u32 = {{ workgroup }}u;

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let len = params[0];
    let splits = params[1];
    let j = (group.y * groups.x + group.x) * WORKGROUP + lane;
    if j >= len {
        return;
    }
    var sum = 0.0;
    for (var k = 0u; k < splits; k++) {
        sum += partial[k * len + j];
    }
    summed[j] = sum;
}
