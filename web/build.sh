#!/usr/bin/env bash
# The browser bundle: writes a static site into dist/ that any static server can serve (`dist/index.html`):
# the app compiled to wasm32 (pkg/), its worker (worker.js), and the bundled teacher and its distilled, packed
# 1.58-bit student as ordinary model directories (models/teacher/, models/student/) that the page fetches and
# the CLI reads alike, and the browser's run file (train.toml) with the Stage-3 pairs it trains on (data/).
# Usage: bash web/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The same profile and target directory as every other build, outside the clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bitdistill-target}"
# wasm-bindgen's CLI must be the version of the wasm-bindgen crate in Cargo.lock.
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print }' Cargo.lock)"
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $bindgen_version"; then
    # Its own lockfile does not resolve here, so no --locked.
    cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
rustup target add wasm32-unknown-unknown
cargo build --target wasm32-unknown-unknown --bin bitdistill

rm -rf dist
mkdir -p dist/models
wasm-bindgen --target web --no-typescript --out-dir dist/pkg \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/bitdistill.wasm"
cp web/index.html web/worker.js web/train.toml dist/
mkdir -p dist/data
cp assets/data/train.jsonl dist/data/

# A model directory's files as the loaders read them (no card, no training state).
copy_model() {
    mkdir -p "$2"
    cp "$1/config.json" "$1/tokenizer.json" "$1/model.safetensors" "$2/"
}
copy_model assets/tiny-hymt dist/models/teacher
copy_model assets/tiny-hymt-student dist/models/student

echo "dist/: $(du -sh dist | cut -f1) (wasm $(du -h dist/pkg/bitdistill_bg.wasm | cut -f1), gzip -9 $(gzip -9c dist/pkg/bitdistill_bg.wasm | wc -c | numfmt --to=iec))"
