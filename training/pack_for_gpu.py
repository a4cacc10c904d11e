"""Packs what a GPU training run needs and the repository doesn't hold — the training photos and
the pretrained encoder — into two ignored folders at the repository root, each small enough to
travel beside the working tree to a GPU machine (64 MiB a call): .gpu/a (the encoder and some
photos) and .gpu/b (the other photos). Photos are re-encoded as WebP, quality 85 (2.6× smaller
than the originals); gpu_run.sh trains on the two halves together.

    python pack_for_gpu.py            # from training/, with the training requirements installed
"""
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

import data
from train import pretrained_path

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".gpu")
B_BYTES = 33 * 2**20  # .gpu/a also carries the 18 MB encoder


def pack(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    Image.open(src).convert("RGB").save(dst, "WEBP", quality=85)
    return os.path.getsize(dst)


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(os.path.join(ROOT, "a"))
    shutil.copy(pretrained_path(), os.path.join(ROOT, "a", "efficientnet-lite0.pth"))
    files = data.list_images(data.TRAIN_DIRS + data.VAL_DIRS)
    rel = [os.path.splitext(os.path.relpath(f, data.DATA))[0] + ".webp" for f in files]
    staged = [os.path.join(ROOT, "staging", r) for r in rel]
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        sizes = list(pool.map(pack, files, staged))
    total = {"a": 0, "b": 0}
    for r, path, size in zip(rel, staged, sizes):
        half = "b" if total["b"] + size <= B_BYTES else "a"
        total[half] += size
        dst = os.path.join(ROOT, half, r)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.replace(path, dst)
    shutil.rmtree(os.path.join(ROOT, "staging"))
    print(f"{len(files)} photos: .gpu/a {total['a'] / 2**20:.1f} MiB + encoder, .gpu/b {total['b'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
