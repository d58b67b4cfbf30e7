#!/usr/bin/env bash
# The demo's data (assets/data) from the bundled teacher's splits (assets/tiny-hymt/CARD.md, "How it was made"):
# every file is a fixed shuffle of one split, so the demo never trains or tunes on a pair the scores use.
#
#   tools/demo-data.sh DATA OUT [PAIRS_PER_LANGUAGE]
#
# DATA holds {pt,zh}/{train,dev,test}.jsonl (the teacher's splits, one folder per target language); OUT gets
#   train.jsonl  PAIRS_PER_LANGUAGE (default 2000) training pairs of each language, for Stage 3
#   mono.txt     the source and target lines of 1,250 other training pairs of each language, for Stage 2
#   dev.jsonl    200 dev pairs of each language, for `bitdistill sweep --dev`
#   test.jsonl   the whole test split, each language shuffled (the demo scores the first 100 of each)
set -euo pipefail

data=${1:?usage: tools/demo-data.sh DATA OUT [PAIRS_PER_LANGUAGE]}
out=${2:?usage: tools/demo-data.sh DATA OUT [PAIRS_PER_LANGUAGE]}
per_language=${3:-2000}
mono_pairs=1250
dev_pairs=200

# A fixed random source makes every shuffle reproducible (GNU shuf reads its randomness from the file).
shuffled() { shuf --random-source=<(yes bitdistill-demo-data) "$1"; }
# Lines FROM..TO of a file (sed, not head: head closing a pipe early fails the script under pipefail).
lines() { sed -n "$2,$3p" "$1"; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$out"
: > "$out/train.jsonl"; : > "$out/mono.txt"; : > "$out/dev.jsonl"; : > "$out/test.jsonl"
for lang in pt zh; do
  for split in train dev test; do
    [[ -s $data/$lang/$split.jsonl ]] || { echo "error: $data/$lang/$split.jsonl is missing or empty" >&2; exit 1; }
    shuffled "$data/$lang/$split.jsonl" > "$scratch/$split.jsonl"
  done
  lines "$scratch/train.jsonl" 1 "$per_language" >> "$out/train.jsonl"
  lines "$scratch/train.jsonl" "$((per_language + 1))" "$((per_language + mono_pairs))" |
    python3 -c 'import json, sys
for line in sys.stdin:
    pair = json.loads(line)
    print(pair["source"]); print(pair["target"])' >> "$out/mono.txt"
  lines "$scratch/dev.jsonl" 1 "$dev_pairs" >> "$out/dev.jsonl"
  cat "$scratch/test.jsonl" >> "$out/test.jsonl"
done
wc -l "$out"/train.jsonl "$out"/mono.txt "$out"/dev.jsonl "$out"/test.jsonl
