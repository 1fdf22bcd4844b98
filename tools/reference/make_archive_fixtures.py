"""Fixtures for org.sa2vp.io (RestrictedUnpicklerTest, MatFileTest) and org.sa2vp.data.TorchvisionArchives.

Independent reference: CPython's pickle module, NumPy and SciPy's scipy.io (made with Python 3.11.7, NumPy 2.4.6, SciPy
1.17.1: the machine's pyenv Python; Debian's /usr/bin/python3 has no SciPy).
Writes small files to sa2vp-layers/src/test/resources/fixtures/archives/ (--out DIR overrides):

- values-protocol{0..5}.pkl and values.json: one structure of every Python value a data pickle holds, pickled at each
  protocol, and the same structure in a tagged JSON form the Java test rebuilds from what it read.
- arrays-protocol{2,4,5}.pkl and arrays.json: NumPy arrays (uint8, little and big-endian, bool, Fortran order).
- refused.pkl: a pickle whose loading would call os.system (the test checks it is refused, never run).
- cifar-10-batches-py/: CIFAR-10's files in the original archive's form, a Python 2 pickle (str keys and raw bytes as
  SHORT_BINSTRING/BINSTRING, as cPickle wrote them): 5 training batches of 10 images and a test batch of 10.
- cifar-100-python/: CIFAR-100's files as Python 3 re-pickles them: train at protocol 2 with bytes keys, test and meta
  at protocol 4 (test labels as an int64 array): 10 training and 5 test images.
- svhn/: SVHN's train_32x32.mat (compressed) and test_32x32.mat (not compressed) written by scipy.io.savemat, X uint8
  [32, 32, 3, N], y double [N, 1] with 10 for the digit 0: 10 training and 5 test images.
- narrow.mat: a MAT-file written here byte by byte from the format's description, as MATLAB writes small values (a
  double matrix stored as uint8, a name in a small element); scipy.io.loadmat reads it back before it is kept.
- archives.json: per archive and split, the image count, every label, the class names and sample pixels, from
  NumPy's view of the same data.

Deterministic (fixed seeds). Run from the repository root:

  python3 tools/reference/make_archive_fixtures.py
"""
import argparse
import io
import json
import math
import os
import pickle
import pickletools
import struct

import numpy as np
import scipy.io


class Python2Pickler(pickle._Pickler):
    """Protocol 2 as Python 2's cPickle wrote it: str and bytes both as Python 2 strings (SHORT_BINSTRING, BINSTRING)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_python2_string(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_python2_string
    dispatch[bytes] = save_python2_string

    def save_global(self, obj, name=None):
        # NumPy 2 names its pickling helpers numpy._core.*; Python 2's NumPy wrote numpy.core.*, as the archive has.
        module = pickle.whichmodule(obj, name or obj.__qualname__).replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name or obj.__qualname__}\n".encode("ascii"))
        self.memoize(obj)


def python2_pickle(value):
    out = io.BytesIO()
    Python2Pickler(out, protocol=2).dump(value)
    data = out.getvalue()
    names = [op.name for op, arg, _ in pickletools.genops(data)]
    assert "SHORT_BINSTRING" in names and "BINUNICODE" not in names
    assert b"numpy.core.multiarray\n_reconstruct" in data or b"ndarray" not in data
    return data


def tagged(value):
    """The JSON form the Java test builds from what it read."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": value.hex()}
    if isinstance(value, tuple):
        return {"tuple": [tagged(v) for v in value]}
    if isinstance(value, list):
        return [tagged(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"set": sorted((tagged(v) for v in value), key=json.dumps)}
    if isinstance(value, dict):
        return {"dict": [[tagged(k), tagged(v)] for k, v in value.items()]}
    raise TypeError(type(value))


class CallsSystem:
    def __reduce__(self):
        return os.system, ("echo this must never run",)


def svhn_like(rng, n):
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    digits = np.arange(n) % 10
    y = np.where(digits == 0, 10, digits).astype(np.float64).reshape(n, 1)
    return x, y


def narrow_mat():
    """A level 5 MAT-file with 'y' = [[1], [10], [3]] (double) stored as miUINT8, as MATLAB stores small integers."""
    header = b"MATLAB 5.0 MAT-file, written by make_archive_fixtures.py".ljust(116, b" ")
    header += b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"

    def element(mi_type, data):
        padded = data + b"\0" * ((8 - len(data) % 8) % 8)
        return struct.pack("<II", mi_type, len(data)) + padded

    flags = element(6, struct.pack("<II", 6, 0))             # miUINT32: class mxDOUBLE (6), no flag bits
    dims = element(5, struct.pack("<ii", 3, 1))              # miINT32: 3 x 1
    name = struct.pack("<HH", 1, 1) + b"y\0\0\0"              # small element: miINT8 (1), 1 byte, "y"
    real = element(2, bytes([1, 10, 3]))                     # miUINT8 values 1, 10, 3
    body = flags + dims + name + real
    return header + struct.pack("<II", 14, len(body)) + body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="sa2vp-layers/src/test/resources/fixtures/archives")
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)

    def write(name, data):
        path = os.path.join(out, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    # 1. Values of every kind, each protocol.
    shared = [1, 2]
    values = {
        "none": None, "true": True, "false": False,
        "ints": [0, 1, -1, 255, 256, 65535, 65536, -129, 2 ** 31 - 1, -2 ** 31, 2 ** 31, 2 ** 63 - 1, -2 ** 63,
                 2 ** 64, -2 ** 70],
        "floats": [0.0, -0.0, 1.5, -2.25e-300, 1e308, math.inf, -math.inf],
        "text": ["", "ascii", "Grüße ✓ \U0001F600", "line\nbreak \\u0041"],
        "bytes": [b"", b"\x00\xff\n'\"\\", bytearray(b"mutable")],
        "tuples": [(), (1,), (1, "two"), (1, 2, 3), (1, 2, 3, 4, 5)],
        "nested": [[], [[1], {"a": (None,)}]],
        7: "int key", (1, 2): "tuple key", b"raw": "bytes key",
        "sets": [{3, 1, 2}, frozenset({"x"})],
        "shared": [shared, shared],
    }
    for protocol in range(6):
        data = pickle.dumps(values, protocol=protocol)
        assert pickle.loads(data) == values
        write(f"values-protocol{protocol}.pkl", data)
    write("values.json", (json.dumps(tagged(values), indent=1, ensure_ascii=False) + "\n").encode("utf-8"))

    # 2. NumPy arrays.
    arrays = {
        "uint8": np.arange(12, dtype=np.uint8).reshape(3, 4),
        "int64": np.array([-3, 0, 2 ** 40], dtype="<i8"),
        "big_endian_int32": np.array([1, -2, 70000], dtype=">i4"),
        "uint16": np.array([[65535, 1]], dtype="<u2"),
        "bool": np.array([True, False, True]),
        "fortran_int16": np.asfortranarray(np.arange(6, dtype="<i2").reshape(2, 3)),
        "scalar_shape": np.array(5, dtype=np.int8),
    }
    for protocol in (2, 4, 5):
        data = pickle.dumps(arrays, protocol=protocol)
        loaded = pickle.loads(data)
        assert all(np.array_equal(loaded[k], v) for k, v in arrays.items())
        write(f"arrays-protocol{protocol}.pkl", data)
    fortran = {k: bool(v.flags.f_contiguous and not v.flags.c_contiguous) for k, v in arrays.items()}  # as pickled
    described = {k: {"dtype": v.dtype.str, "shape": list(v.shape), "fortran": fortran[k],
                     "stored": [int(e) for e in v.ravel(order="F" if fortran[k] else "C")]}
                 for k, v in arrays.items()}
    write("arrays.json", (json.dumps(described, indent=1) + "\n").encode())

    # 3. A pickle that would run a command.
    write("refused.pkl", pickle.dumps({"ok": 1, "payload": CallsSystem()}, protocol=2))

    summary = {}

    def describe(name, images_chw, labels, class_names, split_from, split_to):
        """images_chw: uint8 [N, C, H, W] of the whole official set; the split is images [split_from, split_to)."""
        part = images_chw[split_from:split_to]
        samples = []
        for i in sorted({0, len(part) - 1}):
            for (c, h, w) in [(0, 0, 0), (1, 5, 27), (2, 31, 3), (2, 17, 30)]:
                samples.append([i, c, h, w, int(part[i, c, h, w])])
        summary[name] = {"size": len(part), "labels": [int(v) for v in labels[split_from:split_to]],
                         "classNames": class_names, "samples": samples}

    # 4. CIFAR-10, the original Python 2 form.
    rng = np.random.default_rng(10)
    cifar10_names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    train_images, train_labels = [], []
    for b in range(1, 6):
        data = rng.integers(0, 256, size=(10, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.permutation(10)]
        if b == 4:
            nine = labels.index(9)  # the last training image (index 39) is made class 9
            labels[nine], labels[-1] = labels[-1], labels[nine]
        batch = {"batch_label": f"training batch {b} of 5", "labels": labels, "data": data,
                 "filenames": [f"image_{b}_{i}.png" for i in range(10)]}
        write(f"cifar-10-batches-py/data_batch_{b}", python2_pickle(batch))
        train_images.append(data)
        train_labels += labels
    test_data = rng.integers(0, 256, size=(10, 3072), dtype=np.uint8)
    test_labels = [int(v) for v in rng.permutation(10)]
    write("cifar-10-batches-py/test_batch", python2_pickle({"batch_label": "testing batch 1 of 1", "labels": test_labels,
                                                            "data": test_data,
                                                            "filenames": [f"t{i}.png" for i in range(10)]}))
    write("cifar-10-batches-py/batches.meta", python2_pickle({"num_cases_per_batch": 10, "label_names": cifar10_names,
                                                              "num_vis": 3072}))
    with open(os.path.join(out, "cifar-10-batches-py/data_batch_1"), "rb") as f:
        assert pickle.load(f, encoding="latin1")["labels"] == train_labels[:10]
    all_train = np.concatenate(train_images).reshape(-1, 3, 32, 32)
    describe("cifar-10/train", all_train, train_labels, cifar10_names, 0, 40)
    describe("cifar-10/val", all_train, train_labels, cifar10_names, 40, 50)
    describe("cifar-10/test", test_data.reshape(-1, 3, 32, 32), test_labels, cifar10_names, 0, 10)

    # 5. CIFAR-100, as Python 3 re-pickles it.
    rng = np.random.default_rng(100)
    fine_names = [f"class_{i:02d}" for i in range(100)]
    data = rng.integers(0, 256, size=(10, 3072), dtype=np.uint8)
    fine = [int(v) for v in rng.integers(0, 100, size=10)]
    fine[7] = 99  # the last training image (index int(0.8 * 10) - 1)
    train = {b"filenames": [b"f%d.png" % i for i in range(10)], b"batch_label": b"training batch 1 of 1",
             b"fine_labels": fine, b"coarse_labels": [v // 5 for v in fine], b"data": data}
    write("cifar-100-python/train", pickle.dumps(train, protocol=2))
    test_data = rng.integers(0, 256, size=(5, 3072), dtype=np.uint8)
    test_fine = rng.integers(0, 100, size=5).astype(np.int64)
    write("cifar-100-python/test", pickle.dumps({"fine_labels": test_fine, "data": test_data,
                                                 "coarse_labels": list(range(5))}, protocol=4))
    write("cifar-100-python/meta", pickle.dumps({"fine_label_names": fine_names,
                                                 "coarse_label_names": [f"super_{i}" for i in range(20)]}, protocol=4))
    describe("cifar-100/train", data.reshape(-1, 3, 32, 32), fine, fine_names, 0, 8)
    describe("cifar-100/val", data.reshape(-1, 3, 32, 32), fine, fine_names, 8, 10)
    describe("cifar-100/test", test_data.reshape(-1, 3, 32, 32), [int(v) for v in test_fine], fine_names, 0, 5)

    # 6. SVHN through scipy.io.savemat.
    rng = np.random.default_rng(7)
    digits = [str(d) for d in range(10)]
    for split, n, compress in (("train", 10, True), ("test", 5, False)):
        x, y = svhn_like(rng, n)
        if split == "train":
            y[7, 0] = 9  # the last training image (index int(0.8 * 10) - 1) is the digit 9
        path = os.path.join(out, "svhn", f"{split}_32x32.mat")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        scipy.io.savemat(path, {"X": x, "y": y}, do_compression=compress, format="5")
        with open(path, "r+b") as f:  # SciPy's header text carries the date; a fixed one keeps reruns identical
            f.write(b"MATLAB 5.0 MAT-file, written by scipy.io.savemat".ljust(116, b" "))
        back = scipy.io.loadmat(path)
        assert np.array_equal(back["X"], x) and np.array_equal(back["y"], y)
        chw = x.transpose(3, 2, 0, 1)  # [N, C, H, W]
        labels = [int(v) % 10 for v in y[:, 0]]
        if split == "train":
            describe("svhn/train", chw, labels, digits, 0, 8)
            describe("svhn/val", chw, labels, digits, 8, 10)
        else:
            describe("svhn/test", chw, labels, digits, 0, 5)

    # 7. A MAT-file with MATLAB's narrow storage, checked by SciPy.
    write("narrow.mat", narrow_mat())
    narrow = scipy.io.loadmat(os.path.join(out, "narrow.mat"), mat_dtype=True)  # the class (double), not the storage
    assert narrow["y"].dtype == np.float64 and narrow["y"].ravel().tolist() == [1.0, 10.0, 3.0]

    write("archives.json", (json.dumps(summary, indent=1) + "\n").encode())


if __name__ == "__main__":
    main()
