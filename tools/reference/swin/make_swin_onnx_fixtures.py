#!/usr/bin/python3
"""Writes small Swin Transformer ONNX fixtures, exported by torch.onnx.export as users export (default constant
folding, dynamic batch), so that the Java Swin family's ONNX reader can be parity-tested against exports it did not
make.

    /usr/bin/python3 tools/reference/swin/make_swin_onnx_fixtures.py [--out DIR]

Default output: sa2vp-layers/src/test/resources/fixtures/swin/ (relative to the repository root). Needs Debian's
python3-torch 1.13, python3-torchvision 0.14 and python3-onnx 1.12.

The model is torchvision's SwinTransformer(patch_size=[4, 4], embed_dim=4, depths=[2, 1], num_heads=[1, 2],
window_size=[4, 4], num_classes=10) with random weights (make_swin_fixtures.init_params, seed 0), smaller than the
checkpoint fixtures' four stages because torch 1.13 writes about 1,500 nodes (most of them shape arithmetic with long
scoped names) per two blocks. On the 40x40 images of input.npy the maps are 10x10 (padded to 12x12, the second
block shifted) and 5x5 after an odd patch merging (padded to 8x8, one block).

  torchvision_opset14.onnx  the torchvision module as it is (initializer names features.*)
  timm_opset17.onnx         the same weights in a module whose parameter names are timm's (>= 0.9), built over
                            torchvision's own layers (patch_embed, layers.{i}.downsample, layers.{i}.blocks.{j},
                            mlp.fc1/fc2, head.fc) with timm's window attention and precomputed shift masks (so it
                            runs 40x40 images only); opset 17 has a fused LayerNormalization
  microsoft_opset14.onnx    the same with Microsoft's Swin-Transformer names (layers.{i}.downsample at the end of
                            stage i, head) and its persistent attn_mask buffers
  onnx_reference.npz        torchvision's logits [2, 10] and pooled features [2, 8] on input.npy

Every naming is exported at opsets 14 and 17 and checked; one export of each is kept (size).

What the exporter does (asserted below for every export, so a different torch fails here rather than in Java):
  * each block's relative position bias is folded: relative_position_bias_table [(2w-1)^2, heads] gathered by the
    fixed relative_position_index, permuted and unsqueezed becomes one anonymous initializer [1, heads, w^2, w^2]
    (onnx::Add_N) read by an Add in the attention's scope; the table itself is not stored. Every table entry
    appears in it (relative offsets -(w-1)..w-1 on both axes all occur), so the table is recoverable exactly;
  * torchvision computes the shift masks in the graph (ScatterND over the padded map's shape); timm (and
    Microsoft's code) hold each shifted block's mask [windows, N, N] as an attn_mask buffer added as
    mask.unsqueeze(1).unsqueeze(0), which becomes a Constant node [1, windows, 1, N, N] of 0 and -100 (a
    non-persistent buffer is traced as a constant, not stored as an initializer), and the graph has no shape
    arithmetic for it (the timm export is about half the size);
  * q/k/v, proj, fc1/fc2 and the patch merging's bias-free reduction are MatMul with their transposed weight as an
    anonymous initializer [in, out]; the biases keep their names; the head is Gemm(transB=1) on the named weight.
"""
import argparse
import collections
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_swin_fixtures as swin  # noqa: E402
from fixture_io import npz_bytes, read_npz  # noqa: E402

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

DEPTHS, HEADS = [2, 1], [1, 2]
OPSETS = (14, 17)
KEPT = {("torchvision", 14): "torchvision_opset14.onnx", ("timm", 17): "timm_opset17.onnx",
        ("microsoft", 14): "microsoft_opset14.onnx"}
MAX_TOTAL_BYTES = 1_000_000


class TimmPatchEmbed(nn.Module):
    def __init__(self, features0):
        super().__init__()
        self.proj, self.norm = features0[0], features0[2]

    def forward(self, x):
        return self.norm(self.proj(x).permute(0, 2, 3, 1))


class TimmMlp(nn.Module):
    def __init__(self, mlp):
        super().__init__()
        self.fc1, self.act, self.fc2 = mlp[0], mlp[1], mlp[3]

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TimmWindowAttention(nn.Module):
    """timm's WindowAttention over torchvision's attention parameters (qkv, proj, relative_position_bias_table):
    the bias gathered as timm's _get_rel_pos_bias does, the shift mask [windows, N, N] added as
    mask.unsqueeze(1).unsqueeze(0), which is how timm and Microsoft's code add it."""

    def __init__(self, tv_attn):
        super().__init__()
        self.num_heads = tv_attn.num_heads
        self.qkv, self.proj = tv_attn.qkv, tv_attn.proj
        self.relative_position_bias_table = tv_attn.relative_position_bias_table
        n = swin.WINDOW * swin.WINDOW
        self.register_buffer("relative_position_index", tv_attn.relative_position_index.view(n, n).clone(),
                             persistent=False)

    def _get_rel_pos_bias(self):
        n = swin.WINDOW * swin.WINDOW
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        return bias.permute(2, 0, 1).contiguous().unsqueeze(0)

    def forward(self, x, mask=None):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q * (c // self.num_heads) ** -0.5) @ k.transpose(-2, -1)
        attn = attn + self._get_rel_pos_bias()
        if mask is not None:
            num_win = mask.shape[0]
            attn = attn.view(-1, num_win, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, n, n)
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1))


class TimmBlock(nn.Module):
    """A Swin block as timm >= 0.9 writes it for a fixed input resolution (norm1, attn, norm2, mlp.fc1/fc2 over
    torchvision's modules): padding to the window, the cyclic shift, and the shift mask precomputed for the stage's
    map as a non-persistent attn_mask buffer (torchvision's shift rule, so that the logits stay torchvision's)."""

    def __init__(self, block, grid, index, persistent_mask=False):
        super().__init__()
        self.norm1, self.norm2, self.mlp = block.norm1, block.norm2, TimmMlp(block.mlp)
        self.attn = TimmWindowAttention(block.attn)
        self.shift = swin.shifts(grid, index)
        mask = swin.shift_mask(*swin.padded(grid), *self.shift) if any(self.shift) else None
        self.register_buffer("attn_mask", None if mask is None else torch.from_numpy(mask.astype(np.float32)),
                             persistent=persistent_mask)

    def _attn(self, x):
        b, h, w, c = x.shape
        win = swin.WINDOW
        hp, wp = swin.padded((h, w))
        x = F.pad(x, (0, 0, 0, wp - w, 0, hp - h))
        if any(self.shift):
            x = torch.roll(x, shifts=(-self.shift[0], -self.shift[1]), dims=(1, 2))
        windows = x.view(b, hp // win, win, wp // win, win, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, win * win, c)
        out = self.attn(windows, mask=self.attn_mask)
        out = out.view(b, hp // win, wp // win, win, win, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
        if any(self.shift):
            out = torch.roll(out, shifts=self.shift, dims=(1, 2))
        return out[:, :h, :w, :]

    def forward(self, x):
        x = x + self._attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TimmStage(nn.Module):
    def __init__(self, downsample, blocks, grid):
        super().__init__()
        self.downsample = downsample if downsample is not None else nn.Identity()
        self.blocks = nn.Sequential(*[TimmBlock(b, grid, i) for i, b in enumerate(blocks)])

    def forward(self, x):
        return self.blocks(self.downsample(x))


class TimmHead(nn.Module):
    def __init__(self, fc):
        super().__init__()
        self.fc = fc

    def forward(self, x):
        return self.fc(x.mean(dim=(1, 2)))


class TimmSwin(nn.Module):
    """timm >= 0.9's module paths (patch_embed, layers.{i}.downsample at the start of stage i, norm, head.fc) over
    torchvision's modules, so that torch.onnx.export names the initializers as timm's state dict does, with timm's
    block forward for the 40x40 images' maps."""

    def __init__(self, tv):
        super().__init__()
        self.patch_embed = TimmPatchEmbed(tv.features[0])
        stages, downsample = [], None
        for module in list(tv.features)[1:]:
            if isinstance(module, swin.PatchMerging):
                downsample = module
            else:
                grid = swin.stage_grid((swin.IMAGE[0] // swin.PATCH, swin.IMAGE[1] // swin.PATCH), len(stages))
                stages.append(TimmStage(downsample, module, grid))
                downsample = None
        self.layers = nn.Sequential(*stages)
        self.norm = tv.norm
        self.head = TimmHead(tv.head)

    def forward(self, x):
        return self.head(self.norm(self.layers(self.patch_embed(x))))


class MicrosoftStage(nn.Module):
    def __init__(self, blocks, downsample, grid):
        super().__init__()
        self.blocks = nn.Sequential(*[TimmBlock(b, grid, i, persistent_mask=True) for i, b in enumerate(blocks)])
        self.downsample = downsample if downsample is not None else nn.Identity()

    def forward(self, x):
        return self.downsample(self.blocks(x))


class MicrosoftSwin(nn.Module):
    """Microsoft's Swin-Transformer module paths (layers.{i}.downsample at the end of stage i, head) with its
    persistent attn_mask buffers, over torchvision's modules and timm's block forward (the same as Microsoft's)."""

    def __init__(self, tv):
        super().__init__()
        self.patch_embed = TimmPatchEmbed(tv.features[0])
        features = list(tv.features)[1:]
        stages = []
        for index, module in enumerate(features):
            if not isinstance(module, swin.PatchMerging):
                grid = swin.stage_grid((swin.IMAGE[0] // swin.PATCH, swin.IMAGE[1] // swin.PATCH), len(stages))
                following = features[index + 1] if index + 1 < len(features) else None
                stages.append(MicrosoftStage(module, following, grid))
        self.layers = nn.Sequential(*stages)
        self.norm = tv.norm
        self.head = tv.head

    def forward(self, x):
        return self.head(self.norm(self.layers(self.patch_embed(x))).mean(dim=(1, 2)))


def export(module, x, path, opset):
    torch.onnx.export(module, (x,), path, export_params=True, do_constant_folding=True, opset_version=opset,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def folded_bias(table, heads):
    """The exporter's constant: table[relative_position_index] as [1, heads, N, N]."""
    n = swin.WINDOW * swin.WINDOW
    return table[swin.relative_position_index().reshape(-1)].reshape(n, n, heads).transpose(2, 0, 1)[None]


def check_export(path, params, depths, computed_masks):
    """Asserts what the module comment says the exporter does, against the module's state dict `params`;
    computed_masks: whether the module computes its shift masks from the input's shape (torchvision) rather than
    holding them as buffers (timm)."""
    model = onnx.load(path)
    onnx.checker.check_model(model)
    g = model.graph
    ops = collections.Counter(n.op_type for n in g.node)
    readers = collections.defaultdict(list)
    for node in g.node:
        for name in node.input:
            readers[name].append(node)
    tables = [k for k in params if k.endswith("relative_position_bias_table")]
    blocks = [(s, b) for s, d in enumerate(depths) for b in range(d)]
    assert len(tables) == len(blocks) and ops["Softmax"] == len(blocks), (len(tables), ops["Softmax"])
    unmatched_tables = set(tables)
    named = 0
    folded_masks = 0
    for init in g.initializer:
        value = numpy_helper.to_array(init)
        if init.name in params:
            assert np.array_equal(value, params[init.name]), init.name
            named += 1
            continue
        assert "::" in init.name, init.name
        uses = {n.op_type for n in readers[init.name]}
        if value.ndim == 4:
            assert uses == {"Add"}, (init.name, uses)
            found = [k for k in unmatched_tables if params[k].shape[1] == value.shape[1]
                     and np.array_equal(folded_bias(params[k], value.shape[1]), value)]
            assert len(found) == 1, init.name
            unmatched_tables.remove(found[0])
            for node in readers[init.name]:
                assert found[0].startswith(swin_scope(node.name)), (node.name, found[0])
        elif value.ndim == 2:
            assert uses == {"MatMul"}, (init.name, uses)
            assert any(v.ndim == 2 and np.array_equal(v.T, value) for v in params.values()), init.name
        elif value.ndim == 5:
            # Microsoft's persistent shift mask, mask.unsqueeze(1).unsqueeze(0): [1, windows, 1, N, N] of 0, -100
            assert uses == {"Add"} and value.shape[0] == 1 and value.shape[2] == 1, (init.name, value.shape)
            assert set(np.unique(value)) <= {0.0, -100.0}, init.name
            folded_masks += 1
        else:
            assert value.size == 1 or value.dtype == np.int64, (init.name, value.shape, value.dtype)
    assert not unmatched_tables, unmatched_tables
    assert not any(k in [i.name for i in g.initializer] for k in tables)
    for node in g.node:
        # timm's precomputed shift mask, mask.unsqueeze(1).unsqueeze(0): a Constant [1, windows, 1, N, N] of 0, -100
        value = numpy_helper.to_array(node.attribute[0].t) if node.op_type == "Constant" else None
        if value is not None and value.ndim == 5:
            assert {n.op_type for n in readers[node.output[0]]} == {"Add"}, node.name
            assert value.shape[0] == 1 and value.shape[2] == 1, (node.name, value.shape)
            assert set(np.unique(value)) <= {0.0, -100.0}, node.name
            folded_masks += 1
    shifted = sum(1 for s, b in blocks if any(swin.shifts(swin.stage_grid(
        (swin.IMAGE[0] // swin.PATCH, swin.IMAGE[1] // swin.PATCH), s), b)))
    if computed_masks:
        assert "ScatterND" in ops and folded_masks == 0  # torchvision builds the shift mask in the graph
    else:
        assert "ScatterND" not in ops and folded_masks == shifted, (folded_masks, shifted)
    assert [i.name for i in g.input] == ["input"] and [o.name for o in g.output] == ["logits"]
    return model, named, ops


def swin_scope(node_name):
    """'/layers/layers.0/blocks/blocks.1/attn/Add_2' -> 'layers.0.blocks.1.attn' (torch's scoped node names)."""
    parts = node_name.strip("/").split("/")[:-1]
    path = []
    for part in parts:
        if path and part.startswith(path[-1] + "."):
            path[-1] = part
        else:
            path.append(part)
    return ".".join(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=swin.DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

    model = swin.make_torchvision(DEPTHS, HEADS)
    timm_model = TimmSwin(model).eval()
    ms_model = MicrosoftSwin(model).eval()
    with open(os.path.join(args.out, "input.npy"), "rb") as f:
        x = torch.from_numpy(np.load(f))
    assert tuple(x.shape) == (2, 3) + swin.IMAGE
    with torch.no_grad():
        logits, features, _ = swin.tv_forward(model, x)
        assert torch.equal(logits, model(x))
        timm_logits = timm_model(x)
        ms_logits = ms_model(x)
    print("logits std %.4f (min %.3f, max %.3f)" % (logits.std().item(), logits.min().item(), logits.max().item()))
    assert 0.3 <= logits.std().item() <= 5.0

    tv = collections.OrderedDict((k, swin.f32(v)) for k, v in model.state_dict().items() if v.is_floating_point())
    timm = collections.OrderedDict((k, swin.f32(v)) for k, v in timm_model.state_dict().items()
                                   if v.is_floating_point())
    expected_timm, _, _, _ = swin.renamed(model, collections.OrderedDict(
        (k, swin.f32(v) if v.is_floating_point() else v.numpy()) for k, v in model.state_dict().items()))
    assert list(sorted(timm)) == list(sorted(expected_timm)), sorted(set(timm) ^ set(expected_timm))
    ms = collections.OrderedDict((k, swin.f32(v)) for k, v in ms_model.state_dict().items() if v.is_floating_point())
    _, expected_ms, _, _ = swin.renamed(model, collections.OrderedDict(
        (k, swin.f32(v) if v.is_floating_point() else v.numpy()) for k, v in model.state_dict().items()))
    ms_params = sorted(k for k in ms if not k.endswith("attn_mask"))
    assert ms_params == sorted(k for k in expected_ms if not k.endswith("relative_position_index")), ms_params
    assert swin.max_abs(ms_logits, logits) == 0.0
    d = swin.max_abs(timm_logits, logits)
    np_logits, _ = swin.numpy_forward(timm, x.numpy(), DEPTHS, HEADS)
    d_np = swin.max_abs(np_logits, logits)
    print("timm-named module: max|logits diff| %.3g; numpy forward from the timm names: %.3g" % (d, d_np))
    assert d < swin.TOL and d_np < swin.TOL

    written = {}
    for naming, module, params in (("torchvision", model, tv), ("timm", timm_model, timm),
                                   ("microsoft", ms_model, ms)):
        for opset in OPSETS:
            name = KEPT.get((naming, opset), "%s_opset%d.onnx" % (naming, opset))
            path = os.path.join(args.out, name)
            export(module, x, path, opset)
            _, named, ops = check_export(path, params, DEPTHS, naming == "torchvision")
            size = os.path.getsize(path)
            print("%-26s %7d bytes, %d nodes, %d named initializers, LayerNormalization x%d, Softmax x%d"
                  % (name, size, sum(ops.values()), named, ops["LayerNormalization"], ops["Softmax"]))
            if (naming, opset) in KEPT:
                with open(path, "rb") as f:
                    written[name] = f.read()
            else:
                os.remove(path)
    reference = collections.OrderedDict([("logits", swin.f32(logits)), ("features", swin.f32(features))])
    written["onnx_reference.npz"] = npz_bytes(reference)
    with open(os.path.join(args.out, "onnx_reference.npz"), "wb") as f:
        f.write(written["onnx_reference.npz"])
    read = read_npz(written["onnx_reference.npz"])
    assert all(np.array_equal(read[k], v) for k, v in reference.items())
    total = sum(len(v) for v in written.values())
    for name, data in written.items():
        print("%-26s %7d bytes" % (name, len(data)))
    print("%-26s %7d bytes" % ("total", total))
    assert total < MAX_TOTAL_BYTES


if __name__ == "__main__":
    main()
