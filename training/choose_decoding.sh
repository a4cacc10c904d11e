#!/usr/bin/env bash
# Chooses how a trained checkpoint decodes — the annealed-mean temperature T, the prior
# correction α and the chroma scale s (export.py) — on the validation photos (BSDS500 val,
# never the evaluation sets): exports it at each setting and scores the re-grayscaled photos
# with `tintype eval`.
# The rule, fixed before looking: the lowest CIEDE2000 whose colourfulness is at least 0.85×
# the truth's (0.8× is the gate; the margin is for another set of photos), printed last.
#   training/choose_decoding.sh runs/seed0/ckpt.pt [photos]
#   ALPHAS="0 0.3" TEMPS="0.5 0.8" SCALES="1 1.2" MIRRORS="0 1" training/choose_decoding.sh runs/seed0/ckpt.pt 40
# [photos]: how many of the 100 validation photos (all by default; the first 40 flatter every
# model by up to 1 ΔE00, experiments.md).
# MIRRORS="0 1" also tries the mirror average (twice the time per photo); the review sheet has
# the last word on it (experiments.md: it painted pink patches on Whitman's backdrop).
set -euo pipefail
cd "$(dirname "$0")"
ckpt=$1; n=${2:-100}
python=${PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for a in ${ALPHAS:-0 0.2 0.35 0.5}; do
  for t in ${TEMPS:-0.38 0.5 0.65 0.8}; do
    for s in ${SCALES:-1}; do
      for m in ${MIRRORS:-0}; do
        "$python" export.py "$ckpt" "$tmp/m.safetensors" "$tmp/fixture.safetensors" --temperature "$t" \
          --prior-correction "$a" --chroma-scale "$s" $([ "$m" = 1 ] && echo --mirror-average) >/dev/null
        line=$(../target/release/tintype eval regrey ../../shared/data/train/bsds500/val --model "$tmp/m.safetensors" --limit "$n")
        echo "alpha=$a T=$t s=$s mirror=$m $line" | tee -a "$tmp/sweep.txt"
      done
    done
  done
done
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       if (v["colourfulness"] >= 0.85 * v["truth_colourfulness"] && (best == "" || v["ciede2000"] < bestd)) {
         best = $1 " " $2 " " $3 " " $4; bestd = v["ciede2000"] } }
     END { print (best == "" ? "no setting keeps 0.85x the colourfulness" : "chosen: " best " (ciede2000 " bestd ")") }' "$tmp/sweep.txt"
