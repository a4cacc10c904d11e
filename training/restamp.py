"""Changes what an exported compact model asks of the app — the grain filter's strength, the
mirror average and the input's shape — in the file itself, without its checkpoint. The tensors
are copied unchanged, so the parity fixture written beside the file still holds (it is one pass
of the network, on an unfiltered input).

    python restamp.py ../models/compact.safetensors --mirror-average 1 [--grain-filter 3] [--input-shape photo]
"""
import argparse
import os

from safetensors import safe_open
from safetensors.torch import save_file

from export import FORMAT


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--grain-filter", type=float, help="h: non-local means on the app's model input (0: off)")
    ap.add_argument("--mirror-average", type=int, choices=(0, 1), help="1: average the photo's and its mirror's chroma")
    ap.add_argument("--input-shape", choices=("photo", "square"), help="photo: the network sees each photo in its "
                    "own shape; square: stretched to the render square, as DeOldify does")
    args = ap.parse_args()
    with safe_open(args.file, "pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if meta.get("tintype.format") != FORMAT:
        raise SystemExit(f"{args.file}: not a compact model written by export.py")
    if args.grain_filter is not None:
        meta["tintype.grain_filter"] = str(args.grain_filter)
    if args.mirror_average is not None:
        meta["tintype.mirror_average"] = str(args.mirror_average)
    if args.input_shape == "photo":
        meta["tintype.input_shape"] = "photo"
    elif args.input_shape == "square":
        meta.pop("tintype.input_shape", None)
    tmp = args.file + ".tmp"
    save_file(tensors, tmp, metadata=meta)
    os.replace(tmp, args.file)
    print(f"{args.file}: {', '.join(f'{k}={v}' for k, v in sorted(meta.items()) if k != 'tintype.format')}")


if __name__ == "__main__":
    main()
