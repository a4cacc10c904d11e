"""Calibration by luminance band: does the model's colour frequency go wrong differently in
shadows, mid-tones and highlights? (A measurement; nothing here reaches the app.)

    python luma_bands.py CKPT --bands 4 --bands 8 [--chroma 0.95]

calibrate.py fits one bias over the bins for every pixel. This fits one per luminance band (K
hat functions over 0–255 of the render square's grey at the output scale; a pixel's bias is
the weighted sum of its two nearest bands' biases), by the same fixed-point iteration, on top
of the checkpoint's own calibration. Cross-fitted on BSDS val: fitted on one half of the photos
(every second one), scored on the other, both ways. Scored as scene_prior.py scores (the app's
input and grain filter, the shipped decoding, scikit-image's CIEDE2000), beside no extra bias.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import calibrate
import data
from scene_prior import GRAIN, S, colourfulness, reference, score, summary


def band_weights(y, k):
    """Hat weights of luma values y over k band centres spread evenly over 0–255, (N, k)."""
    if k == 1:
        return torch.ones(y.shape[0], 1)
    centres = torch.linspace(0, 255, k)
    return (1 - (y[:, None] - centres[None]).abs() / (centres[1] - centres[0])).clamp(min=0)


def model_input(f, bins):
    """The photo, its input as the app feeds it, its true distribution at the output scale, and
    the render square's grey at the output scale (H/2 · W/2,)."""
    im = Image.open(f).convert("RGB")
    grey = im.resize((calibrate.RENDER, calibrate.RENDER), Image.BILINEAR).convert("L")
    x = data.grain_filter(data.to_input(grey)[None], GRAIN)
    y = F.avg_pool2d(torch.from_numpy(np.asarray(grey, dtype=np.float32))[None, None], 2).flatten()
    return im, x, calibrate.true_distribution(im, bins), y


def fit(logits, y, truth, k, iterations=200, floor=1e-5):
    """Biases (k, Q) that make the model's mean distribution in each band equal the truth's."""
    w = band_weights(y, k)
    share = w / w.sum(0, keepdim=True)
    target = (share.T @ truth).clamp(min=floor)
    target = target / target.sum(1, keepdim=True)
    b = torch.zeros(k, logits.shape[1])
    for _ in range(iterations):
        pred = share.T @ F.softmax(logits + w @ b, 1)
        b = b + torch.log(target) - torch.log(pred.clamp(min=floor))
        b = b - b.mean(1, keepdim=True)
    return b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--bands", type=int, action="append", required=True, help="K (repeatable)")
    ap.add_argument("--chroma", type=float, action="append", help="scale the chroma (repeatable; default 1)")
    args = ap.parse_args()
    _, model = calibrate.load(args.checkpoint)
    model.eval()
    bins = model.bins.clone()
    stretched = 128 + S * (bins - 128)
    files = calibrate.photos(os.path.join(data.DATA, "train/bsds500/val"), None)
    chromas = args.chroma or [1.0]
    gen = torch.Generator().manual_seed(0)
    samples = []
    with torch.no_grad():
        for f in files:
            _, x, target, y = model_input(f, bins)
            out = model(x)[0].flatten(1).T
            pick = torch.randint(0, out.shape[0], (calibrate.PIXELS,), generator=gen)
            samples.append((out[pick], y[pick], target[pick]))
    biases = {}
    for k in args.bands:
        for half in (0, 1):
            part = [s for i, s in enumerate(samples) if i % 2 == half]
            biases[k, half] = fit(*(torch.cat(c) for c in zip(*part)), k)
    scores = {}
    with torch.no_grad():
        for i, f in enumerate(files):
            im, x, _, y = model_input(f, bins)
            lab, luma, grey_score = reference(im)
            scores.setdefault("grey", []).append(grey_score)
            scores.setdefault("truth", []).append(colourfulness(np.asarray(im)))
            logits = model(x)
            for k in [0] + args.bands:
                extra = 0 if k == 0 else (band_weights(y, k) @ biases[k, 1 - i % 2]).T.reshape(logits.shape[1:])
                for c in chromas:
                    scores.setdefault((k, c), []).append(score(logits + extra, stretched, luma, lab, c))
    grey, truth_cf = np.array(scores["grey"]), np.mean(scores["truth"])
    for (k, c), rows in ((key, v) for key, v in scores.items() if isinstance(key, tuple)):
        print(f"{k or 'no'} bands, chroma × {c:g}: {summary(rows, grey, truth_cf)}")


if __name__ == "__main__":
    main()
