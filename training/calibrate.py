"""Prior calibration: a bias per chroma bin so that, over held-out photos, the model predicts
each bin as often as the photos hold it.

    python calibrate.py runs/seed0/ckpt.pt runs/seed0/calibrated.pt --damaged /tmp/val-aged --grain-filter 5

A model trained with class rebalancing need not predict each colour as often as it occurs:
over the validation photos the distilled file's mean predicted distribution was 0.36 away from
the truth's (L1 over the bins). This measures, at the app's render size (each photo squashed to
a 560 px square, Pillow's bilinear and luma, the grain filter as Tintype applies it), the mean
predicted distribution over bins (softmax at temperature 1) and the truth's (each pixel's
chroma spread over its nearest bins as in training), and finds by fixed-point iteration the
bias b that makes the first match the second: b ← b + log p_true − log p_pred(b). The written
checkpoint has `strength` · b added to its logits' bias and is exported as any other. The
photos are BSDS val unless --photos names a folder; --split k/n keeps every n-th photo from the
k-th, so that a bias fitted on one half can be judged on the other.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import data
from model import CompactColorizer, fit_bias, has_context

RENDER = 560  # render factor 35, the app's default
PIXELS = 4000  # sampled logits per photo


def photos(folder, split):
    files = data.list_images([""], (folder,))
    if split:
        k, n = (int(v) for v in split.split("/"))
        files = files[k::n]
    return files


def photo_shaped(w, h, side=RENDER):
    """The app's input size for a file with `tintype.input_shape = photo` (`photo_shaped` in
    src/model/compact.rs): about side² pixels in the photo's proportions (held within 4:1),
    sides multiples of 16."""
    aspect = min(max(w / h, 0.25), 4.0)
    to_16 = lambda x: max(1, int(np.floor(x / 16 + 0.5))) * 16  # Rust's round(): halves away from 0
    return to_16((side * side * aspect) ** 0.5), to_16((side * side / aspect) ** 0.5)


def true_distribution(im, bins, size=(RENDER // 2, RENDER // 2)):
    """A photo's true colours soft-encoded over the bins, squashed to size (w, h) (by default
    the model's output scale for the render square), (w · h, Q)."""
    rgb = np.asarray(im.resize(size, Image.BILINEAR), dtype=np.float32)
    _, u, v = data.yuv(rgb)
    target, _ = data.soft_targets(torch.from_numpy(np.stack([u, v], 0))[None], bins)
    return target[0].flatten(1).T


def inputs(files, bins, grain_filter, damaged=None, photo_shape=False):
    """Each photo as the app feeds it to the model (squashed to the render square, or with
    `photo_shape` resized to photo_shaped(); Pillow's bilinear and luma, the grain filter), with
    its true colours soft-encoded over the bins at the model's output scale, (H/2 · W/2, Q). With
    `damaged`, a folder of the same photos aged (aged_val.py), each photo comes twice, clean and
    damaged, with the same true colours."""
    for f in files:
        im = Image.open(f).convert("RGB")
        size = photo_shaped(*im.size) if photo_shape else (RENDER, RENDER)
        target = true_distribution(im, bins, (size[0] // 2, size[1] // 2))
        greys = [im.resize(size, Image.BILINEAR).convert("L")]
        if damaged:
            stem = os.path.splitext(os.path.basename(f))[0]
            greys.append(Image.open(os.path.join(damaged, stem + ".png")).convert("RGB").resize(
                size, Image.BILINEAR).convert("L"))
        for grey in greys:
            x = data.to_input(grey)[None]
            if grain_filter:
                x = data.grain_filter(x, grain_filter)
            yield x, target


def measure(model, files, bins, grain_filter, damaged=None, seed=0, photo_shape=False):
    """Sampled logits (N, Q) and the truth's mean soft distribution over bins (Q,), over
    inputs()."""
    gen = torch.Generator().manual_seed(seed)
    logits, truth, n = [], torch.zeros(len(bins)), 0
    model.eval()
    with torch.no_grad():
        for x, target in inputs(files, bins, grain_filter, damaged, photo_shape):
            out = model(x)[0].flatten(1).T  # (H/2 · W/2, Q)
            pick = torch.randint(0, out.shape[0], (PIXELS,), generator=gen)
            logits.append(out[pick])
            truth += target.mean(0)
            n += 1
    return torch.cat(logits), truth / n


def fit(logits, truth, iterations=200, floor=1e-5):
    """model.fit_bias, and how far the mean softmax then is from the truth (L1)."""
    b = fit_bias(logits, truth, iterations, floor)
    pred = F.softmax(logits + b, dim=1).mean(0)
    target = truth.clamp(min=floor)
    return b, (pred - target / target.sum()).abs().sum().item()


def arguments(doc):
    """The command line calibrate.py and refit.py share: a checkpoint in, one out, and the
    held-out photos to fit on, measured as inputs() measures them."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--photos", default=os.path.join(data.DATA, "train/bsds500/val"))
    ap.add_argument("--split", help="k/n: every n-th photo from the k-th")
    ap.add_argument("--damaged", help="the same photos aged (aged_val.py's folder): fit for clean and damaged "
                    "inputs alike")
    ap.add_argument("--grain-filter", type=float, default=0.0, help="h, as the file will be exported with")
    ap.add_argument("--photo-shape", action="store_true", help="the photos in their own shape, as the app shows a "
                    "file exported with --photo-shape")
    return ap


def load(checkpoint):
    """A training checkpoint and the model in it."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = CompactColorizer(state["bins"], context=has_context(state["model"]))
    model.load_state_dict(state["model"])
    return state, model


def main():
    ap = arguments(__doc__)
    ap.add_argument("--strength", type=float, action="append", help="share of the fitted bias to add (repeatable: "
                    "one checkpoint each, OUT-sS.pt)")
    args = ap.parse_args()
    state, model = load(args.checkpoint)
    files = photos(args.photos, args.split)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    logits, truth = measure(model, files, model.bins, args.grain_filter, args.damaged, photo_shape=args.photo_shape)
    before = (F.softmax(logits, dim=1).mean(0) - truth).abs().sum().item()
    b, after = fit(logits, truth)
    print(f"{len(files)} photos: predicted vs true bin frequencies, L1 {before:.3f} → {after:.3f}; bias range "
          f"{b.min():.2f} … {b.max():.2f}")
    strengths = args.strength or [1.0]
    for s in strengths:
        out = args.out if len(strengths) == 1 else f"{os.path.splitext(args.out)[0]}-s{s:g}.pt"
        calibrated = dict(state)
        calibrated["model"] = {k: v.clone() for k, v in state["model"].items()}
        calibrated["model"]["logits.bias"] += s * b
        calibrated["calibration"] = {"photos": len(files), "split": args.split, "damaged": args.damaged,
                                     "grain_filter": args.grain_filter,
                                     "strength": s}
        torch.save(calibrated, out)
        print(f"{out}: strength {s:g}")


if __name__ == "__main__":
    main()
