"""What knowing a photo's colours is worth: a per-photo prior over the chroma bins, measured on
held-out photos (a measurement; nothing here reaches the app).

    python scene_prior.py CKPT --oracle --strength 0.25 --strength 1
    python scene_prior.py CKPT --neighbours 10 --strength 0.25 [--photos DIR] [--chroma 0.965]

For each photo a bias over the bins is fitted, as calibrate.py fits one over all photos, so
that the model's mean predicted distribution over the photo matches a histogram h, and added to
the logits with each --strength. h is the photo's own true histogram (--oracle: an upper bound
for any per-photo prior) or the mean true histogram of its k nearest training photos
(--neighbours k), nearest by the ImageNet encoder's pooled features of the grey picture (its
1,280 classifier and 320 encoder channels, standardised, cosine). The photo goes through the
model as the app feeds it (calibrate.inputs: 560 px square, grain filter); its chroma (annealed
mean at T 0.5, bins stretched by s 1.2, times --chroma) is resized to the full photo under the
photo's own luma and scored against the truth with scikit-image's CIEDE2000, beside plain grey.
--json writes the per-photo rows.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab

import calibrate
import data
from model import CompactColorizer, load_pretrained_encoder
from train import pretrained_path

T, S, GRAIN = 0.5, 1.2, 5  # the shipped file's decoding


def features(files):
    """Pooled ImageNet-encoder features of each photo's grey picture, (N, 1600)."""
    enc = CompactColorizer(torch.zeros(1, 2), spectral=False, context=True)
    load_pretrained_encoder(enc, pretrained_path())
    enc.eval()
    out = []
    with torch.no_grad():
        for f in files:
            g = Image.open(f).convert("L").resize((256, 256), Image.BILINEAR)
            x = data.normalise(torch.from_numpy(np.asarray(g, dtype=np.float32) / 255)[None, None])
            h, _, ctx = enc.encoder(x)
            out.append(np.concatenate([ctx[0].numpy(), h.mean((2, 3))[0].numpy()]))
    return np.stack(out)


def histograms(files, bins):
    """Each photo's true distribution over the bins, at the model's output scale, (N, Q)."""
    return np.stack([calibrate.true_distribution(Image.open(f).convert("RGB"), bins).mean(0).numpy() for f in files])


def neighbour_priors(files, bins, k):
    """The mean true histogram of each photo's k nearest training photos."""
    train = data.list_images(data.TRAIN_DIRS)
    ftr, fph = features(train), features(files)
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    a = (ftr - mu) / sd
    b = (fph - mu) / sd
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    hist = histograms(train, bins)
    return [torch.from_numpy(hist[np.argsort(-row)[:k]].mean(0)) for row in b @ a.T]


def colourfulness(rgb):
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--photos", default=os.path.join(data.DATA, "train/bsds500/val"))
    ap.add_argument("--oracle", action="store_true", help="each photo's own histogram")
    ap.add_argument("--neighbours", type=int, help="k: the mean histogram of the k nearest training photos")
    ap.add_argument("--strength", type=float, action="append", help="share of the fitted bias (repeatable)")
    ap.add_argument("--chroma", type=float, default=1.0, help="scale the chroma (to compare at like colourfulness)")
    ap.add_argument("--json")
    args = ap.parse_args()
    _, model = calibrate.load(args.checkpoint)
    model.eval()
    bins = model.bins.clone()
    stretched = 128 + S * (bins - 128)
    files = calibrate.photos(args.photos, None)
    priors = neighbour_priors(files, bins, args.neighbours) if args.neighbours else [None] * len(files)
    strengths = [0.0] + (args.strength or [])
    gen = torch.Generator().manual_seed(0)
    rows = []
    with torch.no_grad():
        for f, prior, (x, target) in zip(files, priors, calibrate.inputs(files, bins, GRAIN)):
            photo = Image.open(f).convert("RGB")
            truth = np.asarray(photo)
            lab = rgb2lab(truth)
            luma = np.asarray(photo.convert("L"), dtype=np.float64)
            grey = np.repeat(luma.round().astype(np.uint8)[..., None], 3, -1)
            logits = model(x)
            flat = logits[0].flatten(1).T
            h = target.mean(0) if args.oracle or prior is None else prior
            sample = flat[torch.randint(0, flat.shape[0], (calibrate.PIXELS,), generator=gen)]
            bias, _ = calibrate.fit(sample, h, iterations=100)
            row = {"name": os.path.basename(f), "grey": float(deltaE_ciede2000(lab, rgb2lab(grey)).mean()),
                   "truth_colourfulness": colourfulness(truth)}
            for s in strengths:
                p = F.softmax((logits + s * bias[None, :, None, None]) / T, dim=1)
                uv = torch.einsum("bqhw,qc->bchw", p, stretched) - 128.0
                uv = F.interpolate(uv, size=luma.shape, mode="bilinear", align_corners=False)[0].numpy() * args.chroma
                r = luma + uv[1] / 0.877
                b = luma + uv[0] / 0.492
                g = (luma - 0.299 * r - 0.114 * b) / 0.587
                rgb = np.clip(np.rint(np.stack([r, g, b], -1)), 0, 255).astype(np.uint8)
                row[f"{s:g}"] = {"ciede2000": float(deltaE_ciede2000(lab, rgb2lab(rgb)).mean()),
                                 "colourfulness": colourfulness(rgb)}
            rows.append(row)
    if args.json:
        json.dump(rows, open(args.json, "w"))
    grey = np.array([r["grey"] for r in rows])
    truth_cf = np.mean([r["truth_colourfulness"] for r in rows])
    for s in strengths:
        d = np.array([r[f"{s:g}"]["ciede2000"] for r in rows])
        cf = np.mean([r[f"{s:g}"]["colourfulness"] for r in rows])
        print(f"strength {s:g}: ΔE00 {d.mean():.2f} (grey {grey.mean():.2f}), gain {grey.mean() - d.mean():.2f}, "
              f"closer than grey {(d < grey).mean() * 100:.0f} %, colourfulness {cf / truth_cf:.3f}× the truth's")


if __name__ == "__main__":
    main()
