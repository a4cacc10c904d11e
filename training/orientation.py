"""Can the model tell which way up a photo is? (A measurement; nothing here reaches the app.)

    python orientation.py CKPT [--photos DIR] [--json J]

Each photo (upright, as stored) is shown to the model as the app would (the render square, the
grain filter) in its four quarter turns. Per turn: the mean entropy of the predicted colour
bins and the mean of the largest bin's probability. Printed: how often the upright turn is the
one the model is surest of (lowest entropy, highest top probability), against the 25 % of a
guess.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import calibrate
import data
from scene_prior import GRAIN

TURNS = [None, Image.ROTATE_270, Image.ROTATE_180, Image.ROTATE_90]  # 0, 90, 180, 270° clockwise


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--photos", default=os.path.join(data.DATA, "train/bsds500/val"))
    ap.add_argument("--render", type=int, default=calibrate.RENDER)
    ap.add_argument("--json")
    args = ap.parse_args()
    _, model = calibrate.load(args.checkpoint)
    model.eval()
    rows = []
    with torch.no_grad():
        for f in calibrate.photos(args.photos, None):
            grey = Image.open(f).convert("RGB").resize((args.render, args.render), Image.BILINEAR).convert("L")
            entropy, top = [], []
            for turn in TURNS:
                g = grey if turn is None else grey.transpose(turn)
                logits = model(data.grain_filter(data.to_input(g)[None], GRAIN))
                p = F.softmax(logits, 1)
                entropy.append(float(-(p * F.log_softmax(logits, 1)).sum(1).mean()))
                top.append(float(p.max(1).values.mean()))
            rows.append({"name": os.path.basename(f), "entropy": entropy, "top": top})
    if args.json:
        json.dump(rows, open(args.json, "w"))
    entropy = np.array([r["entropy"] for r in rows])
    top = np.array([r["top"] for r in rows])
    n = len(rows)
    print(f"{n} photos; upright chosen by lowest entropy {(entropy.argmin(1) == 0).mean() * 100:.0f} %, "
          f"by highest top probability {(top.argmax(1) == 0).mean() * 100:.0f} % (a guess: 25 %)")
    # Upright against on its side only (the common case for scans): the two quarter turns.
    side = np.minimum(entropy[:, 1], entropy[:, 3])
    print(f"upright surer than either side turn (entropy): {(entropy[:, 0] < side).mean() * 100:.0f} % (a guess: 33 %)")


if __name__ == "__main__":
    main()
