#!/usr/bin/env bash
# On a GPU machine, from the repository root, with build.sh's binary in .gpu/cuda/tintype.xz: does the CUDA
# build run, how fast, and does it give the CPU's pictures? Writes to $OUT: bench.txt (Tintype on
# CUDA and on this machine's CPU; PyTorch on both for the compact network), and the sample photos
# colorized on each device with the compact model and with DeOldify Artistic (fixture weights),
# compared pixel by pixel in compare.txt.
#   OUT=/tmp/out benches/gpu/run.sh
set -uo pipefail
out=${OUT:?set OUT to the folder that the results go to}
bin=${BIN:-/tmp/tintype-cuda}
if [ -z "${BIN:-}" ]; then
  xz -dc .gpu/cuda/tintype.xz >"$bin" && chmod +x "$bin"
fi
# cuBLAS, cuRAND and NVRTC: the toolkit's where there is one, else PyTorch's wheels'.
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
  "$(python3 -c 'import nvidia; print(list(nvidia.__path__)[0] + "/cu13/lib")' 2>/dev/null)"; do
  if [ -d "$d" ]; then LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"; fi
done
export LD_LIBRARY_PATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
ldd "$bin" | grep -E "not found|libcu|nvrtc"
{
  "$bin" bench --device cuda --model compact --render-factor 35 --runs 20
  "$bin" bench --device cpu --model compact --render-factor 35 --runs 5
  "$bin" bench --device cuda --model all --render-factor 20,35 --runs 10
  "$bin" bench --device cpu --model artistic --render-factor 35 --runs 3
  python3 benches/gpu/torch_compact.py cuda 560 20
  python3 benches/gpu/torch_compact.py cpu 560 5
} 2>&1 | tee "$out/bench.txt"
artistic=/tmp/tintype-bench/artistic-fixture-folded.safetensors  # made by the bench above
for dev in cuda cpu; do
  "$bin" colorize --device "$dev" assets/samples/*.jpg -o "$out/compact-$dev"
  "$bin" colorize --device "$dev" assets/samples/*.jpg --model "$artistic" --variant artistic -o "$out/artistic-$dev"
done
python3 - "$out" <<'PY' | tee "$out/compare.txt"
import sys, pathlib
import numpy as np
from PIL import Image
out = pathlib.Path(sys.argv[1])
for model in ("compact", "artistic"):
    for gpu in sorted((out / f"{model}-cuda").glob("*.png")):
        a = np.asarray(Image.open(gpu).convert("RGB"), dtype=np.int16)
        b = np.asarray(Image.open(out / f"{model}-cpu" / gpu.name).convert("RGB"), dtype=np.int16)
        d = np.abs(a - b)
        print(f"{model} {gpu.name}: max |cuda - cpu| {d.max()} levels, mean {d.mean():.4f}, "
              f"pixels off by more than 1: {(d.max(-1) > 1).mean():.5f}")
PY
