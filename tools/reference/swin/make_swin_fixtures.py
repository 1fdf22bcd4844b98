#!/usr/bin/python3
"""Writes small Swin Transformer checkpoint fixtures in the namings of torchvision, timm, Microsoft's original code
and Hugging Face, all produced from one torchvision model with random weights, so that the Java Swin family can be
parity-tested against an implementation it did not come from.

    /usr/bin/python3 tools/reference/swin/make_swin_fixtures.py [--out DIR]

Default output: sa2vp-layers/src/test/resources/fixtures/swin/ (relative to the repository root).

The model is torchvision's SwinTransformer(patch_size=[4, 4], embed_dim=4, depths=[2, 2, 2, 2],
num_heads=[1, 2, 2, 4], window_size=[4, 4], stochastic_depth_prob=0, num_classes=10): LayerNorm eps 1e-5, exact
GELU, widths 4, 8, 16, 32. On 40x40 images the token maps are 10x10, 5x5, 3x3 and 2x2: every stage pads its map to
a multiple of the window (12x12, 8x8, 4x4, 4x4), both patch mergings meet an odd map (5x5, 3x3), and in the last two
stages the padded map is one window, so the shifted blocks do not shift. A second input of 36x68 images (maps 9x17,
5x9, 3x5, 2x3) has a stage (3x5, padded 4x8) that shifts along the width only.

Every parameter is drawn from torch.manual_seed(0) (see init_params) and the model runs in eval mode in float32.
The same weights are then written under four namings, each derived from torchvision's own module structure
(model.features[0] the patch embedding, features[1, 3, 5, 7] the stages, features[2, 4, 6] the patch mergings):

  torchvision.safetensors   torchvision's state_dict as it is (relative_position_index buffers included)
  timm.safetensors          timm >= 0.9: layers.{i}.downsample at the start of stage i, head.fc
  microsoft.npz             Microsoft's Swin-Transformer: layers.{i}.downsample at the end of stage i, head,
                            with its relative_position_index and attn_mask buffers
  hf.safetensors            Hugging Face SwinForImageClassification (swin. prefix, q/k/v split, classifier)
  hf_swinmodel.npz          Hugging Face SwinModel (no prefix, no classifier)
  microsoft_model.pth       torch.save({'model': Microsoft's state dict}), the form Microsoft releases its Swin
                            checkpoints in and the SA2VP authors load (zip form; torch 1.13 stamps 1980-01-01)

plus input.npy [2, 3, 40, 40], input_wide.npy [2, 3, 36, 68] and reference.npz (torchvision's logits and pooled
features on both inputs, and each stage's output map [B, H*W, C] on the first).

Checks (asserted before anything is written): an independent float64 numpy forward pass written from the timm
names reproduces torchvision's logits on both inputs (1e-5); every other naming holds exactly the timm tensors
(q/k/v concatenated back for Hugging Face); every file read back equals what was written.

Deterministic: fixed seeds, np.savez's layout with a fixed zip timestamp, hand-written safetensors headers
(fixture_io.py), so a rerun reproduces every file byte for byte.
"""
import argparse
import collections
import io
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.swin_transformer import PatchMerging, SwinTransformer, SwinTransformerBlock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fixture_io import npz_bytes, read_npz, read_safetensors, safetensors_bytes  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "sa2vp-layers", "src", "test", "resources", "fixtures", "swin")

IMAGE, WIDE = (40, 40), (36, 68)
PATCH, EMBED, DEPTHS, HEADS, WINDOW, CLASSES = 4, 4, [2, 2, 2, 2], [1, 2, 2, 4], 4, 10
EPS = 1e-5
TOL = 1e-5

# Standard deviations of the N(0, s) initialisation; LayerNorm weights are 1 + N(0, 0.1), their biases N(0, 0.1).
# The relative position bias tables and q/k/v are large so that the bias, the shift mask and the attention
# pattern all matter to the logits.
SCALES = {"relative_position_bias_table": 1.0, "attn.qkv.weight": 0.5, "features.0.0.weight": 0.3,
          "head.weight": 0.5}
DEFAULT_SCALE = 0.3


def f32(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    return np.ascontiguousarray(t, dtype="<f4")


def init_params(model):
    torch.manual_seed(0)
    layer_norms = {name for name, m in model.named_modules() if isinstance(m, nn.LayerNorm)}
    with torch.no_grad():
        for name, p in model.named_parameters():
            module, leaf = name.rsplit(".", 1)
            if module in layer_norms:
                p.copy_((1.0 if leaf == "weight" else 0.0) + 0.1 * torch.randn(p.shape))
            else:
                scale = next((s for k, s in SCALES.items() if name.endswith(k)), DEFAULT_SCALE)
                p.copy_(scale * torch.randn(p.shape))


def make_torchvision(depths=DEPTHS, heads=HEADS):
    model = SwinTransformer(patch_size=[PATCH, PATCH], embed_dim=EMBED, depths=depths, num_heads=heads,
                            window_size=[WINDOW, WINDOW], stochastic_depth_prob=0.0, num_classes=CLASSES)
    init_params(model)
    return model.eval()


def tv_forward(model, x):
    """Logits, pooled features and each stage's output map [B, H*W, C], as SwinTransformer.forward computes them."""
    stages = []
    h = x
    for module in model.features:
        h = module(h)
        if isinstance(module, nn.Sequential) and isinstance(module[0], SwinTransformerBlock):
            stages.append(h.reshape(h.shape[0], -1, h.shape[-1]))
    features = model.flatten(model.avgpool(model.permute(model.norm(h))))
    logits = model.head(features)
    return logits, features, stages


# ----------------------------------------------------------------------------------------------------------
# namings, from torchvision's module structure
# ----------------------------------------------------------------------------------------------------------

BLOCK_PARTS = [  # (torchvision module in a block, timm name, Hugging Face name)
    ("norm1", "norm1", "layernorm_before"),
    ("attn.qkv", "attn.qkv", None),  # Hugging Face splits it into attention.self.{query,key,value}
    ("attn.proj", "attn.proj", "attention.output.dense"),
    ("norm2", "norm2", "layernorm_after"),
    ("mlp.0", "mlp.fc1", "intermediate.dense"),
    ("mlp.3", "mlp.fc2", "output.dense"),
]


def module_names(model):
    """(torchvision module path, timm path, Microsoft path, Hugging Face path without prefix) of every module that
    holds parameters, found by walking model.features."""
    rows = [("features.0.0", "patch_embed.proj", "patch_embed.proj", "embeddings.patch_embeddings.projection"),
            ("features.0.2", "patch_embed.norm", "patch_embed.norm", "embeddings.norm")]
    stage = -1
    for index, module in enumerate(model.features):
        if index == 0:
            continue
        if isinstance(module, PatchMerging):
            # merges stage `stage` into stage + 1: timm names it at the start of the next stage
            for part in ("reduction", "norm"):
                rows.append(("features.%d.%s" % (index, part), "layers.%d.downsample.%s" % (stage + 1, part),
                             "layers.%d.downsample.%s" % (stage, part),
                             "encoder.layers.%d.downsample.%s" % (stage, part)))
            continue
        assert isinstance(module, nn.Sequential) and isinstance(module[0], SwinTransformerBlock)
        stage += 1
        for j in range(len(module)):
            tv, timm, hf = "features.%d.%d." % (index, j), "layers.%d.blocks.%d." % (stage, j), \
                "encoder.layers.%d.blocks.%d." % (stage, j)
            for tv_part, timm_part, hf_part in BLOCK_PARTS:
                rows.append((tv + tv_part, timm + timm_part, timm + timm_part, hf + hf_part if hf_part else None))
    rows.append(("norm", "norm", "norm", "layernorm"))
    rows.append(("head", "head.fc", "head", None))
    return rows


def renamed(model, tv):
    """The four state dicts (timm, Microsoft, Hugging Face classification, Hugging Face SwinModel)."""
    timm, ms, hf = collections.OrderedDict(), collections.OrderedDict(), collections.OrderedDict()
    for tv_name, timm_name, ms_name, hf_name in module_names(model):
        for leaf in ("weight", "bias"):
            key = tv_name + "." + leaf
            if key not in tv:
                continue
            timm[timm_name + "." + leaf] = tv[key]
            ms[ms_name + "." + leaf] = tv[key]
            if hf_name is not None:
                hf["swin." + hf_name + "." + leaf] = tv[key]
            elif tv_name == "head":
                hf["classifier." + leaf] = tv[key]
            else:  # a block's attn.qkv: Hugging Face's separate query, key and value
                hf_prefix = "swin.encoder." + timm_name.replace("attn.qkv", "attention.self.")
                for part, value in zip(("query", "key", "value"), np.split(tv[key], 3, axis=0)):
                    hf[hf_prefix + part + "." + leaf] = np.ascontiguousarray(value)
        if tv_name.endswith("attn.qkv"):
            # the learned bias table (and torchvision's index buffer) live on attn itself
            tv_attn, block = tv_name[:-len(".qkv")], timm_name[:-len(".attn.qkv")]
            table = tv[tv_attn + ".relative_position_bias_table"]
            timm[block + ".attn.relative_position_bias_table"] = table
            ms[block + ".attn.relative_position_bias_table"] = table
            # torchvision flattens the index buffer to [N*N]; Microsoft and Hugging Face keep it [N, N]
            index = tv[tv_attn + ".relative_position_index"].reshape(WINDOW * WINDOW, WINDOW * WINDOW)
            ms[block + ".attn.relative_position_index"] = index
            hf_block = "swin.encoder." + block
            hf[hf_block + ".attention.self.relative_position_bias_table"] = table
            hf[hf_block + ".attention.self.relative_position_index"] = index
    hf_model = collections.OrderedDict((k[len("swin."):], v) for k, v in hf.items() if k.startswith("swin."))
    return timm, ms, hf, hf_model


def with_ms_masks(ms, grid):
    """Microsoft's checkpoints also hold each shifted block's attn_mask buffer [windows, N, N]; here the one
    torchvision's rule gives on the padded map (Microsoft's own code needs maps that are multiples of the window)."""
    out = collections.OrderedDict()
    for key, value in ms.items():
        out[key] = value
        if key.endswith(".attn.relative_position_index"):
            _, stage, _, block = key.split(".")[:4]
            stage_map = stage_grid(grid, int(stage))
            sh, sw = shifts(stage_map, int(block))
            if sh or sw:
                out[key[:-len("attn.relative_position_index")] + "attn_mask"] = \
                    f32(shift_mask(*padded(stage_map), sh, sw))
    return out


# ----------------------------------------------------------------------------------------------------------
# an independent numpy forward pass (float64) from the timm names
# ----------------------------------------------------------------------------------------------------------

def stage_grid(grid, stage):
    h, w = grid
    for _ in range(stage):
        h, w = (h + 1) // 2, (w + 1) // 2
    return h, w


def padded(grid):
    return tuple(-(-n // WINDOW) * WINDOW for n in grid)


def shifts(grid, block):
    """torchvision's rule: odd blocks shift by window // 2 along each axis whose padded size exceeds the window."""
    if block % 2 == 0:
        return 0, 0
    return tuple(0 if WINDOW >= p else WINDOW // 2 for p in padded(grid))


def shift_mask(hp, wp, sh, sw):
    """[windows, N, N]: 0 between tokens of the same region of the rolled padded map, -100 otherwise."""
    def regions(size, shift):
        label = np.zeros(size, dtype=np.int64)
        if shift:
            label[size - WINDOW:size - shift] = 1
            label[size - shift:] = 2
        return label
    labels = regions(hp, sh)[:, None] * 3 + regions(wp, sw)[None, :]
    windows = labels.reshape(hp // WINDOW, WINDOW, wp // WINDOW, WINDOW).transpose(0, 2, 1, 3) \
        .reshape(-1, WINDOW * WINDOW)
    return np.where(windows[:, :, None] == windows[:, None, :], 0.0, -100.0)


def relative_position_index():
    coords = np.stack(np.meshgrid(np.arange(WINDOW), np.arange(WINDOW), indexing="ij")).reshape(2, -1)
    rel = coords[:, :, None] - coords[:, None, :] + WINDOW - 1
    return rel[0] * (2 * WINDOW - 1) + rel[1]


def np_ln(x, p, name):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * p[name + ".weight"] + p[name + ".bias"]


def np_gelu(x):
    from math import erf, sqrt
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / sqrt(2.0)))


def np_block(x, p, prefix, heads, block):
    b, h, w, c = x.shape
    n = WINDOW * WINDOW
    hp, wp = padded((h, w))
    sh, sw = shifts((h, w), block)
    y = np.zeros((b, hp, wp, c))
    y[:, :h, :w] = np_ln(x, p, prefix + "norm1")
    y = np.roll(y, (-sh, -sw), axis=(1, 2))
    windows = y.reshape(b, hp // WINDOW, WINDOW, wp // WINDOW, WINDOW, c).transpose(0, 1, 3, 2, 4, 5) \
        .reshape(-1, n, c)
    qkv = windows @ p[prefix + "attn.qkv.weight"].T + p[prefix + "attn.qkv.bias"]
    qkv = qkv.reshape(-1, n, 3, heads, c // heads).transpose(2, 0, 3, 1, 4)
    q, k, v = qkv[0] * (c // heads) ** -0.5, qkv[1], qkv[2]
    table = p[prefix + "attn.relative_position_bias_table"]
    bias = table[relative_position_index()].transpose(2, 0, 1)  # [heads, N, N]
    scores = (q @ k.transpose(0, 1, 3, 2) + bias).reshape(b, -1, heads, n, n)
    scores = scores + shift_mask(hp, wp, sh, sw)[None, :, None]
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    attended = (scores / scores.sum(-1, keepdims=True)).reshape(-1, heads, n, n) @ v
    attended = attended.transpose(0, 2, 1, 3).reshape(-1, n, c)
    out = attended @ p[prefix + "attn.proj.weight"].T + p[prefix + "attn.proj.bias"]
    out = out.reshape(b, hp // WINDOW, wp // WINDOW, WINDOW, WINDOW, c).transpose(0, 1, 3, 2, 4, 5) \
        .reshape(b, hp, wp, c)
    x = x + np.roll(out, (sh, sw), axis=(1, 2))[:, :h, :w]
    hidden = np_gelu(np_ln(x, p, prefix + "norm2") @ p[prefix + "mlp.fc1.weight"].T + p[prefix + "mlp.fc1.bias"])
    return x + hidden @ p[prefix + "mlp.fc2.weight"].T + p[prefix + "mlp.fc2.bias"]


def np_merge(x, p, prefix):
    b, h, w, c = x.shape
    y = np.zeros((b, h + h % 2, w + w % 2, c))
    y[:, :h, :w] = x
    merged = np.concatenate([y[:, 0::2, 0::2], y[:, 1::2, 0::2], y[:, 0::2, 1::2], y[:, 1::2, 1::2]], -1)
    return np_ln(merged, p, prefix + "norm") @ p[prefix + "reduction.weight"].T


def numpy_forward(timm, images, depths=DEPTHS, heads=HEADS):
    p = {k: v.astype(np.float64) for k, v in timm.items()}
    b, _, height, width = images.shape
    conv = p["patch_embed.proj.weight"]
    patches = images.astype(np.float64).reshape(b, 3, height // PATCH, PATCH, width // PATCH, PATCH) \
        .transpose(0, 2, 4, 1, 3, 5).reshape(b, height // PATCH, width // PATCH, -1)
    x = np_ln(patches @ conv.reshape(conv.shape[0], -1).T + p["patch_embed.proj.bias"], p, "patch_embed.norm")
    for stage, depth in enumerate(depths):
        if stage > 0:
            x = np_merge(x, p, "layers.%d.downsample." % stage)
        for block in range(depth):
            x = np_block(x, p, "layers.%d.blocks.%d." % (stage, block), heads[stage], block)
    features = np_ln(x, p, "norm").mean(axis=(1, 2))
    return features @ p["head.fc.weight"].T + p["head.fc.bias"], features


# ----------------------------------------------------------------------------------------------------------

def max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def npy_bytes(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, f32(array), allow_pickle=False)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

    model = make_torchvision()
    torch.manual_seed(1)
    x = torch.randn(2, 3, *IMAGE)
    wide = torch.randn(2, 3, *WIDE)
    with torch.no_grad():
        logits, features, stages = tv_forward(model, x)
        wide_logits, wide_features, _ = tv_forward(model, wide)
        assert torch.equal(logits, model(x)) and torch.equal(wide_logits, model(wide))
    print("logits std %.4f (min %.3f, max %.3f)" % (logits.std().item(), logits.min().item(), logits.max().item()))
    assert 0.3 <= logits.std().item() <= 5.0
    print("stage maps: %s" % [tuple(s.shape) for s in stages])

    # float tensors as float32, the relative_position_index buffers as int64 (as every naming stores them)
    tv = collections.OrderedDict((k, f32(v) if v.is_floating_point() else np.ascontiguousarray(v.numpy(), "<i8"))
                                 for k, v in model.state_dict().items())
    timm, ms, hf, hf_model = renamed(model, tv)
    ms = with_ms_masks(ms, (IMAGE[0] // PATCH, IMAGE[1] // PATCH))
    reference = collections.OrderedDict([("logits", f32(logits)), ("features", f32(features)),
                                         ("logits_wide", f32(wide_logits)), ("features_wide", f32(wide_features))])
    for i, s in enumerate(stages):
        reference["stage%d" % i] = f32(s)

    # --- checks -------------------------------------------------------------------------------------------------
    for images, expected, name in ((x, logits, "40x40"), (wide, wide_logits, "36x68")):
        np_logits, _ = numpy_forward(timm, images.numpy())
        d = max_abs(np_logits, expected)
        print("numpy forward from the timm names, %s: max|logits diff| %.3g" % (name, d))
        assert d < TOL, name
    params = [k for k in tv if not k.endswith("relative_position_index")]
    assert sum(tv[k].size for k in params) == sum(v.size for v in timm.values())
    for naming, sd in (("microsoft", ms), ("hf", hf)):
        tensors = {k: v for k, v in sd.items() if not k.endswith(("relative_position_index", "attn_mask"))}
        assert sum(v.size for v in tensors.values()) == sum(v.size for v in timm.values()), naming
    for key, value in timm.items():
        if ".attn.qkv." in key:
            hf_key = "swin.encoder." + key.replace("attn.qkv.", "attention.self.%s.")
            joined = np.concatenate([hf[hf_key % part] for part in ("query", "key", "value")])
            assert np.array_equal(joined, value), key

    # --- files --------------------------------------------------------------------------------------------------
    files = collections.OrderedDict([
        ("input.npy", npy_bytes(x)), ("input_wide.npy", npy_bytes(wide)), ("reference.npz", npz_bytes(reference)),
        ("torchvision.safetensors", safetensors_bytes(tv)), ("timm.safetensors", safetensors_bytes(timm)),
        ("microsoft.npz", npz_bytes(ms, dtype=None)), ("hf.safetensors", safetensors_bytes(hf)),
        ("hf_swinmodel.npz", npz_bytes(hf_model, dtype=None)),
    ])
    expected_contents = {"torchvision.safetensors": tv, "timm.safetensors": timm, "microsoft.npz": ms,
                         "hf.safetensors": hf, "hf_swinmodel.npz": hf_model, "reference.npz": reference}
    for name, data in files.items():
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
    for name, expected in expected_contents.items():
        with open(os.path.join(args.out, name), "rb") as f:
            data = f.read()
        read = read_safetensors(data) if name.endswith(".safetensors") else read_npz(data)
        assert list(sorted(read)) == list(sorted(expected)), name
        for key, value in expected.items():
            assert read[key].dtype == value.dtype and np.array_equal(read[key], value), (name, key)
    # Microsoft's release form, as the SA2VP authors load their Swin-B: torch.save({'model': state_dict}).
    pth = os.path.join(args.out, "microsoft_model.pth")
    torch.save({"model": collections.OrderedDict((k, torch.from_numpy(np.array(v))) for k, v in ms.items())}, pth)
    loaded = torch.load(pth)["model"]
    assert list(loaded) == list(ms) and all(np.array_equal(loaded[k].numpy(), ms[k]) for k in ms)
    files["microsoft_model.pth"] = open(pth, "rb").read()
    for name, data in files.items():
        print("%-24s %7d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
