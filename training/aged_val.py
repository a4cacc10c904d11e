"""Writes the validation photos twice as grey PNGs, clean and with data.age's old-print damage
(every photo, a fixed seed), so that `tintype eval old` on both folders shows how much of a
model's colour comes from damage rather than from the scene — chosen on photos the evaluation
and old-photo sets never see:

    python aged_val.py /tmp/val-clean /tmp/val-aged [--limit 100]
    tintype eval old /tmp/val-clean --model M; tintype eval old /tmp/val-aged --model M
"""
import argparse
import os
import random

import numpy as np
import torch
from PIL import Image

import data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clean_dir")
    ap.add_argument("aged_dir")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.clean_dir, exist_ok=True)
    os.makedirs(args.aged_dir, exist_ok=True)
    rng = random.Random(args.seed)
    for path in data.list_images(data.VAL_DIRS)[: args.limit]:
        name = os.path.splitext(os.path.basename(path))[0] + ".png"
        grey = Image.open(path).convert("RGB").convert("L")
        grey.save(os.path.join(args.clean_dir, name))
        x = data.normalise(torch.from_numpy(np.asarray(grey, dtype=np.float32) / 255.0)[None, None])
        aged = data.grey_of(data.age(x, 1.0, rng))[0, 0]
        Image.fromarray((aged.clamp(0, 1) * 255).round().byte().numpy()).save(os.path.join(args.aged_dir, name))


if __name__ == "__main__":
    main()
