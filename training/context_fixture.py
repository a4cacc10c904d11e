"""Writes the parity fixture for the global context (model.CompactColorizer(context=True)):
the shipped file's weights with the context's tensors added — the ImageNet classifier's last
conv and BatchNorm from the pretrained file, and a seeded random linear map (a trained one
starts at zero, which would test nothing) — and the outputs the training code computes. Only
the added tensors are stored; tests/compact.rs adds them to the shipped file.

    python context_fixture.py ../models/compact.safetensors ../tests/fixtures/compact/context.safetensors
"""
import argparse

import torch

from export import branch_fixture, branch_model
from model import load_pretrained_encoder
from train import pretrained_path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shipped")
    ap.add_argument("fixture_out")
    args = ap.parse_args()
    shipped, model = branch_model(args.shipped, context=True)
    load_pretrained_encoder(model, pretrained_path())  # the shipped encoder replaces all but the context's
    torch.manual_seed(0)
    with torch.no_grad():
        model.context.weight.normal_(0, 0.05)
        model.context.bias.normal_(0, 0.05)
    added = {k: v for k, v in model.state_dict().items()
             if k.startswith(("encoder._conv_head", "encoder._bn1", "context.")) and not k.endswith("num_batches_tracked")}
    moved = branch_fixture(model, shipped, added, lambda m: (m.context.weight.zero_(), m.context.bias.zero_()),
                           args.fixture_out)
    print(f"{len(added)} added tensors → {args.fixture_out}; the context moves the output by up to {moved:.3f}")


if __name__ == "__main__":
    main()
