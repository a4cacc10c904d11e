"""PyTorch's time for the compact colorizer's network (training/model.py, `colorize`: logits,
annealed mean, ×2 upsampling, back to RGB), the work `tintype bench --model compact` times
after its grain filter. Random weights: the time does not depend on their values. Spectral norm
off, as in the exported file, which holds the normalised weights.

    python benches/gpu/torch_compact.py cuda 560 [runs]    # or cpu
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training"))
from model import CompactColorizer  # noqa: E402

device, size = sys.argv[1], int(sys.argv[2])
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
torch.manual_seed(0)
model = CompactColorizer(torch.rand(368, 2) * 255, spectral=False, temperature=0.5).eval().to(device)
x = torch.randn(1, 3, size, size, device=device)


def sync():
    if device == "cuda":
        torch.cuda.synchronize()


times = []
with torch.no_grad():
    for i in range(runs + 1):  # the first is the warm-up
        sync()
        t = time.perf_counter()
        model.colorize(x)
        sync()
        times.append(time.perf_counter() - t)
name = torch.cuda.get_device_name() if device == "cuda" else f"{torch.get_num_threads()} threads"
print(f"RESULT torch={torch.__version__} device={device} ({name}) size={size} warmup_s={times[0]:.4f} "
      f"median_s={statistics.median(times[1:]):.4f} runs_s={[round(t, 4) for t in times[1:]]}")
