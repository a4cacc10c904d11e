"""Training data: colour photos from shared/data/train, turned into the exact inference input
(Pillow luma, replicated to 3 channels, ImageNet-normalised) and chroma targets in the
pipeline's analogue YUV. Crops and flips are applied to the colour photo before both are
made, so input and target stay aligned. No rotations (they blur)."""
import glob
import math
import os
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from model import IMAGENET_MEAN, IMAGENET_STD

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
TRAIN_DIRS = ["train/imagenet-sample", "train/bsds500/train"]
VAL_DIRS = ["train/bsds500/val"]
BIN = 10.0  # chroma bin size in 8-bit U, V units


def list_images(dirs, roots=(DATA,)):
    """The photos in dirs under any of roots (a copy of the data may be split over several),
    ordered by their path below the root so the order doesn't depend on where they lie."""
    files = []
    for root in roots:
        for d in dirs:
            for ext in ("*.jpg", "*.JPEG", "*.png", "*.webp"):
                files += [(os.path.relpath(f, root), f) for f in glob.glob(os.path.join(root, d, ext))]
    return [f for _, f in sorted(files)]


def load_all(files):
    def load(f):
        return Image.open(f).convert("RGB")

    with ThreadPoolExecutor(8) as pool:  # Pillow decodes without holding the GIL
        return list(pool.map(load, files))


def yuv(rgb):
    """float RGB 0..255 (..., 3) → Y, U, V with OpenCV's analogue coefficients, U, V centred 128."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return y, 0.492 * (b - y) + 128.0, 0.877 * (r - y) + 128.0


def make_bins(images, samples_per_image=4000, seed=0):
    """Chroma bins that occur in the training photos, and their empirical probabilities."""
    rng = np.random.default_rng(seed)
    n = int(256 // BIN) + 1
    hist = np.zeros((n, n))
    for im in images:
        a = np.asarray(im, dtype=np.float32).reshape(-1, 3)
        a = a[rng.integers(0, len(a), samples_per_image)]
        _, u, v = yuv(a)
        iu = np.clip(np.round(u / BIN).astype(int), 0, n - 1)
        iv = np.clip(np.round(v / BIN).astype(int), 0, n - 1)
        np.add.at(hist, (iu, iv), 1)
    keep = np.argwhere(hist > 0)
    centres = keep.astype(np.float32) * BIN
    prob = hist[hist > 0] / hist.sum()
    return torch.from_numpy(centres), torch.from_numpy(prob.astype(np.float32))


def rebalance_weights(bins, prob, lam=0.5, sigma=1.0):
    """Zhang et al.'s class rebalancing: smooth the prior, mix with uniform, invert, normalise."""
    d2 = ((bins[:, None, :] - bins[None, :, :]) / BIN).pow(2).sum(-1)
    smooth = (torch.exp(-d2 / (2 * sigma**2)) * prob[None, :]).sum(1)
    smooth = smooth / smooth.sum()
    w = 1.0 / ((1 - lam) * smooth + lam / len(bins))
    return w / (smooth * w).sum()


def crop_box(w, h, size, rng, zoom=1.0):
    """A random square (x0, y0, side) in a w × h photo, its side between size / zoom and 2·size
    where the photo allows. A zoom over 1 lets crops be enlarged: at the large training sizes a
    crop is otherwise nearly the whole photo, the same view at every step."""
    short = min(w, h)
    smallest = min(size, math.ceil(size / zoom))
    side = rng.randint(smallest, max(smallest, min(short, 2 * size))) if short >= smallest else short
    return rng.randint(0, w - side), rng.randint(0, h - side), side


def sample(im, size, rng, zoom=1.0):
    """Random crop (crop_box), resized to size with Pillow's antialiasing bilinear, random
    horizontal flip."""
    x0, y0, side = crop_box(*im.size, size, rng, zoom)
    crop = im.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.BILINEAR)
    if rng.random() < 0.5:
        crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
    return crop


def to_input(crop):
    """The model input exactly as Tintype's pipeline makes it: Pillow L, 3 channels, normalised."""
    grey = np.asarray(crop.convert("L"), dtype=np.float32) / 255.0
    chans = [(grey - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    return torch.from_numpy(np.stack(chans, 0))


def to_target(crop):
    """U, V (8-bit units, centred on 128) at half resolution, (2, S/2, S/2)."""
    a = torch.from_numpy(np.asarray(crop, dtype=np.float32)).permute(2, 0, 1)[None]
    a = torch.nn.functional.avg_pool2d(a, 2)[0].permute(1, 2, 0).numpy()
    _, u, v = yuv(a)
    return torch.from_numpy(np.stack([u, v], 0))


def batch(images, size, n, rng, zoom=1.0):
    crops = [sample(images[rng.randrange(len(images))], size, rng, zoom) for _ in range(n)]
    return torch.stack([to_input(c) for c in crops]), torch.stack([to_target(c) for c in crops])


def cutmix(x, uv, share, rng):
    """CutMix (Yun et al. 2019) for colorization: a share of the crops get a rectangle (a third to
    two thirds of each side) of another crop in the batch, the same region of input and target,
    so no crop is one whole training photo the network can recognise and recall. The rectangle
    lies on even pixels so it covers whole target pixels (uv is at half scale). Drawn per crop,
    applied to the whole batch at once (a per-crop loop is hundreds of small GPU kernels)."""
    b, _, s, _ = x.shape
    if b < 2:
        return x, uv
    half = s // 2
    partner, boxes = list(range(b)), [(0, 0, 0, 0)] * b  # an empty box: the crop stays itself
    for i in range(b):
        if rng.random() >= share:
            continue
        j = rng.randrange(b - 1)
        partner[i] = j + (j >= i)
        h, w = rng.randint(half // 3, 2 * half // 3), rng.randint(half // 3, 2 * half // 3)
        y0, x0 = rng.randint(0, half - h), rng.randint(0, half - w)
        boxes[i] = (y0, y0 + h, x0, x0 + w)
    y0, y1, x0, x1 = torch.tensor(boxes, device=x.device).T[..., None, None]
    at = torch.arange(half, device=x.device)
    inside = (at[:, None] >= y0) & (at[:, None] < y1) & (at >= x0) & (at < x1)  # (B, half, half)
    partner = torch.tensor(partner, device=x.device)
    uv = torch.where(inside[:, None], uv[partner], uv)
    inside = inside.repeat_interleave(2, 1).repeat_interleave(2, 2)
    return torch.where(inside[:, None], x[partner], x), uv


def soft_targets(uv, bins, k=5, sigma=5.0):
    """Soft-encode target chroma on its k nearest bins with Gaussian weights → (B, Q, H, W)."""
    b, _, h, w = uv.shape
    flat = uv.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(flat, bins).pow(2)
    near_d2, near_i = d2.topk(k, dim=1, largest=False)
    wts = torch.exp(-near_d2 / (2 * sigma**2))
    wts = wts / wts.sum(1, keepdim=True)
    t = torch.zeros(flat.shape[0], bins.shape[0], device=flat.device)
    t.scatter_(1, near_i, wts)
    return t.view(b, h, w, -1).permute(0, 3, 1, 2), near_i[:, 0].view(b, h, w)


def age(x, share, rng, grain=12.0):
    """Old-print damage on a share of a normalised input batch, in place of the clean luma: a
    faded tone curve (contrast 0.45–1, shifted, gamma 0.7–1.4), softness (blur σ 0–1.5 px) and
    grain (σ from 0 to `grain` grey levels, half of it coarse), then 8-bit again as a scan would
    be. The chroma targets stay those of the clean photo: an aged print of a scene has the
    scene's colours. Without it the model reads grain and flat tones as "old, so brown"
    (measured: see experiments.md). The whole batch at once, each photo with its own draws: a
    loop over the photos, twenty small kernels each, held a GPU run to 5 steps/s where it made
    17 without damage."""
    n, dev, dt = x.shape[0], x.device, x.dtype
    draws = [(rng.random() < share, rng.uniform(0.45, 1.0), rng.uniform(-0.15, 0.15), rng.uniform(-0.35, 0.35),
              rng.uniform(0.0, 1.5), rng.uniform(0.0, grain)) for _ in range(n)]
    aged, contrast, shift, log_gamma, sigma, sigma_grain = (torch.tensor(c, dtype=dt, device=dev).view(n, 1, 1, 1)
                                                            for c in zip(*draws))
    g = grey_of(x)
    g = (0.5 + shift + contrast * (g - 0.5)).clamp(0, 1) ** torch.exp(log_gamma)
    # One separable Gaussian per photo (a grouped convolution); σ ≤ 0.3 px is left sharp.
    r = 5  # ⌈3 · 1.5⌉
    t = torch.arange(-r, r + 1, dtype=dt, device=dev).view(1, 1, 1, -1)
    k = torch.exp(-(t**2) / (2 * sigma.clamp(min=0.3) ** 2))
    k = torch.where(sigma > 0.3, k, (t == 0).to(dt))
    k = k / k.sum(-1, keepdim=True)
    g = g.transpose(0, 1)
    g = F.conv2d(F.pad(g, (r, r, 0, 0), mode="reflect"), k, groups=n)
    g = F.conv2d(F.pad(g, (0, 0, r, r), mode="reflect"), k.transpose(2, 3), groups=n)
    g = g.transpose(0, 1)
    gen = torch.Generator(device=dev).manual_seed(rng.getrandbits(62))
    fine = torch.randn(g.shape, generator=gen, device=dev, dtype=dt)
    coarse = torch.randn((n, 1, g.shape[2] // 2, g.shape[3] // 2), generator=gen, device=dev, dtype=dt)
    coarse = F.interpolate(coarse, size=g.shape[2:], mode="bilinear", align_corners=False)
    g = (g + sigma_grain / 255 * (fine + coarse) / math.sqrt(2)).clamp(0, 1)
    g = torch.round(g * 255) / 255
    return torch.where(aged.bool(), normalise(g), x)


def grain_filter(x, h):
    """The app's grain filter on a normalised input batch: non-local means of strength h on the
    8-bit grey, with OpenCV's fastNlMeansDenoising, which `src/pipeline/grain.rs` matches to
    within a grey level (tests/compact.rs, on grain_fixture.py's fixture). Training on filtered
    inputs shows the model what it will be given."""
    import cv2  # only needed here

    grey = torch.round(grey_of(x).clamp(0, 1) * 255).to(torch.uint8).cpu().numpy()
    out = [cv2.fastNlMeansDenoising(g[0], None, h=h) for g in grey]
    g = torch.from_numpy(np.stack(out)[:, None]).to(x.device, x.dtype) / 255
    return normalise(g)


def grey_of(x):
    """The model's input back to grey in [0, 1], (B, 1, H, W): normalise() undone."""
    return x[:, :1] * IMAGENET_STD[0] + IMAGENET_MEAN[0]


def normalise(grey):
    """Grey in [0, 1], (B, 1, H, W) → the model's input: 3 channels, ImageNet-normalised."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=grey.dtype, device=grey.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=grey.dtype, device=grey.device).view(1, 3, 1, 1)
    return (grey - mean) / std


class DeviceSampler:
    """batch() made with torch on the training device (a GPU, where Pillow on the CPU can't keep
    up) from the photos held there as uint8: the same random draws, crops, flips and luma as
    sample() and to_input(), and the same targets as to_target(). The one difference is the
    resize, torch's antialiased bilinear for Pillow's, which differ by about a grey level."""

    def __init__(self, images, device, zoom=1.0):
        self.zoom = zoom
        self.photos = [torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).to(device) for im in images]

    def batch(self, size, n, rng):
        crops = []
        for _ in range(n):
            p = self.photos[rng.randrange(len(self.photos))]
            x0, y0, side = crop_box(p.shape[2], p.shape[1], size, rng, self.zoom)
            crop = p[None, :, y0 : y0 + side, x0 : x0 + side].float()
            if side != size:
                crop = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
                crop = crop.round().clamp(0, 255)  # Pillow's crop is uint8 again
            if rng.random() < 0.5:
                crop = crop.flip(-1)
            crops.append(crop)
        rgb = torch.cat(crops)
        # Pillow's RGB → L in fixed point; exact in float32 (the sums stay below 2^24).
        r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
        grey = torch.floor((r * 19595 + g * 38470 + b * 7471 + 32768) / 65536)[:, None] / 255.0
        x = normalise(grey)
        half = F.avg_pool2d(rgb, 2).permute(0, 2, 3, 1)
        _, u, v = yuv(half)
        return x, torch.stack([u, v], 1)
