#!/bin/bash
# One prepared device check: burn-wgpu (WGSL path) on the lent GPU: matmul TFLOP/s, forward and training tokens/s.
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
gunzip -c .gpu/bitdistill.gz > /tmp/bd && chmod +x /tmp/bd
export BITDISTILL_ASSETS=$PWD/assets RUST_BACKTRACE=1
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>&1; nproc; } | tee $OUT/machine.txt
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; fi
export WGPU_BACKEND=vulkan
timeout 150 /tmp/bd bench matmul --backends wgpu --sizes 1024,2048,4096,8192 --warmup 5 --iters 20 2>&1 | tee $OUT/matmul.txt
timeout 60 /tmp/bd bench matmul --backends ndarray --sizes 1024,2048 --warmup 1 --iters 3 2>&1 | tee -a $OUT/matmul.txt
timeout 120 /tmp/bd bench forward --model assets/tiny-hymt --backends wgpu,ndarray --seq 512 --batch 4 --iters 5 2>&1 | tee $OUT/forward.txt
timeout 200 /tmp/bd bench train --backends wgpu,ndarray --steps 4 --batch 8 --block 128 2>&1 | tee $OUT/train.txt
echo done
