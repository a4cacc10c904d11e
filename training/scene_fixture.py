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

from export import branch_fixture, branch_model

STRENGTH = 0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shipped")
    ap.add_argument("fixture_out")
    args = ap.parse_args()
    shipped, model = branch_model(args.shipped, scene=True)
    torch.manual_seed(0)
    with torch.no_grad():
        model.scene.weight.normal_(0, 0.5)
        model.scene.bias.normal_(0, 1.0)
    model.scene_strength = STRENGTH
    added = {k: v for k, v in model.state_dict().items() if k.startswith("scene.")}
    moved = branch_fixture(model, shipped, added, lambda m: setattr(m, "scene_strength", 0.0), args.fixture_out)
    print(f"{len(added)} added tensors → {args.fixture_out}; the steering moves the output by up to {moved:.3f}")


if __name__ == "__main__":
    main()
