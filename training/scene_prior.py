"""What knowing a photo's colours is worth: a per-photo prior over the chroma bins, measured on
held-out photos (a measurement; only a head saved with --head-out can reach the app, through
export.py --scene-head).

    python scene_prior.py CKPT --oracle --strength 0.25 --strength 1
    python scene_prior.py CKPT --neighbours 10 --strength 0.25 [--photos DIR] [--chroma 0.965]
    python scene_prior.py CKPT --head 0.03 --strength 0.5
    python scene_prior.py CKPT --head 0.03 --scene-input render --head-out H.pt --views-cache V.npz --strength 0.5
    python scene_prior.py CKPT --head 0.03 --scene-input render --views-cache V.npz --head-use news --strength 0.5

For each photo a bias over the bins is fitted, as calibrate.py fits one over all photos, so
that the model's mean predicted distribution over the photo matches a histogram h, and added to
the logits with each --strength. h is the photo's own true histogram (--oracle: an upper bound
for any per-photo prior) or the mean true histogram of its k nearest training photos
(--neighbours k), nearest by the ImageNet encoder's pooled features of the grey picture (its
1,280 classifier and 320 encoder channels, standardised, cosine), or the histogram a learned
head predicts (--head λ: a linear softmax layer on the checkpoint's own encoder's pooled 320
channels, fitted with weight decay λ to the true histograms of the training photos and three
random crops of each; --scene-input render: on the app's own 560 px input instead of the grey
squashed to 256 px, --age-views: some of those views aged; --head-use news: only what the head
says of this photo, the model's own mean distribution times the head's prediction over its mean
prediction on the training views, so that a photo the head knows nothing about is left as it
is; --head-use mean: that mean prediction alone, the same for every photo). The photo goes
through the model as the app feeds it (calibrate.inputs: 560 px square, grain filter); its
chroma (annealed mean at T 0.5, bins stretched by s 1.2, times --chroma) is resized to the full
photo under the photo's own luma and scored against the truth with scikit-image's CIEDE2000,
beside plain grey.
--json writes the per-photo rows.
"""
import argparse
import json
import multiprocessing
import os
import random

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


def grey_input(im):
    """A picture's grey squashed to 256 px, as the model's input: what the scene features see."""
    g = np.asarray(im.convert("L").resize((256, 256), Image.BILINEAR), dtype=np.float32)
    return data.normalise(torch.from_numpy(g / 255)[None, None])


def histogram(im, bins, size=calibrate.RENDER // 2):
    """A picture's true distribution over the bins, (Q,)."""
    return calibrate.true_distribution(im, bins, size).mean(0).numpy()


def features(files):
    """Pooled ImageNet-encoder features of each photo's grey picture, (N, 1600)."""
    enc = CompactColorizer(torch.zeros(1, 2), spectral=False, context=True)
    load_pretrained_encoder(enc, pretrained_path())
    enc.eval()
    out = []
    with torch.no_grad():
        for f in files:
            h, _, ctx = enc.encoder(grey_input(Image.open(f)))
            out.append(np.concatenate([ctx[0].numpy(), h.mean((2, 3))[0].numpy()]))
    return np.stack(out)


def histograms(files, bins):
    """Each photo's true distribution over the bins, at the model's output scale, (N, Q)."""
    return np.stack([histogram(Image.open(f).convert("RGB"), bins) for f in files])


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


def render_input(im, aged=None):
    """A picture as the app feeds the model (calibrate.inputs): the 560 px square, luma, the
    grain filter. aged: a random.Random that gives it old-print damage first (data.age)."""
    x = data.to_input(im.resize((calibrate.RENDER, calibrate.RENDER), Image.BILINEAR).convert("L"))[None]
    if aged is not None:
        x = data.age(x, 1.0, aged)
    return data.grain_filter(x, GRAIN)


SCENE_INPUTS = {"grey256": grey_input, "render": render_input}
_scene_input = grey_input


def view_features(model, views, aged=None):
    """The checkpoint's own encoder's pooled output for each view's grey picture, (N, 320): the
    grey squashed to 256 px (grey256), or the model's own input at the render size (render: what
    the app's one pass through the encoder gives for free)."""
    with torch.no_grad():
        inputs = [_scene_input(v) if aged is None else _scene_input(v, aged) for v in views]
        return torch.cat([model.encoder(x)[0].mean((2, 3)) for x in inputs]).numpy()


_worker_model = None
_worker_age = 0.0


def load_worker(checkpoint, scene_input, age=0.0):
    global _worker_model, _scene_input, _worker_age
    torch.set_num_threads(1)
    _scene_input = SCENE_INPUTS[scene_input]
    _worker_age = age
    _, _worker_model = calibrate.load(checkpoint)
    _worker_model.eval()


def training_views(args):
    """One training photo whole and `crops` random crops of it (35–80 % of its area, half of
    them mirrored): their features and true histograms (measured at 140 px: a whole-picture
    statistic). With --age-views a, a share a of the views are seen through old-print damage
    (render input only), their histograms still the clean photo's."""
    f, crops, seed = args
    model = _worker_model
    rng = np.random.default_rng(seed)
    im = Image.open(f).convert("RGB")
    views = [im]
    for _ in range(crops):
        s = np.sqrt(rng.uniform(0.35, 0.8))
        w, h = int(im.width * s), int(im.height * s)
        x0, y0 = int(rng.integers(0, im.width - w + 1)), int(rng.integers(0, im.height - h + 1))
        c = im.crop((x0, y0, x0 + w, y0 + h))
        views.append(c.transpose(Image.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else c)
    if _worker_age:
        aged = random.Random(seed)
        feats = np.concatenate([view_features(model, [v], aged if aged.random() < _worker_age else None)
                                for v in views])
    else:
        feats = view_features(model, views)
    return feats, np.stack([histogram(v, model.bins, 140) for v in views])


def head_priors(checkpoint, model, files, weight_decay, scene_input, views_cache=None, head_out=None, age=0.0,
                use="palette", crops=3, steps=1500):
    """The histograms a linear softmax head predicts for files, fitted on the training photos.
    views_cache keeps the training views' features and histograms (the slow part) between runs;
    head_out saves the fitted head (weight on the standardised features, their mean and spread,
    and the prior) for export.py. use news: each prediction over the mean prediction on the
    training views instead (a likelihood ratio, 1 where the head knows nothing); use mean: that
    mean prediction for every photo."""
    if views_cache and os.path.exists(views_cache):
        x, h = (np.load(views_cache)[k] for k in ("x", "h"))
    else:
        train = data.list_images(data.TRAIN_DIRS)
        # Worker processes that are replaced every 50 photos: one long-lived process grew past 24 GB
        # over the training photos' crops (cause not found).
        with multiprocessing.get_context("spawn").Pool(2, load_worker, (checkpoint, scene_input, age),
                                                       maxtasksperchild=50) as pool:
            parts = pool.map(training_views, [(f, crops, i) for i, f in enumerate(train)], chunksize=10)
        x = np.concatenate([p[0] for p in parts])
        h = np.concatenate([p[1] for p in parts])
        if views_cache:
            np.savez(views_cache, x=x, h=h)
    h = torch.from_numpy(h).float()
    mu, sd = x.mean(0), x.std(0) + 1e-6
    x = torch.from_numpy((x - mu) / sd).float()
    prior = torch.log(h.mean(0).clamp(min=1e-4))
    torch.manual_seed(0)
    w = torch.zeros(x.shape[1], h.shape[1], requires_grad=True)
    opt = torch.optim.Adam([w], lr=1e-3)
    for _ in range(steps):  # full batch: cross-entropy against the soft histograms, plus weight decay
        loss = -(h * F.log_softmax(x @ w + prior, 1)).sum(1).mean() + weight_decay * (w**2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    if head_out:
        torch.save({"weight": w.detach(), "mean": torch.from_numpy(mu).float(), "std": torch.from_numpy(sd).float(),
                    "prior": prior, "scene_input": scene_input}, head_out)
    feats = torch.from_numpy((np.concatenate([view_features(model, [Image.open(f).convert("RGB")]) for f in files])
                              - mu) / sd).float()
    with torch.no_grad():
        predicted = F.softmax(feats @ w + prior, 1)
        mean = F.softmax(x @ w + prior, 1).mean(0)
        return list({"palette": predicted, "news": predicted / mean, "mean": mean.expand_as(predicted)}[use])


def colourfulness(rgb):
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def reference(photo):
    """What a colorized photo is scored against: the truth in CIELAB, the photo's luma (float,
    full size) and plain grey's CIEDE2000 to the truth."""
    lab = rgb2lab(np.asarray(photo))
    luma = np.asarray(photo.convert("L"), dtype=np.float64)
    grey = np.repeat(luma.round().astype(np.uint8)[..., None], 3, -1)
    return lab, luma, float(deltaE_ciede2000(lab, rgb2lab(grey)).mean())


def annealed_chroma(logits, stretched):
    """U, V (centred on 0) as the shipped file decodes them: the annealed mean at T over the
    stretched bins, at the logits' scale."""
    return torch.einsum("bqhw,qc->bchw", F.softmax(logits / T, dim=1), stretched) - 128.0


def score(logits, stretched, luma, lab, chroma=1.0):
    """The photo's CIEDE2000 to the truth (lab) and colourfulness when the logits are decoded as
    shipped (annealed_chroma, times chroma) and their chroma resized under the photo's own luma."""
    uv = annealed_chroma(logits, stretched)
    uv = F.interpolate(uv, size=luma.shape, mode="bilinear", align_corners=False)[0].numpy() * chroma
    r = luma + uv[1] / 0.877
    b = luma + uv[0] / 0.492
    g = (luma - 0.299 * r - 0.114 * b) / 0.587
    rgb = np.clip(np.rint(np.stack([r, g, b], -1)), 0, 255).astype(np.uint8)
    return {"ciede2000": float(deltaE_ciede2000(lab, rgb2lab(rgb)).mean()), "colourfulness": colourfulness(rgb)}


def summary(scored, grey, truth_cf):
    """One decoding's scores over the photos (score()'s, in the order of grey, the photos' grey
    CIEDE2000) in one line: ΔE00, gain, photos closer than grey, colourfulness ÷ the truth's."""
    d = np.array([r["ciede2000"] for r in scored])
    cf = np.mean([r["colourfulness"] for r in scored])
    return (f"ΔE00 {d.mean():.2f} (grey {grey.mean():.2f}), gain {grey.mean() - d.mean():.2f}, closer than grey "
            f"{(d < grey).mean() * 100:.0f} %, colourfulness {cf / truth_cf:.3f}× the truth's")


def main():
    global _scene_input
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--photos", default=os.path.join(data.DATA, "train/bsds500/val"))
    ap.add_argument("--oracle", action="store_true", help="each photo's own histogram")
    ap.add_argument("--neighbours", type=int, help="k: the mean histogram of the k nearest training photos")
    ap.add_argument("--head", type=float, metavar="λ", help="a learned head's histogram, fitted with weight decay λ")
    ap.add_argument("--scene-input", choices=sorted(SCENE_INPUTS), default="grey256",
                    help="what the head's features see (default grey256)")
    ap.add_argument("--views-cache", help="an .npz keeping the training views' features and histograms (reused "
                    "as it is when it exists: keep one per --scene-input and --age-views)")
    ap.add_argument("--head-out", help="save the fitted head here (for export.py --scene-head)")
    ap.add_argument("--age-views", type=float, default=0.0, metavar="A",
                    help="fit the head on a share A of the training views aged (data.age; --scene-input render)")
    ap.add_argument("--head-use", choices=("palette", "news", "mean"), default="palette",
                    help="--head: steer toward its palette (default), its news (its prediction over its mean one, "
                    "times the model's own mean) or its mean palette alone")
    ap.add_argument("--strength", type=float, action="append", help="share of the fitted bias (repeatable)")
    ap.add_argument("--chroma", type=float, action="append",
                    help="scale the chroma, to compare at like colourfulness (repeatable; default 1)")
    ap.add_argument("--json")
    args = ap.parse_args()
    _scene_input = SCENE_INPUTS[args.scene_input]
    _, model = calibrate.load(args.checkpoint)
    model.eval()
    bins = model.bins.clone()
    stretched = 128 + S * (bins - 128)
    files = calibrate.photos(args.photos, None)
    priors = [None] * len(files)
    if args.neighbours:
        priors = neighbour_priors(files, bins, args.neighbours)
    elif args.head is not None:
        priors = head_priors(args.checkpoint, model, files, args.head, args.scene_input, args.views_cache,
                             args.head_out, args.age_views, args.head_use)
    settings = [(s, c) for s in [0.0] + (args.strength or []) for c in (args.chroma or [1.0])]
    key = lambda s, c: f"{s:g}" if c == 1.0 else f"{s:g}x{c:g}"
    gen = torch.Generator().manual_seed(0)
    rows = []
    with torch.no_grad():
        for f, prior, (x, target) in zip(files, priors, calibrate.inputs(files, bins, GRAIN)):
            photo = Image.open(f).convert("RGB")
            lab, luma, grey_score = reference(photo)
            logits = model(x)
            flat = logits[0].flatten(1).T
            sample = flat[torch.randint(0, flat.shape[0], (calibrate.PIXELS,), generator=gen)]
            h = target.mean(0) if args.oracle or prior is None else prior
            if args.head is not None and args.head_use == "news":
                h = F.softmax(sample, 1).mean(0) * h
            bias, _ = calibrate.fit(sample, h, iterations=100)
            row = {"name": os.path.basename(f), "grey": grey_score,
                   "truth_colourfulness": colourfulness(np.asarray(photo))}
            for s, c in settings:
                row[key(s, c)] = score(logits + s * bias[None, :, None, None], stretched, luma, lab, c)
            rows.append(row)
    if args.json:
        json.dump(rows, open(args.json, "w"))
    grey = np.array([r["grey"] for r in rows])
    truth_cf = np.mean([r["truth_colourfulness"] for r in rows])
    for s, c in settings:
        print(f"strength {s:g}, chroma {c:g}: {summary([r[key(s, c)] for r in rows], grey, truth_cf)}")


if __name__ == "__main__":
    main()
