"""Last-layer refit: the 1×1 logits conv (48 features → one logit per chroma bin) fitted again
on held-out photos.

    python refit.py runs/seed0/ckpt.pt runs/seed0/refit.pt --damaged /tmp/val-aged --grain-filter 5

The network remembers its training photos (experiments.md), so the logits layer was fitted
to features of photos it knows. On photos it has not seen, its features say less, and a layer
fitted to them there can weigh them accordingly. calibrate.py does this for the bias alone
(its fixed point is where the cross-entropy's gradient in the bias vanishes); this fits weight
and bias by the training loss (soft-encoded cross-entropy over the bins, without class
rebalancing, temperature 1), with an L2 pull of the weight towards the trained one (--decay)
so that a hundred photos only nudge it. The photos are measured as calibrate.py measures them:
at the app's render size and grain filter, clean and (--damaged) aged, against the same true
colours; --split k/n keeps every n-th photo from the k-th for cross-fitting.
"""
import os

import torch
import torch.nn.functional as F

from calibrate import arguments, inputs, load, photos

PIXELS = 4000  # sampled pixels per photo and input


def measure(model, files, bins, grain_filter, damaged=None, seed=0):
    """Features before the logits conv (N, 48) at sampled pixels of calibrate.inputs(), and those
    pixels' soft targets as (N, k) bin indices and weights."""
    gen = torch.Generator().manual_seed(seed)
    feats, near, wts = [], [], []
    grab = {}
    hook = model.logits.register_forward_hook(lambda m, i, o: grab.__setitem__("h", i[0]))
    model.eval()
    with torch.no_grad():
        for x, target in inputs(files, bins, grain_filter, damaged):
            model(x)
            h = grab["h"][0].flatten(1).T  # (H/2 · W/2, 48)
            pick = torch.randint(0, h.shape[0], (PIXELS,), generator=gen)
            w, i = target[pick].topk(5, dim=1)
            feats.append(h[pick])
            near.append(i)
            wts.append(w)
    hook.remove()
    return torch.cat(feats), torch.cat(near), torch.cat(wts)


def fit(feats, near, wts, weight, bias, decay, steps=300, lr=0.01):
    """Weight (Q, 48) and bias (Q,) minimising the soft cross-entropy plus decay · ‖W − W₀‖²
    (summed over its entries, the loss a mean over pixels), from W₀, b₀; Adam, full batch."""
    w0 = weight.clone()
    w = weight.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    opt = torch.optim.Adam([w, b], lr=lr)

    def loss_of():
        logp = F.log_softmax(feats @ w.T + b, dim=1)
        return -(logp.gather(1, near) * wts).sum(1).mean()

    with torch.no_grad():
        start = loss_of().item()
    for _ in range(steps):
        opt.zero_grad()
        ce = loss_of()
        (ce + decay * (w - w0).pow(2).sum()).backward()
        opt.step()
    return w.detach(), b.detach(), start, ce.item()


def main():
    ap = arguments(__doc__)
    ap.add_argument("--decay", type=float, action="append", help="L2 pull towards the trained weight (repeatable: "
                    "one checkpoint each, OUT-dD.pt)")
    args = ap.parse_args()
    state, model = load(args.checkpoint)
    files = photos(args.photos, args.split)
    feats, near, wts = measure(model, files, model.bins, args.grain_filter, args.damaged)
    weight = state["model"]["logits.weight"][:, :, 0, 0]
    bias = state["model"]["logits.bias"]
    decays = args.decay or [1e-3]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    for d in decays:
        w, b, before, after = fit(feats, near, wts, weight, bias, d)
        out = args.out if len(decays) == 1 else f"{os.path.splitext(args.out)[0]}-d{d:g}.pt"
        refitted = dict(state)
        refitted["model"] = {k: v.clone() for k, v in state["model"].items()}
        refitted["model"]["logits.weight"] = w[:, :, None, None].clone()
        refitted["model"]["logits.bias"] = b.clone()
        refitted["refit"] = {"photos": len(files), "split": args.split, "damaged": args.damaged,
                             "grain_filter": args.grain_filter, "decay": d}
        torch.save(refitted, out)
        print(f"{out}: {len(files)} photos, decay {d:g}: cross-entropy {before:.4f} → {after:.4f}, "
              f"weight moved {(w - weight).norm() / weight.norm():.3f} of its norm")


if __name__ == "__main__":
    main()
