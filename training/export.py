"""Exports a trained compact colorizer for Tintype, and the parity fixture its candle port is
tested against.

    python export.py runs/seed0/ckpt.pt ../models/compact.safetensors ../tests/fixtures/compact/parity.safetensors [--temperature T]

The annealed-mean temperature is a decoding choice, not a weight: it is chosen on the
validation photos after training (see README) and stored in the file's metadata. So is the
prior correction α: training weighted each chroma bin q by its rebalancing weight w_q, which
tilts the predicted distribution toward rare (vivid) bins; decoding with p_q / w_q^α undoes
a share α of that tilt. It is folded into the logits' bias (b_q − α·log w_q), so the file
computes it with no change to the model. A chroma scale s stretches the bin centres away
from grey (128 + s·(c − 128)): the annealed mean averages over hues, so it comes out paler
than the truth; s > 1 gives back saturation without changing any hue. The grain filter's
strength h (non-local means on the model's input, `src/pipeline/grain.rs`; 0 is off) and the
mirror average (the chroma predicted for the photo and for its mirror image, averaged) are the
app's to apply, so they are only stored, and so is the input's shape (`--photo-shape`: the app
shows the network each photo in its own proportions, about as many pixels as the render square,
instead of stretching it to the square as DeOldify does; the network was trained on undistorted
crops); `restamp.py` changes them in an exported file. A scene
palette fitted by `scene_prior.py --head-out` is folded into one linear layer (`scene.weight`,
`scene.bias`: its standardisation of the features included), with the strength the logits
are steered toward it by (model.CompactColorizer.steered) in the metadata.

The weights file holds the eval-mode tensors (spectral norm baked into plain weights,
BatchNorm running statistics kept, `num_batches_tracked` dropped): conv weights in f16 (half
the size), everything else in f32, plus the chroma bins. The fixture's outputs are computed
with exactly those f16-rounded weights, so the Rust port must match them to float precision.
"""
import argparse

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import data
from model import CompactColorizer, has_context

FORMAT = "tintype-compact-v1"


def bake(model):
    """Spectral norm's parametrization → a plain `weight` holding the normalised value."""
    for module in model.modules():
        if torch.nn.utils.parametrize.is_parametrized(module, "weight"):
            torch.nn.utils.parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    return model


def branch_model(path, **branch):
    """The shipped file's tensors in f32 and a model with a branch it lacks (context=True,
    scene=True) at its temperature, for that branch's fixture (context_fixture.py,
    scene_fixture.py; branch_fixture loads the tensors into it)."""
    with safe_open(path, "pt") as f:
        temperature = float(f.metadata()["tintype.temperature"])
        shipped = {k: f.get_tensor(k).float() for k in f.keys()}
    return shipped, CompactColorizer(shipped["bins"], spectral=False, temperature=temperature, **branch)


def branch_fixture(model, shipped, added, switch_off, fixture_out):
    """Writes the parity fixture of a branch the shipped file lacks: `model` with the shipped
    weights and the branch's `added` tensors, stored as main() stores them (matrices in f16, the
    rest in f32), and its outputs for the two fixture inputs. Returns how far switching the
    branch off (`switch_off(model)`) moves the first output, so the test is known to exercise it."""
    added = {k: (v.half() if v.dim() > 1 else v.float()).clone() for k, v in added.items()}
    missing = model.load_state_dict({**shipped, **{k: v.float() for k, v in added.items()}}, strict=False).missing_keys
    assert all(k.endswith("num_batches_tracked") for k in missing), missing
    model.eval()
    fixture = dict(added)
    with torch.no_grad():
        for size in (64, 80):
            x = grey_input(size, seed=size)
            fixture[f"input_s{size}"] = x
            fixture[f"output_s{size}"] = model.colorize(x)
        switch_off(model)
        moved = (model.colorize(fixture["input_s64"]) - fixture["output_s64"]).abs().max().item()
    save_file(fixture, fixture_out)
    return moved


def grey_input(size, seed):
    """A deterministic photo-like grey image, ImageNet-normalised, (1, 3, size, size)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    g = 0.5 + 0.3 * np.sin(6 * xx + 2 * yy) * np.cos(4 * yy) + 0.05 * rng.standard_normal((size, size))
    g = np.round(np.clip(g, 0, 1) * 255) / 255
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    return torch.from_numpy(np.stack([(g - m) / s for m, s in zip(mean, std)])[None].astype(np.float32))


def add_scene(model, head_path, strength):
    """The head scene_prior.py fitted (softmax(((x − mean) / std) · W + prior)) as one linear layer
    on the pooled features x."""
    head = torch.load(head_path, map_location="cpu", weights_only=False)
    if head["scene_input"] != "render":
        raise SystemExit(f"{head_path}: fitted on {head['scene_input']} features; the app has the render square's")
    w = head["weight"] / head["std"][:, None]
    model.scene = torch.nn.Linear(*w.shape)
    with torch.no_grad():
        model.scene.weight.copy_(w.T)
        model.scene.bias.copy_(head["prior"] - head["mean"] @ w)
    model.scene_strength = strength


def main(ckpt_path, weights_out, fixture_out, temperature=None, prior_correction=0.0, chroma_scale=1.0, grain_filter=0.0,
         mirror_average=False, scene_head=None, scene_strength=0.5, photo_shape=False):
    state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    model = CompactColorizer(state["bins"], context=has_context(state["model"]))
    if temperature is not None:
        model.temperature = temperature
    model.load_state_dict(state["model"])
    model = bake(model).eval()
    if chroma_scale != 1.0:
        model.bins.copy_(128.0 + chroma_scale * (model.bins - 128.0))
    if prior_correction:
        w = data.rebalance_weights(state["bins"], state["prob"])  # as train.py weighted the loss
        with torch.no_grad():
            model.logits.bias -= prior_correction * torch.log(w)
    if scene_head:
        add_scene(model, scene_head, scene_strength)
    tensors = {}
    for name, t in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        t = t.detach().contiguous()
        tensors[name] = t.half() if t.dim() > 1 and name != "bins" else t.float()
    meta = {"tintype.format": FORMAT, "tintype.temperature": str(model.temperature), "tintype.steps": str(state["step"]),
            "tintype.prior_correction": str(prior_correction), "tintype.chroma_scale": str(chroma_scale),
            "tintype.grain_filter": str(grain_filter), "tintype.mirror_average": "1" if mirror_average else "0"}
    if scene_head:
        meta["tintype.scene_strength"] = str(scene_strength)
    if photo_shape:
        meta["tintype.input_shape"] = "photo"
    save_file(tensors, weights_out, metadata=meta)

    # Reload the rounded weights so the fixture is what the shipped file computes.
    model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    fixture = {}
    with torch.no_grad():
        for size in (64, 80):
            x = grey_input(size, seed=size)
            fixture[f"input_s{size}"] = x
            fixture[f"output_s{size}"] = model.colorize(x)
    save_file({k: v.contiguous() for k, v in fixture.items()}, fixture_out)
    n = sum(t.numel() for t in tensors.values())
    print(f"exported {len(tensors)} tensors, {n / 1e6:.2f} M values → {weights_out}; fixture → {fixture_out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("weights_out")
    ap.add_argument("fixture_out")
    ap.add_argument("--temperature", type=float, default=None, help="annealed-mean temperature (default: the model's)")
    ap.add_argument("--prior-correction", type=float, default=0.0, help="α: undo this share of the class rebalancing")
    ap.add_argument("--chroma-scale", type=float, default=1.0, help="s: stretch the chroma bins away from grey")
    ap.add_argument("--grain-filter", type=float, default=0.0, help="h: non-local means on the app's model input")
    ap.add_argument("--mirror-average", action="store_true", help="the app averages the photo's and its mirror's chroma")
    ap.add_argument("--photo-shape", action="store_true", help="the app shows the network each photo in its own shape")
    ap.add_argument("--scene-head", help="a scene palette from scene_prior.py --head-out (--scene-input render)")
    ap.add_argument("--scene-strength", type=float, default=0.5, help="how far the logits are steered toward it")
    args = ap.parse_args()
    main(args.checkpoint, args.weights_out, args.fixture_out, args.temperature, args.prior_correction, args.chroma_scale,
         args.grain_filter, args.mirror_average, args.scene_head, args.scene_strength, args.photo_shape)
