"""Writes the parity fixture for the scene palette (model.CompactColorizer(scene=True)): the
shipped file's weights with a seeded random scene layer added (a fitted one comes from
`scene_prior.py --head-out`, half an hour on the CPU; any layer tests the arithmetic) and the
outputs the training code computes when it steers the logits toward the layer's palette at
strength 0.5. Only the added tensors are stored; tests/compact.rs adds them to the shipped
file, with the strength in its metadata.

    python scene_fixture.py ../models/compact.safetensors ../tests/fixtures/compact/scene.safetensors
"""
import argparse

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from export import grey_input
from model import CompactColorizer

STRENGTH = 0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shipped")
    ap.add_argument("fixture_out")
    args = ap.parse_args()
    with safe_open(args.shipped, "pt") as f:
        temperature = float(f.metadata()["tintype.temperature"])
        shipped = {k: f.get_tensor(k).float() for k in f.keys()}
    model = CompactColorizer(shipped["bins"], spectral=False, temperature=temperature, scene=True)
    torch.manual_seed(0)
    with torch.no_grad():
        model.scene.weight.normal_(0, 0.5)
        model.scene.bias.normal_(0, 1.0)
    # Stored as export.py stores them: the matrix in f16, the bias in f32.
    added = {"scene.weight": model.scene.weight.detach().half().clone(),
             "scene.bias": model.scene.bias.detach().float().clone()}
    missing = model.load_state_dict({**shipped, **{k: v.float() for k, v in added.items()}}, strict=False).missing_keys
    assert all(k.endswith("num_batches_tracked") for k in missing), missing
    model.eval()

    fixture = dict(added)
    with torch.no_grad():
        for size in (64, 80):
            x = grey_input(size, seed=size)
            fixture[f"input_s{size}"] = x
            model.scene_strength = STRENGTH
            fixture[f"output_s{size}"] = model.colorize(x)
        # How much the steering moves the output, so the test is known to exercise it.
        model.scene_strength = 0.0
        moved = (model.colorize(fixture["input_s64"]) - fixture["output_s64"]).abs().max().item()
    save_file(fixture, args.fixture_out)
    print(f"{len(added)} added tensors → {args.fixture_out}; the steering moves the output by up to {moved:.3f}")


if __name__ == "__main__":
    main()
