#!/usr/bin/env python3
"""Writes the bundled Fashion-MNIST sample: the first 4,000 training and 5,000 test images of the published
IDX files (Debian package dataset-fashion-mnist, MIT licence), as gzipped IDX files with the header's count
changed, nothing else. Deterministic (gzip mtime 0), so the SHA-256s in docs/DATA.md reproduce.

usage: make_fashion_mnist_sample.py [SOURCE_DIR] [OUT_DIR]
"""
import gzip
import hashlib
import struct
import sys
from pathlib import Path

SOURCE = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist")
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else
           "sa2vp-zoo/src/main/resources/org/sa2vp/zoo/fashion-mnist-sample")
COUNTS = {"train": 4000, "t10k": 5000}


def sample(name, count, images):
    raw = gzip.open(SOURCE / name, "rb").read()
    header = 16 if images else 8
    size = 28 * 28 if images else 1
    assert struct.unpack(">I", raw[4:8])[0] >= count
    body = raw[header:header + count * size]
    return gzip.compress(raw[:4] + struct.pack(">I", count) + raw[8:header] + body, 9, mtime=0)


OUT.mkdir(parents=True, exist_ok=True)
for prefix, count in COUNTS.items():
    for kind, images in (("images-idx3", True), ("labels-idx1", False)):
        name = f"{prefix}-{kind}-ubyte.gz"
        data = sample(name, count, images)
        (OUT / name).write_bytes(data)
        print(name, len(data), hashlib.sha256(data).hexdigest())
