#!/usr/bin/env bash
# The independent check of the bundled teacher and its students (issue 15): human translations from the catalogs
# of GNOME's own applications, which tools/fetch-catalogs.sh keeps out of training, with every pair whose English
# source (case-folded) is in a training split dropped, so the check only holds strings no model here has seen.
#
#   tools/gnome-check.sh OUT TRAIN.jsonl...   write OUT/gnome-check.jsonl (300 pairs per language by default)
#
# TRAIN.jsonl are the training splits to exclude (the teacher's: cat/{pt,zh}/train.jsonl and
# loc/{pt,zh}/train.jsonl of assets/tiny-hymt/CARD.md, "How it was made"). Writes OUT/packages.txt (the
# packages and versions used) and OUT/counts.txt. $BITDISTILL names the binary (default: bitdistill on PATH);
# $PAIRS the pairs kept per language.
set -euo pipefail

PACKAGES=(evince-common gedit-common nautilus-data totem-common gnome-calculator)
out=${1:?usage: tools/gnome-check.sh OUT TRAIN.jsonl...}
shift
(( $# > 0 )) || { echo "error: name the training splits to exclude" >&2; exit 1; }
bitdistill=${BITDISTILL:-bitdistill}
pairs=${PAIRS:-300}

mkdir -p "$out/debs" "$out/root"
: > "$out/packages.txt"
for package in "${PACKAGES[@]}"; do
  (cd "$out/debs" && apt-get download -q "$package" >/dev/null 2>&1)
  deb=$(ls -t "$out"/debs/"${package}"_*.deb | head -1)
  dpkg -x "$deb" "$out/root"
  dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >> "$out/packages.txt"
done

for pair in pt_BR:pt zh_CN:zh; do
  locale=${pair%%:*}; lang=${pair##*:}
  mkdir -p "$out/$lang"
  # Every pair into the test split: nothing of these catalogs is trained on.
  "$bitdistill" corpus import "$out/root/usr/share/locale/$locale/LC_MESSAGES/"*.mo --target-lang "$lang" \
    --out "$out/$lang" --dev 0 --test 1 > "$out/$lang/import.json"
done

# Unseen sources only, then a fixed shuffle (seed 15) of each language, the first $pairs kept.
python3 - "$out" "$pairs" "$@" <<'EOF'
import json, random, sys
out, pairs, training = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
key = lambda row: row["source"].strip().lower()
seen = {key(json.loads(line)) for path in training for line in open(path, encoding="utf-8")}
kept, counts = [], []
for lang in ("pt", "zh"):
    rows = [json.loads(line) for line in open(f"{out}/{lang}/test.jsonl", encoding="utf-8")]
    unseen = [row for row in rows if key(row) not in seen]
    random.Random(15).shuffle(unseen)
    kept += unseen[:pairs]
    counts.append(f"en-{lang}: {len(rows)} pairs, {len(unseen)} with unseen sources, {len(unseen[:pairs])} kept")
with open(f"{out}/gnome-check.jsonl", "w", encoding="utf-8") as f:
    f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in kept)
open(f"{out}/counts.txt", "w").write("\n".join(counts) + "\n")
print("\n".join(counts))
EOF
