"""Builds the committed mini-VTAB source files from the extracted Debian and npm packages.

Copied unchanged: UCI optdigits (digits.csv.gz, python3-sklearn), OpenCV digits.png (opencv-doc),
skimage brick/grass/gravel textures (python3-skimage).
Derived (this script, deterministic for a given Pillow version):
  * texture-stars.png, texture-retina.png: 512x512 grey centre crops of skimage's Hubble deep field
    (NASA, public domain) and retina (CC0) photographs, so the texture task has five classes;
  * twemoji-32.png + twemoji-32.tsv: every base Twemoji (no skin-tone variants, no 'Component'
    category) alpha-composited onto white, box-downscaled 64 -> 32 px, tiled 64 per row in
    (category, sort_order) order, stored as a 256-colour palette PNG; the TSV gives each tile's category.

Run through tools/data/fetch_sources.sh, which downloads and extracts the packages first.
"""
import argparse
import json
import shutil
from pathlib import Path

from PIL import Image

SKLEARN_DIGITS = "usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
OPENCV_DIGITS = "usr/share/doc/opencv-doc/examples/data/digits.png"
SKIMAGE_DATA = "usr/lib/python3/dist-packages/skimage/data"

# Category order of the sheet = class index order of the twemoji task.
EMOJI_CATEGORIES = ["Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink",
                    "Travel & Places", "Activities", "Objects", "Symbols", "Flags"]
TILE = 32
TILES_PER_ROW = 64
TEXTURE_SIZE = 512


def centre_square(image, side):
    left = (image.width - side) // 2
    top = (image.height - side) // 2
    return image.crop((left, top, left + side, top + side))


def grey_texture(source, side, out):
    image = Image.open(source).convert("L")
    texture = centre_square(image, side).resize((TEXTURE_SIZE, TEXTURE_SIZE), Image.LANCZOS)
    texture.info = {}  # no colour profile: readers take the samples as they are
    texture.save(out, optimize=True)


def twemoji_sheet(package, out_png, out_tsv):
    entries = json.loads((package / "emoji.json").read_text(encoding="utf-8"))
    chosen = [e for e in entries if e.get("has_img_twitter") and e["category"] in EMOJI_CATEGORIES]
    chosen.sort(key=lambda e: (EMOJI_CATEGORIES.index(e["category"]), e["sort_order"], e["unified"]))
    rows = (len(chosen) + TILES_PER_ROW - 1) // TILES_PER_ROW
    sheet = Image.new("RGB", (TILES_PER_ROW * TILE, rows * TILE), (255, 255, 255))
    lines = ["# tile\tcategory\tsubcategory\tunified\tshort_name"]
    for i, entry in enumerate(chosen):
        rgba = Image.open(package / "img/twitter/64" / entry["image"]).convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        tile = Image.alpha_composite(white, rgba).convert("RGB").resize((TILE, TILE), Image.BOX)
        sheet.paste(tile, ((i % TILES_PER_ROW) * TILE, (i // TILES_PER_ROW) * TILE))
        lines.append(f"{i}\t{entry['category']}\t{entry['subcategory']}\t{entry['unified']}\t{entry['short_name']}")
    # A 256-colour palette (median cut, no dithering) keeps the sheet near 0.5 MB instead of 1.8 MB; the mean
    # absolute error per channel is about 2 of 255.
    sheet.quantize(256, method=Image.MEDIANCUT, dither=Image.NONE).save(out_png, optimize=True)
    out_tsv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(chosen)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system-root", type=Path, required=True, help="folder the .deb files were extracted into")
    parser.add_argument("--emoji-package", type=Path, required=True, help="extracted npm emoji-datasource-twitter")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    skimage = args.system_root / SKIMAGE_DATA

    shutil.copyfile(args.system_root / SKLEARN_DIGITS, args.out / "optdigits.csv.gz")
    shutil.copyfile(args.system_root / OPENCV_DIGITS, args.out / "opencv-digits.png")
    for name in ["brick", "grass", "gravel"]:
        shutil.copyfile(skimage / f"{name}.png", args.out / f"texture-{name}.png")
    grey_texture(skimage / "hubble_deep_field.jpg", 872, args.out / "texture-stars.png")
    grey_texture(skimage / "retina.jpg", 880, args.out / "texture-retina.png")
    count = twemoji_sheet(args.emoji_package, args.out / "twemoji-32.png", args.out / "twemoji-32.tsv")
    print(f"wrote {args.out} ({count} emoji tiles)")


if __name__ == "__main__":
    main()
