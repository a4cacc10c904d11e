"""Does the model's disagreement with itself flag the photos it loses to grey? (A measurement;
nothing here reaches the app.)

    python self_agreement.py CKPT [--photos DIR] [--json J]

Each photo is colorized as the app does (560 px square, grain filter, the shipped decoding) and
again mirrored and at 448 px. Per photo: the mean distance in (U, V) between the plain chroma
and each other pass, relative to the plain chroma's mean magnitude, and the mean entropy of
the predicted bins. Printed: how well each ranks the photos that beat grey above those that
do not (AUC: 0.5 is chance, 1 a perfect flag) and its Spearman correlation with the gain.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.stats import spearmanr

import calibrate
import data
from scene_prior import GRAIN, S, annealed_chroma, reference, score


def logits_of(model, im, render, mirror=False):
    grey = im.resize((render, render), Image.BILINEAR).convert("L")
    if mirror:
        grey = grey.transpose(Image.FLIP_LEFT_RIGHT)
    logits = model(data.grain_filter(data.to_input(grey)[None], GRAIN))
    return logits.flip(3) if mirror else logits


def chroma(logits, stretched, size=None):
    uv = annealed_chroma(logits, stretched)
    return uv if size is None else F.interpolate(uv, size=size, mode="bilinear", align_corners=False)


def auc(flag, positive):
    """P(flag of a random positive > flag of a random negative), ties counted half."""
    pos, neg = flag[positive][:, None], flag[~positive][None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--photos", default=os.path.join(data.DATA, "train/bsds500/val"))
    ap.add_argument("--json")
    args = ap.parse_args()
    _, model = calibrate.load(args.checkpoint)
    model.eval()
    stretched = 128 + S * (model.bins - 128)
    rows = []
    with torch.no_grad():
        for f in calibrate.photos(args.photos, None):
            im = Image.open(f).convert("RGB")
            lab, luma, grey_score = reference(im)
            plain = logits_of(model, im, calibrate.RENDER)
            uv = chroma(plain, stretched)
            size = uv.shape[2:]
            magnitude = uv.norm(dim=1).mean().item()
            rows.append({
                "name": os.path.basename(f),
                "gain": grey_score - score(plain, stretched, luma, lab)["ciede2000"],
                "mirror": (uv - chroma(logits_of(model, im, calibrate.RENDER, True), stretched)).norm(dim=1).mean().item()
                / magnitude,
                "render 448": (uv - chroma(logits_of(model, im, 448), stretched, size)).norm(dim=1).mean().item()
                / magnitude,
                "entropy": float(-(F.softmax(plain, 1) * F.log_softmax(plain, 1)).sum(1).mean()),
            })
    if args.json:
        json.dump(rows, open(args.json, "w"))
    gain = np.array([r["gain"] for r in rows])
    print(f"{len(rows)} photos, {(gain > 0).mean() * 100:.0f} % closer than grey")
    for key in ("mirror", "render 448", "entropy"):
        v = np.array([r[key] for r in rows])
        print(f"{key}: AUC {auc(-v, gain > 0):.3f} (low flags a win), Spearman with the gain {spearmanr(v, gain)[0]:.3f}")


if __name__ == "__main__":
    main()
