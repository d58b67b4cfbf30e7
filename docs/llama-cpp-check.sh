#!/usr/bin/env bash
# The manual llama.cpp check of `export --format gguf` (README, "llama.cpp"): builds llama.cpp from the source
# vendored in PyPI's llama-cpp-python 0.3.36 (unless LLAMA_CPP_BIN names a folder with llama-simple), makes the
# SubLN-`none` Stage-1 student of the bundled teacher, exports it as GGUF and as packed2, and compares the greedy
# output of llama.cpp on the GGUF with this crate's engine on packed2, sentence by sentence of the test split.
# Usage: docs/llama-cpp-check.sh [SENTENCES] (default 20), from the repository root, after `cargo build --tests`.
set -euo pipefail
sentences="${1:-20}"
bitdistill="${BITDISTILL:-${CARGO_TARGET_DIR:-$HOME/.cache/bitdistill-target}/debug/bitdistill}"
work="${WORK:-$(mktemp -d)}"
mkdir -p "$work"

if [ -z "${LLAMA_CPP_BIN:-}" ]; then
    # `pip download --no-binary` tries to build the package and fails offline; the simple index names the sdist.
    archive="$work/llama_cpp_python-0.3.36.tar.gz"
    if [ ! -f "$archive" ]; then
        url=$(curl -fsS https://pypi.org/simple/llama-cpp-python/ | grep -o 'https://[^"#]*llama_cpp_python-0.3.36.tar.gz' | head -1)
        curl -fsS -o "$archive" "$url"
    fi
    echo "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e  $archive" | sha256sum -c -
    tar -xzf "$archive" -C "$work"
    source="$work/llama_cpp_python-0.3.36/vendor/llama.cpp"
    command -v cmake >/dev/null || { apt-get update && apt-get install -y --no-install-recommends cmake; }
    cmake -S "$source" -B "$source/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null
    cmake --build "$source/build" --target llama-simple llama-bench -j"$(nproc)" >/dev/null
    LLAMA_CPP_BIN="$source/build/bin"
fi

"$bitdistill" student init --teacher assets/tiny-hymt --out "$work/student" --subln none >/dev/null
"$bitdistill" export --student "$work/student" --out "$work/student.gguf" --format gguf
"$bitdistill" export --student "$work/student" --out "$work/packed2" --format packed2 >/dev/null

python3 - "$bitdistill" "$LLAMA_CPP_BIN/llama-simple" "$work" "$sentences" <<'EOF'
import json, subprocess, sys
bitdistill, simple, work, sentences = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
BOS, USER, ASSISTANT = "<｜hy_begin▁of▁sentence｜>", "<｜hy_User｜>", "<｜hy_Assistant｜>"
rows = [json.loads(line) for line in open("assets/data/test.jsonl", encoding="utf-8")][:sentences]
same = 0
for row in rows:
    prompt = f"Translate the following segment into Portuguese, without additional explanation.\n\n{row['source']}"
    ours = json.loads(subprocess.run([bitdistill, "generate", "--model", f"{work}/packed2", "--prompt", prompt,
        "--max-new-tokens", "32"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])["text"]
    rendered = f"{BOS}{USER}{prompt}{ASSISTANT}"
    # llama-simple: greedy, stops at an end-of-generation token, echoes the prompt's pieces first.
    out = subprocess.run([simple, "-m", f"{work}/student.gguf", "-n", "32", rendered], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, check=True).stdout
    theirs = out[out.index(rendered) + len(rendered):].removesuffix("\n")
    same += ours == theirs
    print(f"{'same' if ours == theirs else 'DIFFERENT'}: ours {ours!r} | llama.cpp {theirs!r}")
print(f"greedy outputs equal on {same} of {len(rows)} sentences")
sys.exit(0 if same == len(rows) else 1)
EOF
