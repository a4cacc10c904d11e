"""A weighted average of checkpoints' weights, for models that share their start (the same
pretrained encoder, decoder initialisation and chroma bins; "weight averages" in experiments.md):
every floating-point tensor, BatchNorm's running statistics included, as a weighted mean. The
result is a checkpoint that export.py and `train.py --init` read.

    python average.py OUT.pt 0.75 runs/a/ckpt.pt 0.25 runs/b/snap-256.pt
"""
import argparse

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("pairs", nargs="+", help="weight, checkpoint, weight, checkpoint, ...")
    args = ap.parse_args()
    if len(args.pairs) % 2:
        ap.error("give a weight before each checkpoint")
    pairs = [(float(args.pairs[i]), args.pairs[i + 1]) for i in range(0, len(args.pairs), 2)]
    states = [(w, torch.load(p, map_location="cpu", weights_only=False)) for w, p in pairs]
    total = sum(w for w, _ in states)
    first = states[0][1]
    for (_, s), (_, path) in zip(states, pairs):
        if not torch.equal(s["bins"], first["bins"]):
            raise SystemExit(f"{path}: its chroma bins differ from {pairs[0][1]}'s; only models with one start average")
    model = {}
    for name, tensor in first["model"].items():
        if tensor.is_floating_point():
            model[name] = sum(w * s["model"][name].float() for w, s in states) / total
        else:
            model[name] = tensor  # counters such as BatchNorm's num_batches_tracked
    torch.save({"model": model, "bins": first["bins"], "prob": first["prob"], "step": first["step"]}, args.out)
    print(f"{args.out}: " + " + ".join(f"{w / total:.2f} × {p}" for w, p in pairs))


if __name__ == "__main__":
    main()
