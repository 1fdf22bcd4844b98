"""Fixtures for the image preprocessing of org.sa2vp.data (ImageTransformsTest, StreamedImagesTest).

Independent reference: Debian python3-torch 1.13 (F.interpolate) and python3-pil 9.4 (Image.resize), the libraries
torchvision's Resize runs on. Writes small .npy / .png files to
sa2vp-layers/src/test/resources/fixtures/images/ (--out DIR overrides). Deterministic (fixed seeds).

  /usr/bin/python3 tools/reference/make_image_fixtures.py
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def center_crop(x, h, w):
    """torchvision CenterCrop: top = int(round((H - h) / 2.0)) (Python round: half to even)."""
    top = int(round((x.shape[-2] - h) / 2.0))
    left = int(round((x.shape[-1] - w) / 2.0))
    return x[..., top:top + h, left:left + w]


def shorter_side(h, w, size):
    """torchvision Resize(int) output size: shorter side = size, longer = int(size * long / short)."""
    return (size, int(size * w / h)) if h <= w else (int(size * h / w), size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="sa2vp-layers/src/test/resources/fixtures/images")
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    save = lambda name, a: np.save(os.path.join(out, name + ".npy"), np.ascontiguousarray(a, dtype="<f4"))

    # 1. Resampling of a float image, PyTorch bilinear with and without antialiasing.
    torch.manual_seed(0)
    x = torch.rand(1, 3, 7, 9, dtype=torch.float64)
    save("resize_input", x.numpy())
    for name, size in {"down": (3, 4), "up": (11, 13), "mixed": (5, 12)}.items():
        for aa in (True, False):
            y = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=aa)
            save(f"resize_{name}_{'aa' if aa else 'plain'}", y.numpy())

    # 2. A 13x10 (H x W) RGB PNG through the authors' two pipelines, scaled down to test sizes:
    #    vtab1k: Resize((8, 6)) -> ToTensor -> Normalize(0.5, 0.5)
    #    fgvc eval: Resize(6) (shorter side) -> CenterCrop(5) -> ToTensor -> Normalize(0.5, 0.5)
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(13, 10, 3), dtype=np.uint8)
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "photo.png"))
    chw = torch.from_numpy(rgb.astype(np.float64) / 255).permute(2, 0, 1).unsqueeze(0)
    stretch = F.interpolate(chw, size=(8, 6), mode="bilinear", align_corners=False, antialias=True)
    save("photo_vtab_torch", (stretch.numpy() - 0.5) / 0.5)
    pil = np.asarray(Image.fromarray(rgb, "RGB").resize((6, 8), Image.BILINEAR), dtype=np.float64) / 255
    save("photo_vtab_pil", (pil.transpose(2, 0, 1)[None] - 0.5) / 0.5)
    h, w = shorter_side(13, 10, 6)
    fg = center_crop(F.interpolate(chw, size=(h, w), mode="bilinear", align_corners=False, antialias=True), 5, 5)
    save("photo_fgvc_eval_torch", (fg.numpy() - 0.5) / 0.5)
    pil = np.asarray(Image.fromarray(rgb, "RGB").resize((w, h), Image.BILINEAR), dtype=np.float64) / 255
    save("photo_fgvc_eval_pil", (center_crop(pil.transpose(2, 0, 1)[None], 5, 5) - 0.5) / 0.5)
    # The same photo as grey: Pillow's convert("L") (ITU-R BT.601, rounded to 8 bits).
    save("photo_grey_pil", np.asarray(Image.fromarray(rgb, "RGB").convert("L"), dtype=np.float64)[None, None] / 255)


if __name__ == "__main__":
    main()
