#!/usr/bin/python3
"""Writes the tiny ViT of make_vit_fixtures.py as PyTorch checkpoints (torch.save), valid and malformed, so that
the Java .pth reader is tested on files torch itself wrote.

    /usr/bin/python3 tools/reference/vit/make_pth_fixtures.py [--out DIR]

Default output: sa2vp-layers/src/test/resources/fixtures/vit/pth/. The weights are timm.safetensors's exactly
(make_vit_fixtures.py writes it first), loaded strictly into make_vit_fixtures.TimmViT, so every state dict below
is that module's state_dict(): timm names, module order, and the '_metadata' attribute torch.save keeps.

Valid files (each is read back with torch.load and compared to the tensors it was written from, bit for bit):
  timm.pth                torch.save(state_dict) in the zip form (root folder 'timm', the file's stem)
  timm_model_epoch.pth    torch.save({'model': state_dict, 'epoch': 3}) written to a buffer (root 'archive')
  timm_legacy.pth         torch.save(state_dict, _use_new_zipfile_serialization=False): five pickles, then the
                          storages (an 8-byte element count and the raw bytes each); torch names the storages by
                          their memory addresses, which this script renames to fixed numbers (see save_legacy)
  timm_float16.pth        every tensor .half(); reference_float16.npz holds TimmViT's features and logits with
                          those float16-rounded weights (as float32) on input.npy
  timm_views.pth          tensors that are views: blocks.0.attn.qkv.weight and blocks.0.attn.proj.weight share
                          one [128, 32] storage (the second at offset 3072), blocks.0.mlp.fc1.weight is the
                          transpose of a contiguous [32, 64] tensor (strides 1, 64), blocks.1.mlp.fc2.weight is
                          every second column of a [32, 128] tensor (offset 1, strides 128, 2)
  dtypes.pth              {'epoch': 3, 'arch': 'tiny', 'model': {'w': [1.]}, 'state_dict': {'module.' + name:
                          tensor}} with float64, bfloat16, float16, int64 (a 0-d num_batches_tracked and a
                          relative_position_index), int32, int16, int8, uint8, bool and two float32 views; every
                          value is exact in float32 except float64 (rounded as numpy rounds), and
                          dtypes_expected.npz holds each tensor as numpy's float32 under the name without 'module.'
Malformed files:
  os_system.pth           a zip laid out as torch's (archive/data.pkl, archive/version) whose data.pkl calls
                          os.system (written by pickle, never loaded here)
  linear_module.pth       torch.save(nn.Linear(2, 2)): a whole module, whose class the pickle names
  no_state_dict.pth       torch.save({'epoch': 3, 'arch': 'tiny'})
  truncated.pth           the first 60 % of timm_float16.pth (no zip central directory)
  missing_storage.pth     timm_float16.pth without the entry of blocks.1.mlp.fc1.weight's storage

Deterministic: torch 1.13's zip writer stamps 1980-01-01, and the files written here by zipfile get the same
stamp; a rerun reproduces every file byte for byte (checked by comparing md5 sums of two runs).
"""
import argparse
import collections
import io
import os
import pickle
import pickletools
import struct
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import make_vit_fixtures as fixtures  # noqa: E402
from fixture_io import npz_bytes, read_safetensors  # noqa: E402

DEFAULT_OUT = os.path.join(fixtures.DEFAULT_OUT, "pth")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def timm_state_dict():
    with open(os.path.join(fixtures.DEFAULT_OUT, "timm.safetensors"), "rb") as f:
        arrays = read_safetensors(f.read())
    model = fixtures.load_module(fixtures.TimmViT(), arrays)
    return model, model.state_dict()


def save_zip(obj, path, via_buffer=False):
    """torch.save's zip form; through a buffer the root folder is 'archive', to a path it is the file's stem."""
    if via_buffer:
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        with open(path, "wb") as f:
            f.write(buffer.getvalue())
    else:
        torch.save(obj, path)


def pickles_end(data, count):
    """The byte offset after the first `count` pickles of a legacy torch.save file."""
    stream = io.BytesIO(data)
    for _ in range(count):
        for _ in pickletools.genops(stream):
            pass
    return stream.tell()


def save_legacy(state_dict, path):
    """torch.save's legacy form, made the same on every run: torch names each storage by its memory address and
    writes the storages in the sorted order of those names; here they are renamed '000000000', '000000001', ... in
    the order the state dict first uses them, and the key list and the storages follow that order (as torch would
    have written them had the addresses been those numbers)."""
    buffer = io.BytesIO()
    torch.save(state_dict, buffer, _use_new_zipfile_serialization=False)
    data = buffer.getvalue()
    objects_end, keys_end = pickles_end(data, 4), pickles_end(data, 5)
    written = pickle.loads(data[objects_end:keys_end])
    storages = collections.OrderedDict()
    for tensor in state_dict.values():
        storages.setdefault(str(tensor.storage()._storage._cdata), tensor.storage().nbytes())
    assert sorted(storages) == written
    blobs, at = {}, keys_end
    for key in written:
        blobs[key] = data[at:at + 8 + storages[key]]
        at += 8 + storages[key]
    assert at == len(data)
    head = data[:objects_end]
    renamed = ["%09d" % i for i in range(len(storages))]
    for key, fixed in zip(storages, renamed):
        old = b"X" + struct.pack("<I", len(key)) + key.encode()
        assert head.count(old) >= 1, key
        head = head.replace(old, b"X" + struct.pack("<I", len(fixed)) + fixed.encode())
    with open(path, "wb") as f:
        f.write(head + pickle.dumps(renamed, protocol=2) + b"".join(blobs[key] for key in storages))


def write_zip(path, entries):
    """A stored (uncompressed) zip of (name, bytes) pairs with a fixed timestamp, like torch's writer."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            z.writestr(info, data)


class RunsACommand:
    """What a malicious checkpoint holds: unpickling it calls os.system."""

    def __reduce__(self):
        return os.system, ("echo this checkpoint ran a command",)


def assert_same_tensors(got, want, what):
    assert list(got.keys()) == list(want.keys()), (what, list(got.keys()), list(want.keys()))
    for key in want:
        g, w = got[key], want[key]
        assert g.dtype == w.dtype and g.shape == w.shape, (what, key, g.dtype, w.dtype, g.shape, w.shape)
        assert torch.equal(g, w), (what, key)


def views_state_dict(sd):
    views = collections.OrderedDict(sd)
    views._metadata = sd._metadata
    b0 = "blocks.0."
    stacked = torch.cat([sd[b0 + "attn.qkv.weight"], sd[b0 + "attn.proj.weight"]])  # [128, 32], one storage
    views[b0 + "attn.qkv.weight"] = stacked[:96]
    views[b0 + "attn.proj.weight"] = stacked[96:]
    views[b0 + "mlp.fc1.weight"] = sd[b0 + "mlp.fc1.weight"].t().contiguous().t()
    torch.manual_seed(4)
    wide = torch.randn(32, 128)  # the even columns are never read
    wide[:, 1::2] = sd["blocks.1.mlp.fc2.weight"]
    views["blocks.1.mlp.fc2.weight"] = wide[:, 1::2]
    assert views[b0 + "attn.proj.weight"].storage_offset() == 96 * 32
    assert views[b0 + "mlp.fc1.weight"].stride() == (1, 64)
    assert views["blocks.1.mlp.fc2.weight"].stride() == (128, 2)
    assert views["blocks.1.mlp.fc2.weight"].storage_offset() == 1
    return views


def dtypes_state_dict():
    torch.manual_seed(5)
    tensors = collections.OrderedDict()
    tensors["float64"] = torch.randn(2, 3, dtype=torch.float64)
    tensors["bfloat16"] = torch.randn(4).to(torch.bfloat16)
    tensors["float16"] = torch.randn(3).half()
    tensors["bn.num_batches_tracked"] = torch.tensor(5)
    tensors["relative_position_index"] = torch.arange(9, dtype=torch.int64).reshape(3, 3) * 7 - 20
    tensors["int32"] = torch.tensor([-70000, 123456], dtype=torch.int32)
    tensors["int16"] = torch.tensor([-300, 301], dtype=torch.int16)
    tensors["int8"] = torch.tensor([-128, -1, 127], dtype=torch.int8)
    tensors["uint8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    tensors["bool"] = torch.tensor([True, False, True])
    tensors["permuted"] = torch.randn(2, 3, 4).permute(2, 0, 1)  # [4, 2, 3], strides (1, 12, 4)
    tensors["strided"] = torch.randn(10)[3:9:2]  # offset 3, stride 2
    expected = collections.OrderedDict((k, v.to(torch.float64).numpy().astype("<f4")) for k, v in tensors.items())
    expected["float64"] = tensors["float64"].numpy().astype("<f4")
    sd = collections.OrderedDict(("module." + k, v) for k, v in tensors.items())
    return sd, expected


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731

    model, sd = timm_state_dict()
    assert len(sd) == 32 and hasattr(sd, "_metadata")

    save_zip(sd, out("timm.pth"))
    save_zip({"model": sd, "epoch": 3}, out("timm_model_epoch.pth"), via_buffer=True)
    save_legacy(sd, out("timm_legacy.pth"))
    half = collections.OrderedDict((k, v.half()) for k, v in sd.items())
    half._metadata = sd._metadata
    save_zip(half, out("timm_float16.pth"))
    views = views_state_dict(sd)
    save_zip(views, out("timm_views.pth"))
    dtypes, expected = dtypes_state_dict()
    save_zip({"epoch": 3, "arch": "tiny", "model": {"w": torch.ones(1)}, "state_dict": dtypes}, out("dtypes.pth"))
    with open(out("dtypes_expected.npz"), "wb") as f:
        f.write(npz_bytes(expected))

    # The float16-rounded weights' outputs, from TimmViT (make_vit_fixtures checks it against torchvision).
    rounded = fixtures.TimmViT()
    rounded.load_state_dict({k: v.float() for k, v in half.items()}, strict=True)
    x = torch.from_numpy(np.load(os.path.join(fixtures.DEFAULT_OUT, "input.npy")))
    with torch.no_grad():
        h = rounded.patch_embed(x)
        h = torch.cat((rounded.cls_token.expand(h.shape[0], -1, -1), h), dim=1) + rounded.pos_embed
        features = rounded.norm(rounded.blocks(h))[:, 0]
        logits = rounded.head(features)
        assert torch.equal(logits, rounded(x))
    with open(out("reference_float16.npz"), "wb") as f:
        f.write(npz_bytes(collections.OrderedDict([("features", features.numpy()), ("logits", logits.numpy())])))
    with torch.no_grad():
        print("float16 rounding moves the logits by max %.3g" % (logits - model(x)).abs().max().item())

    # Every valid file reads back as what was saved.
    assert_same_tensors(torch.load(out("timm.pth")), sd, "timm.pth")
    loaded = torch.load(out("timm_model_epoch.pth"))
    assert loaded["epoch"] == 3
    assert_same_tensors(loaded["model"], sd, "timm_model_epoch.pth")
    assert_same_tensors(torch.load(out("timm_legacy.pth")), sd, "timm_legacy.pth")
    assert_same_tensors(torch.load(out("timm_float16.pth")), half, "timm_float16.pth")
    loaded = torch.load(out("timm_views.pth"))
    assert_same_tensors(loaded, views, "timm_views.pth")
    assert loaded["blocks.1.mlp.fc2.weight"].stride() == (128, 2)
    assert_same_tensors(torch.load(out("dtypes.pth"))["state_dict"], dtypes, "dtypes.pth")
    with zipfile.ZipFile(out("timm.pth")) as z:
        assert z.namelist()[0] == "timm/data.pkl" and "timm/byteorder" not in z.namelist()
    with zipfile.ZipFile(out("timm_model_epoch.pth")) as z:
        assert z.namelist()[0] == "archive/data.pkl"
    with zipfile.ZipFile(out("timm_views.pth")) as z:
        assert len([n for n in z.namelist() if "/data/" in n]) == 32 - 1  # qkv and proj share one storage

    # Malformed files.
    write_zip(out("os_system.pth"), [("archive/data.pkl", pickle.dumps(RunsACommand(), protocol=2)),
                                     ("archive/version", b"3\n")])
    save_zip(torch.nn.Linear(2, 2), out("linear_module.pth"))
    save_zip({"epoch": 3, "arch": "tiny"}, out("no_state_dict.pth"))
    with open(out("timm_float16.pth"), "rb") as f:
        whole = f.read()
    with open(out("truncated.pth"), "wb") as f:
        f.write(whole[:len(whole) * 6 // 10])
    pkl = zipfile.ZipFile(out("timm_float16.pth")).read("timm_float16/data.pkl")
    ops = list(pickletools.genops(pkl))
    fc1 = next(i for i, (op, arg, _) in enumerate(ops) if arg == "blocks.1.mlp.fc1.weight")
    storage = next(arg for op, arg, _ in ops[fc1:] if op.name == "BINUNICODE" and arg.isdigit())
    missing = "timm_float16/data/" + storage
    with zipfile.ZipFile(out("timm_float16.pth")) as z:
        write_zip(out("missing_storage.pth"), [(n, z.read(n)) for n in z.namelist() if n != missing])
    print("missing_storage.pth lacks", missing)
    for name in ("truncated.pth", "missing_storage.pth", "no_state_dict.pth"):
        try:
            value = torch.load(out(name))
            assert name == "no_state_dict.pth" and value == {"epoch": 3, "arch": "tiny"}, name
        except (RuntimeError, KeyError, OSError) as e:
            print("torch.load(%s) fails: %s" % (name, str(e).splitlines()[0]))

    total = 0
    for name in sorted(os.listdir(args.out)):
        size = os.path.getsize(out(name))
        total += size
        print("  %-24s %8d bytes" % (name, size))
    print("  %-24s %8d bytes" % ("total", total))
    assert total < 700_000
    print("all checks passed")


if __name__ == "__main__":
    sys.exit(main())
