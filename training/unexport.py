"""Turns an exported weights file back into a checkpoint that `train.py --init` continues from,
for a shipped model whose training checkpoint is gone.

    python unexport.py ../models/compact.safetensors runs/shipped/ckpt.pt

The file holds spectral norm baked into plain weights and its bins stretched by the chroma
scale; both are undone here: each baked weight becomes the parametrization's original (its
largest singular value is already 1, so the normalised weight is the same), the power
iteration's vectors are converged on it, and the bins go back to the training code's centres.
The bins' probabilities, which the class rebalancing needs, are not in the file; they are
measured again on the training photos (data.make_bins), and a bin those draws miss gets the
smallest measured probability. The logits' bias must be the trained one: a file exported with
a prior correction is refused. Exported again with the file's own settings, the shipped
model's checkpoint gives back its weights to within 9e-4 (f16 rounding of the power iteration's
estimate).
"""
import argparse

import torch
from safetensors import safe_open
from torch.nn.utils import parametrize

import data
from model import CompactColorizer, has_context


def main(weights, out, seed=0):
    f = safe_open(weights, "pt")
    meta = f.metadata()
    if float(meta.get("tintype.prior_correction", 0)) != 0:
        raise SystemExit(f"{weights}: exported with a prior correction, its logits' bias is not the trained one")
    tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    scale = float(meta.get("tintype.chroma_scale", 1))
    bins = 128.0 + (tensors.pop("bins") - 128.0) / scale
    measured, measured_prob = data.make_bins(data.load_all(data.list_images(data.TRAIN_DIRS)), seed=seed)
    index = {tuple(b.round().int().tolist()): p for b, p in zip(measured, measured_prob)}
    keys = [tuple(b.round().int().tolist()) for b in bins]
    prob = torch.tensor([index.get(k, measured_prob.min()) for k in keys])
    prob = prob / prob.sum()
    found = sum(k in index for k in keys)
    model = CompactColorizer(bins, context=has_context(tensors))
    for name, module in model.named_modules():
        if parametrize.is_parametrized(module, "weight"):
            p = module.parametrizations.weight
            p.original.data.copy_(tensors.pop(f"{name}.weight"))
            with torch.no_grad():
                p[0].train()
                for _ in range(100):
                    p[0](p.original)
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [k for k in missing if "parametrizations" not in k and not k.endswith("num_batches_tracked") and k != "bins"]
    if missing or unexpected:
        raise SystemExit(f"{weights}: missing {missing}, unexpected {unexpected}")
    torch.save({"model": model.state_dict(), "bins": bins, "prob": prob, "step": int(meta.get("tintype.steps", 0))}, out)
    print(f"{out}: {len(bins)} bins, {found} of them measured again; step {meta.get('tintype.steps')}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0, help="seed of the draws that measure the bins' probabilities")
    args = ap.parse_args()
    main(args.weights, args.out, args.seed)
