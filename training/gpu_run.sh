#!/usr/bin/env bash
# Trains seeds 0 and 1 side by side on one GPU, from the photos and encoder that pack_for_gpu.py
# put in .gpu/a and .gpu/b (brought over by two calls in a row: the device tool's 64 MiB a call
# holds one half beside the working tree; the first half stays in the ignored folder between
# calls). Leaves in $OUT/seedN/ the f16 snapshots (end of 192 px, half-way through 256 px, end)
# and train.log (the run's output, then its log.csv), the logs packed into $OUT/logs.tar.gz at the
# end. Run from the repository root:
#   MINUTES=7 training/gpu_run.sh      # AGE: the share of inputs given old-print damage (default 0.5)
#   TRAIN_ARGS="--encoder-lr-share 0 --cutmix 0.5" MINUTES=7 training/gpu_run.sh   # more train.py options
#   RUNS="plain=--seed 0;context=--seed 0 --context" MINUTES=7 training/gpu_run.sh  # other runs than seeds 0 and 1:
#     NAME=ARGS pairs, each run's own train.py options before TRAIN_ARGS; results in $OUT/NAME
# The budget counts training steps (GPU time included); loading the photos, the CUDA start, cuDNN's
# trials of each new shape and the checks come on top, so give the call MINUTES·60 + 120 s.
set -uo pipefail
cd "$(dirname "$0")"
minutes=${MINUTES:-7.5}
age=${AGE:-0.5}
read -r -a train_args <<<"${TRAIN_ARGS:-}"
out=${OUT:?set OUT to the folder that the results go to}
roots=()
for d in ../.gpu/a ../.gpu/b; do
  if [ -d "$d/train" ]; then roots+=(--data "$d"); fi
done
echo "data roots: ${roots[*]}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c 'import torch, PIL; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "Pillow", PIL.__version__)'
IFS=';' read -r -a runs <<<"${RUNS:-seed0=--seed 0;seed1=--seed 1}"
for run in "${runs[@]}"; do
  name=${run%%=*}
  read -r -a run_args <<<"${run#*=}"
  mkdir -p "$out/$name"
  # The budget counts training steps only; loading, checks and saves come on top.
  ( PYTHONUNBUFFERED=1 timeout "$(python3 -c "print(int($minutes * 60 + 110))")" python3 train.py \
      --minutes "$minutes" --out "/tmp/tintype-runs/$name" --checkpoint-minutes 100 \
      --batch-scale 8 --anneal --age "$age" --snapshots "$out/$name" --pretrained ../.gpu/a/efficientnet-lite0.pth "${roots[@]}" \
      "${run_args[@]}" "${train_args[@]}"
    echo "exit $?"; cat "/tmp/tintype-runs/$name/log.csv" ) >"$out/$name/train.log" 2>&1 &
done
wait
tail -n 4 "$out"/*/train.log | grep -v '^[0-9.]*,' || true
grep -h "phase\|finished\|Error\|exit" "$out"/*/train.log
# The device tool brings back eight files: the logs travel as one archive.
(cd "$out" && tar czf logs.tar.gz ./*/train.log && rm ./*/train.log)
