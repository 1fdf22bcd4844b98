"""Byte-exact, deterministic writers and readers of the fixture formats, shared by the fixture generators.

npz: numpy.savez's layout (one <key>.npy per array, zip64 extra fields) with a fixed timestamp, so regenerating
gives identical bytes. safetensors: the reference library's layout (u64-LE header length N, N bytes of compact
JSON, __metadata__ first and the tensors sorted by name, space-padded to a multiple of 8, then the raw
little-endian data in the same order, data_offsets relative to the data block).
"""
import collections
import io
import json
import struct
import zipfile

import numpy as np


def npz_bytes(arrays, compressed=False, dtype="<f4", order="C"):
    """dtype=None keeps each array's own dtype; order='F' stores Fortran-ordered arrays (fortran_order True in
    the .npy header for every array with more than one non-trivial dimension)."""
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, mode="w", compression=method, allowZip64=True) as zf:
        for key, val in arrays.items():
            arr = np.asarray(val) if dtype is None else np.asarray(val, dtype=dtype)
            arr = np.asfortranarray(arr) if order == "F" else np.ascontiguousarray(arr)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            info.external_attr = 0o600 << 16  # what np.savez (zipfile.open with a name) writes
            with zf.open(info, "w", force_zip64=True) as fid:
                np.lib.format.write_array(fid, arr, allow_pickle=False)
    return buf.getvalue()


def read_npz(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return collections.OrderedDict((k, z[k]) for k in z.files)


# safetensors dtype of each numpy kind written: integer arrays (index buffers) as I64, everything else as F32.
SAFETENSORS_DTYPES = {"F32": "<f4", "I64": "<i8"}


def safetensors_bytes(arrays, metadata=None):
    header = collections.OrderedDict()
    header["__metadata__"] = metadata if metadata is not None else {"format": "pt"}
    blobs, offset = [], 0
    for name in sorted(arrays):
        kind = "I64" if np.asarray(arrays[name]).dtype.kind in "iu" else "F32"
        arr = np.ascontiguousarray(arrays[name], dtype=SAFETENSORS_DTYPES[kind])
        data = arr.tobytes()
        header[name] = collections.OrderedDict(
            [("dtype", kind), ("shape", list(arr.shape)), ("data_offsets", [offset, offset + len(data)])])
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def read_safetensors(data):
    """F32 and I64 tensors by name; fails (AssertionError) on a header or tensor that does not fit the data."""
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), "header length %d exceeds the file (%d bytes)" % (n, len(data))
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] in SAFETENSORS_DTYPES
        b, e = info["data_offsets"]
        assert base + e <= len(data)
        out[name] = np.frombuffer(data[base + b:base + e], dtype=SAFETENSORS_DTYPES[info["dtype"]]) \
            .reshape(info["shape"])
    return out
