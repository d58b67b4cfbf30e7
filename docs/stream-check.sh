#!/usr/bin/env bash
# The streaming Stage-2 check (README, "Streaming Stage 2"): writes a synthetic corpus of GIGABYTES (default 2)
# as zstd JSON lines and plain text, tokenizes it into a token cache with `corpus cache`, then trains Stage 2 of
# the bundled teacher from that cache twice — once straight through, once killed with SIGKILL at KILLS random
# moments (default 5) and resumed each time — and checks that the two students are bit-identical. Prints the
# peak resident memory of every process (GNU time's "Maximum resident set size").
# Usage: docs/stream-check.sh [GIGABYTES] [KILLS], from the repository root, after `cargo build --tests`.
set -euo pipefail
gigabytes="${1:-2}"
kills="${2:-5}"
bitdistill="${BITDISTILL:-${CARGO_TARGET_DIR:-$HOME/.cache/bitdistill-target}/debug/bitdistill}"
work="${WORK:-$(mktemp -d)}"
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { apt-get update && apt-get install -y --no-install-recommends time; }
peak() { awk '/Maximum resident/ {printf "%.0f MiB", $6 / 1024}' "$1"; }

# The corpus: sentences of the bundled monolingual data shuffled into documents of 5-60 words, deterministic.
if [ ! -f "$work/corpus/done" ]; then
    mkdir -p "$work/corpus"
    python3 - "$work/corpus" "$gigabytes" <<'EOF'
import json, random, subprocess, sys
out, gigabytes = sys.argv[1], float(sys.argv[2])
words = open("assets/data/mono.txt", encoding="utf-8").read().split()
random.seed(1)
target = int(gigabytes * 1e9)
written, part = 0, 0
while written < target:
    half = part % 2 == 0
    path = f"{out}/part-{part:03d}." + ("jsonl" if half else "txt")
    with open(path, "w", encoding="utf-8") as f:
        size = 0
        while size < 250_000_000 and written + size < target:
            doc = " ".join(random.choices(words, k=random.randint(5, 60)))
            line = (json.dumps({"text": doc}, ensure_ascii=False) if half else doc) + "\n"
            f.write(line)
            size += len(line.encode())
    if half:
        subprocess.run(["zstd", "-q", "-1", "--rm", "-f", path], check=True)
    written += size
    part += 1
EOF
    touch "$work/corpus/done"
fi
du -sh "$work/corpus"

run_file() {
    cat >"$work/$1.toml" <<EOF
teacher = "$PWD/assets/tiny-hymt"
out = "$work/$1"
seed = 3

[stage2]
corpus = ["$work/corpus/part-*"]
cache = "$work/token-cache"
tokens = 65536
block_len = 128

[stage3]
steps = 0

[optim]
batch_size = 4

[checkpoint]
every = 4
keep = 2

[snapshot]
every = 0
EOF
    echo "$work/$1.toml"
}
whole=$(run_file whole)
killed=$(run_file killed)

/usr/bin/time -v -o "$work/cache.time" "$bitdistill" corpus cache --config "$whole" | tee "$work/cache.json"
echo "corpus cache: peak RSS $(peak "$work/cache.time")"

/usr/bin/time -v -o "$work/whole.time" "$bitdistill" distill --config "$whole" 2>"$work/whole.log"
echo "uninterrupted Stage 2: peak RSS $(peak "$work/whole.time"), $(grep -c . "$work/whole/metrics.jsonl") log lines"

rm -rf "$work/killed"
for i in $(seq 1 "$kills"); do
    resume=$([ "$i" -gt 1 ] && echo --resume || true)
    "$bitdistill" distill --config "$killed" $resume 2>>"$work/killed.log" &
    pid=$!
    sleep "$(python3 -c "import random; print(round(random.uniform(1, 5), 2))")"
    kill -9 "$pid" 2>/dev/null && echo "kill $i: SIGKILL after some steps" || echo "kill $i: the run had finished"
    wait "$pid" 2>/dev/null || true
done
/usr/bin/time -v -o "$work/killed.time" "$bitdistill" distill --config "$killed" --resume 2>>"$work/killed.log"
echo "resumed Stage 2: peak RSS $(peak "$work/killed.time")"

if cmp "$work/whole/student/model.safetensors" "$work/killed/student/model.safetensors"; then
    echo "bit-identical after $kills kills: $(sha256sum "$work/whole/student/model.safetensors" | cut -c1-16)"
else
    echo "DIFFERENT students after $kills kills" >&2
    exit 1
fi
