#!/bin/bash
# One prepared device check (run from the repository root through the device tool, with `.gl` and `.gpu` carried):
# the WGSL kernels against their references (timings, device memory of the relation KL), training with each
# kernel path, and the model's forward/training speed under burn's WGSL compiler vs its SPIR-V compiler.
# .gpu/ holds xz-compressed stripped binaries built here: bitdistill (default) and bitdistill-spirv
# (`--features spirv`); .gl/ holds Debian's Vulkan loader and xz-utils packages.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
xz -dc .gpu/bitdistill.xz > /tmp/bd && chmod +x /tmp/bd
if [ -f .gpu/bitdistill-spirv.xz ]; then xz -dc .gpu/bitdistill-spirv.xz > /tmp/bd-spirv && chmod +x /tmp/bd-spirv; fi
export BITDISTILL_ASSETS=$PWD/assets RUST_BACKTRACE=1
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; } | tee $OUT/machine.txt
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; fi
export WGPU_BACKEND=vulkan
timeout 170 /tmp/bd bench kernels --long --warmup 3 --iters 10 2>&1 | tee $OUT/kernels.txt
# Device memory of the relation KL's forward + backward: the peak of nvidia-smi's memory.used during each case.
for len in 512 2048; do for k in fused reference; do
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 5 > /tmp/mem.txt & sampler=$!
  timeout 60 /tmp/bd bench kernels-memory-case --len $len --kernels $k > /dev/null 2>&1; status=$?
  kill $sampler; echo "relation_kl T=$len $k: peak device memory $(sort -n /tmp/mem.txt | tail -1) MiB (exit $status)"
done; done 2>&1 | tee $OUT/memory.txt
timeout 150 /tmp/bd bench train --backends wgpu --kernels fused,reference --steps 4 --batch 8 --block 128 2>&1 | tee $OUT/train.txt
timeout 60 /tmp/bd bench forward --model assets/tiny-hymt --backends wgpu --seq 512 --batch 4 --iters 5 2>&1 | tee $OUT/forward.txt
if [ -x /tmp/bd-spirv ]; then
  timeout 60 /tmp/bd-spirv bench forward --model assets/tiny-hymt --backends wgpu --seq 512 --batch 4 --iters 5 2>&1 | tee $OUT/forward-spirv.txt
  timeout 100 /tmp/bd-spirv bench train --backends wgpu --kernels reference --steps 4 --batch 8 --block 128 2>&1 | tee $OUT/train-spirv.txt
fi
echo done
