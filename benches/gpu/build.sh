#!/usr/bin/env bash
# Builds Tintype with the CUDA back end on a machine with no GPU and no CUDA toolkit, for
# run.sh to try on a GPU machine: nvcc, the headers and the libraries come from NVIDIA's PyPI
# wheels (CUDA 13.0, the newest the GPU machines' driver 580 runs), and the driver library,
# which only a machine with a GPU has, from a stub holding the names cudarc links to. The
# binary loads the real libcuda.so.1 where it runs. Leaves .gpu/cuda/tintype.xz (stripped).
#   benches/gpu/build.sh        # from the repository root; CUDA_COMPUTE_CAP (default 90: H100, H200)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=${CUDA_WHEELS:-/tmp/tintype-cuda}
if [ ! -x "$root/venv/bin/python" ]; then
  python3 -m venv "$root/venv"
  "$root/venv/bin/pip" install -q "nvidia-cuda-nvcc==13.0.*" "nvidia-cuda-runtime==13.0.*" \
    "nvidia-cublas==13.0.*" "nvidia-curand" "nvidia-cuda-nvrtc==13.0.*" "nvidia-cuda-cccl==13.0.*" \
    "nvidia-nvvm==13.0.*" "nvidia-cuda-crt==13.0.*"  # unpinned, these two come newer than nvcc
fi
wheels=$("$root/venv/bin/python" -c 'import nvidia; print(list(nvidia.__path__)[0] + "/cu13")')
home=$root/home
rm -rf "$home" && mkdir -p "$home/lib64/stubs"
ln -s "$wheels/bin" "$home/bin" && ln -s "$wheels/include" "$home/include" && ln -s "$wheels/nvvm" "$home/nvvm"
for f in "$wheels"/lib/*.so.*; do
  b=$(basename "$f")
  ln -sf "$f" "$home/lib64/${b%%.so.*}.so"
done
# The driver API names cudarc declares (its bindings link them directly).
cargo fetch --locked -q
sys=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path "*cudarc-0.19.10/src/driver/sys/mod.rs" | head -1)
grep -oP '^\s+fn \Kcu\w+(?=\()' "$sys" | sort -u | sed 's/.*/void &(void) {}/' >"$home/stub.c"
gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$home/lib64/stubs/libcuda.so" "$home/stub.c"
ln -s stubs/libcuda.so "$home/lib64/libcuda.so"
CUDA_HOME=$home PATH=$home/bin:$PATH CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90} \
  cargo build --release --locked --features cuda --target-dir "${TARGET_DIR:-target/cuda}" --bin tintype
# Stripped it is about 79 MB, mostly the kernels' PTX text, over the 64 MiB a device call carries.
mkdir -p .gpu/cuda
strip -o .gpu/cuda/tintype "${TARGET_DIR:-target/cuda}/release/tintype"
xz -T0 -f .gpu/cuda/tintype
ls -l .gpu/cuda/tintype.xz
