#!/usr/bin/env bash
# On a many-core machine (the GPU machine's 16 cores), from the repository root: how Tintype's CPU
# back end scales with threads, beside PyTorch's on the same machine, for the compact network
# (benches/gpu/torch_compact.py) and for DeOldify Artistic (fixture weights; Tintype only).
# BIN: a CPU release build; by default .gpu/cpu/tintype.xz (`strip` and `xz` of
# target/release/tintype, small enough to travel), unpacked. Writes $OUT/threads.txt.
#   OUT=/tmp/out benches/gpu/threads.sh     # THREADS="1 2 4 8 16", ARTISTIC_THREADS="2 4 8 16"
set -uo pipefail
out=${OUT:?set OUT to the folder that the results go to}
bin=${BIN:-/tmp/tintype-cpu}
if [ -z "${BIN:-}" ]; then
  xz -dc .gpu/cpu/tintype.xz >"$bin" && chmod +x "$bin"
fi
{
  echo "$(nproc) cores: $(lscpu | sed -n 's/^Model name: *//p')"
  for n in ${THREADS:-1 2 4 8 16}; do
    echo "== compact, $n threads"
    "$bin" bench --device cpu --model compact --render-factor 35 --runs 5 --threads "$n"
    OMP_NUM_THREADS=$n python3 benches/gpu/torch_compact.py cpu 560 5
  done
  for n in ${ARTISTIC_THREADS:-2 4 8 16}; do
    echo "== artistic, $n threads"
    "$bin" bench --device cpu --model artistic --render-factor 35 --runs 2 --threads "$n"
  done
} 2>&1 | tee "$out/threads.txt"
