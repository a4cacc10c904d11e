"""Edge-aware pooling of the predicted colour distributions before decoding: does spreading
each pixel's distribution over its region (a guided filter, with the photo's grey as the guide)
turn the blotches of confident wrong colour into the region's majority colour and score better?
(A measurement; nothing here reaches the app.)

    python guided_pooling.py CKPT

For each BSDS val photo as the app feeds it (scene_prior.py's input, grain filter, decoding and
scoring), the model's distribution at temperature 1 is guided-filtered channel by channel (He et
al. 2010; radius r at the output scale, regularisation eps on grey in 0–1), mixed with the
unfiltered one by weight w, and decoded by the shipped annealed mean, at chroma × 1 and × 1.1 so
that the rows can be compared at like colourfulness.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F

import calibrate
import data
from luma_bands import model_input
from scene_prior import S, colourfulness, reference, score, summary


def box(x, r):
    """Mean over a (2r+1)² window, edges replicated, by cumulative sums (O(1) per pixel)."""
    x = F.pad(x, (r + 1, r, r + 1, r), mode="replicate")
    x[..., 0, :] = 0
    x[..., :, 0] = 0
    c = x.double().cumsum(-1).cumsum(-2)
    k = 2 * r + 1
    s = c[..., k:, k:] - c[..., :-k, k:] - c[..., k:, :-k] + c[..., :-k, :-k]
    return (s / (k * k)).float()


def guided(p, g, r, eps):
    """Each channel of p filtered with the guide g (1, 1, H, W)."""
    mi, mp = box(g, r), box(p, r)
    a = (box(g * p, r) - mi * mp) / (box(g * g, r) - mi * mi + eps)
    b = mp - a * mi
    return box(a, r) * g + box(b, r)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--limit", type=int, help="only the first N photos (a quick check)")
    args = ap.parse_args()
    _, model = calibrate.load(args.checkpoint)
    model.eval()
    bins = model.bins.clone()
    stretched = 128 + S * (bins - 128)
    files = calibrate.photos(os.path.join(data.DATA, "train/bsds500/val"), None)[: args.limit]
    variants = [("none", None, None, 0)] + [
        (f"r {r}, eps {e:g}, w {w:g}", r, e, w) for r in (8, 24) for e in (1e-3, 1e-2) for w in (0.5, 1.0)
    ]
    scores = {}
    with torch.no_grad():
        for f in files:
            im, x, _, y = model_input(f, bins)
            lab, luma, grey_score = reference(im)
            scores.setdefault("grey", []).append(grey_score)
            scores.setdefault("truth", []).append(colourfulness(np.asarray(im)))
            logits = model(x)
            p = F.softmax(logits, 1)
            g = y.reshape(1, 1, *logits.shape[2:]) / 255.0
            for name, r, eps, w in variants:
                pooled = logits
                if r is not None:
                    q = guided(p, g, r, eps).clamp(min=1e-8)
                    pooled = torch.log((1 - w) * p + w * q / q.sum(1, keepdim=True))
                for c in (1.0, 1.1):
                    scores.setdefault((name, c), []).append(score(pooled, stretched, luma, lab, c))
    grey, truth_cf = np.array(scores["grey"]), np.mean(scores["truth"])
    for (name, c), rows in ((k, v) for k, v in scores.items() if isinstance(k, tuple)):
        print(f"pooling {name}, chroma × {c:g}: {summary(rows, grey, truth_cf)}")


if __name__ == "__main__":
    main()
