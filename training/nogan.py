"""A short NoGAN-style critic phase (DeOldify's recipe, shrunk): first a critic learns to tell
real chroma from the trained colorizer's, with the colorizer fixed; then a brief adversarial
phase fine-tunes the colorizer on its usual loss plus the critic's verdict. The critic is what
gave DeOldify its colourful, not-all-brown look; here it is tried on top of a finished run.

    python nogan.py --init runs/gpu-cpuft-frozen-seed0/ckpt.pt --out runs/nogan-seed0 \
        --critic-minutes 5 --gan-minutes 20

The critic sees what the pipeline would make of the output: the grey input and the decoded
chroma (annealed mean at --temperature, U and V at 1/2 scale), beside the true chroma of the
same crops. Its loss is the hinge loss; the colorizer's is the class-rebalanced cross-entropy
of train.py plus --gan-weight × the critic's hinge generator loss. BatchNorm stays frozen (the
CPU's batch is too small for its statistics). Seeded; logs to <out>/log.csv; the checkpoint
(<out>/ckpt.pt, every few minutes and at the end) is what export.py reads.
"""
import argparse
import csv
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import data
from model import CompactColorizer, has_context
from train import atomic_save, evaluate, param_groups, rebalanced_loss, train_mode


class Critic(nn.Module):
    """A patch critic on (grey, U, V), spectral-normalised like DeOldify's. It sees them at 1/8
    scale, where the truth's chroma is about as smooth as the annealed mean's: judged any finer,
    the critic would learn to tell them apart by sharpness and teach the colorizer to add chroma
    noise, rather than judge the colours."""

    def __init__(self, width=64):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(3, width, 4, 2, 1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(2 * width, 4 * width, 3, 1, 1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(4 * width, 4 * width, 3, 1, 1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(4 * width, 1, 3, 1, 1)),
        )

    def forward(self, grey_half, uv):
        """grey_half in 0..1, (B, 1, h, w); uv in 8-bit units centred on 0, (B, 2, h, w), both at
        the chroma's 1/2 scale → scores at 1/32 (7 × 7 for a 224 px crop)."""
        return self.net(F.avg_pool2d(torch.cat([grey_half * 2 - 1, uv / 64.0], 1), 4))


def grey_half(x):
    """The model input (ImageNet-normalised grey) → grey 0..1 at 1/2 scale."""
    return F.avg_pool2d(data.grey_of(x), 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True, help="the trained colorizer's checkpoint")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--critic-minutes", type=float, default=5)
    ap.add_argument("--gan-minutes", type=float, default=20)
    ap.add_argument("--lr", type=float, default=5e-5, help="the colorizer's decoder (its encoder gets a fifth)")
    ap.add_argument("--critic-lr", type=float, default=2e-4)
    ap.add_argument("--gan-weight", type=float, default=0.3)
    ap.add_argument("--temperature", type=float, default=0.5, help="the annealed mean the critic judges")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    train_images = data.load_all(data.list_images(data.TRAIN_DIRS))
    val_images = data.load_all(data.list_images(data.VAL_DIRS))
    init = torch.load(args.init, map_location="cpu", weights_only=False)
    bins, prob = init["bins"], init["prob"]
    weights = data.rebalance_weights(bins, prob)
    model = CompactColorizer(bins, temperature=args.temperature, context=has_context(init["model"]))
    model.load_state_dict(init["model"])
    critic = Critic()
    opt_g = torch.optim.AdamW(param_groups(model, args.lr), betas=(0.5, 0.99), weight_decay=1e-4)
    opt_d = torch.optim.Adam(critic.parameters(), lr=args.critic_lr, betas=(0.5, 0.99))
    log = csv.writer(open(os.path.join(args.out, "log.csv"), "a", newline=""))
    step, spent = 0, 0.0

    def critic_step(x, uv_true, uv_fake):
        g = grey_half(x)
        real, fake = critic(g, uv_true - 128.0), critic(g, uv_fake.detach())
        loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss.item(), (real > 0).float().mean().item(), (fake < 0).float().mean().item()

    def save():
        atomic_save({"model": model.state_dict(), "critic": critic.state_dict(), "bins": bins, "prob": prob,
                     "step": init["step"] + step, "args": vars(args)}, os.path.join(args.out, "ckpt.pt"))

    # 1. The critic alone, against the fixed colorizer.
    model.eval()
    stats = []
    while spent < args.critic_minutes * 60:
        t0 = time.time()
        x, uv = data.batch(train_images, args.size, args.batch, rng)
        with torch.no_grad():
            fake = model.chroma(model(x))
        stats.append(critic_step(x, uv, fake))
        step += 1
        spent += time.time() - t0
        if step % 20 == 0:
            d, acc_r, acc_f = np.mean(stats[-20:], 0)
            log.writerow([f"{spent:.1f}", "critic", step, f"{d:.4f}", f"{acc_r:.3f}", f"{acc_f:.3f}", ""])
            print(f"{spent / 60:6.1f} min  critic  step {step:5d}  loss {d:.3f}  real {acc_r:.2f}  fake {acc_f:.2f}", flush=True)

    # 2. Both: the colorizer on its loss plus the critic's, the critic keeping up.
    train_mode(model, freeze_bn=True)
    gan_start, last_ckpt = spent, time.time()
    stats = []
    while spent < (args.critic_minutes + args.gan_minutes) * 60:
        t0 = time.time()
        x, uv = data.batch(train_images, args.size, args.batch, rng)
        logits = model(x)
        fake = model.chroma(logits)
        ce = rebalanced_loss(logits, uv, bins, weights)
        adv = -critic(grey_half(x), fake).mean()
        opt_g.zero_grad()
        (ce + args.gan_weight * adv).backward()
        opt_g.step()
        d = critic_step(x, uv, fake)
        stats.append((ce.item(), adv.item()) + d)
        step += 1
        spent += time.time() - t0
        if step % 20 == 0:
            ce_m, adv_m, d_m, acc_r, acc_f = np.mean(stats[-20:], 0)
            log.writerow([f"{spent:.1f}", "gan", step, f"{d_m:.4f}", f"{acc_r:.3f}", f"{acc_f:.3f}", f"{ce_m:.4f}/{adv_m:.3f}"])
            print(f"{spent / 60:6.1f} min  gan  step {step:5d}  ce {ce_m:.3f}  adv {adv_m:.3f}  critic {d_m:.3f} "
                  f"real {acc_r:.2f} fake {acc_f:.2f}", flush=True)
        if time.time() - last_ckpt > 180:
            save()
            last_ckpt = time.time()
    val = evaluate(model, val_images, bins, weights, freeze_bn=True)
    print(f"done after {(spent - gan_start) / 60:.1f} min of GAN: val loss {val[0]:.4f}, mean chroma predicted "
          f"{val[1]:.1f} vs true {val[2]:.1f}", flush=True)
    save()


if __name__ == "__main__":
    main()
