"""Writes the parity fixture for the global context (model.CompactColorizer(context=True)):
the shipped file's weights with the context's tensors added — the ImageNet classifier's last
conv and BatchNorm from the pretrained file, and a seeded random linear map (a trained one
starts at zero, which would test nothing) — and the outputs the training code computes. Only
the added tensors are stored; tests/compact.rs adds them to the shipped file.

    python context_fixture.py ../models/compact.safetensors ../tests/fixtures/compact/context.safetensors
"""
import argparse

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from export import grey_input
from model import CompactColorizer, load_pretrained_encoder
from train import pretrained_path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shipped")
    ap.add_argument("fixture_out")
    args = ap.parse_args()
    with safe_open(args.shipped, "pt") as f:
        temperature = float(f.metadata()["tintype.temperature"])
        shipped = {k: f.get_tensor(k).float() for k in f.keys()}
    model = CompactColorizer(shipped["bins"], spectral=False, temperature=temperature, context=True)
    load_pretrained_encoder(model, pretrained_path())  # the shipped encoder replaces all but the context's
    torch.manual_seed(0)
    with torch.no_grad():
        model.context.weight.normal_(0, 0.05)
        model.context.bias.normal_(0, 0.05)
    added = {k: v for k, v in model.state_dict().items()
             if k.startswith(("encoder._conv_head", "encoder._bn1", "context.")) and not k.endswith("num_batches_tracked")}
    # Stored as export.py stores them: matrices in f16, the rest in f32.
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
        # How much the context moves the output, so the test is known to exercise it.
        model.context.weight.zero_()
        model.context.bias.zero_()
        moved = (model.colorize(fixture["input_s64"]) - fixture["output_s64"]).abs().max().item()
    save_file(fixture, args.fixture_out)
    print(f"{len(added)} added tensors → {args.fixture_out}; the context moves the output by up to {moved:.3f}")


if __name__ == "__main__":
    main()
