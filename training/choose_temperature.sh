#!/usr/bin/env bash
# Chooses the annealed-mean temperature of a trained checkpoint on the validation photos
# (BSDS500 val, never the evaluation sets): exports it at each temperature and scores the
# re-grayscaled photos with `tintype eval`. Pick the lowest CIEDE2000 whose colourfulness is
# still at least 0.8× the truth's (lower temperatures give more vivid colour).
#   training/choose_temperature.sh runs/seed0/ckpt.pt [photos]
set -euo pipefail
cd "$(dirname "$0")"
ckpt=$1; n=${2:-60}
python=${PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for t in 0.38 0.5 0.65 0.8 1.0; do
  "$python" export.py "$ckpt" "$tmp/t$t.safetensors" "$tmp/fixture.safetensors" --temperature "$t" >/dev/null
  echo -n "T=$t  "
  ../target/release/tintype eval regrey ../../shared/data/train/bsds500/val --model "$tmp/t$t.safetensors" --limit "$n"
done
