#!/usr/bin/env bash
# Builds ci/neon for aarch64 and runs it under qemu-user (needs: rustup target aarch64-unknown-linux-gnu,
# Debian's gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user), then natively for the x86 path.
set -euo pipefail
cd "$(dirname "$0")"
target_dir="${CARGO_TARGET_DIR:-$HOME/.cache/bitdistill-target}/neon-check"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
cargo run --quiet --release --target-dir "$target_dir" --target aarch64-unknown-linux-gnu
cargo run --quiet --release --target-dir "$target_dir"
