"""Writes the fixture that `src/pipeline/grain.rs` is tested against: a grainy synthetic grey
image and OpenCV's `fastNlMeansDenoising` of it (the filter `data.grain_filter` uses), at two
strengths.

    python grain_fixture.py ../tests/fixtures/grain
"""
import os
import sys

import cv2
import numpy as np
from PIL import Image


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:112]
    # Smooth shading, a hard-edged disc and fine stripes, under grain of about 4 grey levels.
    clean = 90 + 60 * np.sin(xx / 17.0) * np.cos(yy / 23.0)
    clean = np.where((xx - 70) ** 2 + (yy - 40) ** 2 < 400, 210, clean)
    clean = np.where((yy > 70) & (xx % 6 < 3), clean + 40, clean)
    grey = np.clip(np.round(clean + rng.normal(0, 4, clean.shape)), 0, 255).astype(np.uint8)
    Image.fromarray(grey).save(os.path.join(out_dir, "input.png"))
    for h in (3, 8):
        Image.fromarray(cv2.fastNlMeansDenoising(grey, None, h=h)).save(os.path.join(out_dir, f"opencv_h{h}.png"))
    print(f"fixture → {out_dir} (OpenCV {cv2.__version__})")


if __name__ == "__main__":
    main(sys.argv[1])
