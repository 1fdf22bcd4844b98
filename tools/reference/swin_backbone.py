"""A seeded random Swin backbone under Microsoft's names, shared by the fixture generators of the methods on a Swin
(vpt/make_vpt_swin_fixtures.py, sa2vp/make_sa2vp_swin_fixtures.py).

The configuration is a fixture's dictionary: embedDim, depths, numHeads, windowSize, imageSize, patchSize,
inChannels; the MLP is 4 times as wide as its stage (mlpRatio 4) and patch merging ends every stage but the last.
"""
import math

import torch


def stage_dims(cfg):
    """The width of every stage: embedDim doubled at each patch merging."""
    return [cfg["embedDim"] * 2 ** i for i in range(len(cfg["depths"]))]


def stage_grids(cfg):
    """The side of every stage's square map: imageSize / patchSize halved at each patch merging."""
    first = cfg["imageSize"] // cfg["patchSize"]
    return [first // 2 ** i for i in range(len(cfg["depths"]))]


def random_backbone(cfg, seed, head_classes):
    """Every backbone tensor (float64) under Microsoft's names with a stand-in head of head_classes outputs, drawn
    from torch.Generator(seed) in name order; each draw rounded to float32 (a LayerNorm weight 1 + draw need not be)."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *shape, scale=0.2: (torch.randn(*shape, generator=g) * scale).float().double()
    norm = lambda n: (1 + rnd(n, scale=0.1), rnd(n, scale=0.05))
    p = {}
    dims = stage_dims(cfg)
    patch, c, e = cfg["patchSize"], cfg["inChannels"], cfg["embedDim"]
    p["patch_embed.proj.weight"] = rnd(e, c, patch, patch, scale=0.3)
    p["patch_embed.proj.bias"] = rnd(e, scale=0.1)
    p["patch_embed.norm.weight"], p["patch_embed.norm.bias"] = norm(e)
    w = cfg["windowSize"]
    for i, (depth, d, heads) in enumerate(zip(cfg["depths"], dims, cfg["numHeads"])):
        for j in range(depth):
            k = f"layers.{i}.blocks.{j}."
            p[k + "norm1.weight"], p[k + "norm1.bias"] = norm(d)
            p[k + "attn.relative_position_bias_table"] = rnd((2 * w - 1) ** 2, heads, scale=0.5)
            p[k + "attn.qkv.weight"] = rnd(3 * d, d, scale=1 / math.sqrt(d))
            p[k + "attn.qkv.bias"] = rnd(3 * d, scale=0.1)
            p[k + "attn.proj.weight"] = rnd(d, d, scale=1 / math.sqrt(d))
            p[k + "attn.proj.bias"] = rnd(d, scale=0.1)
            p[k + "norm2.weight"], p[k + "norm2.bias"] = norm(d)
            p[k + "mlp.fc1.weight"] = rnd(4 * d, d, scale=1 / math.sqrt(d))
            p[k + "mlp.fc1.bias"] = rnd(4 * d, scale=0.1)
            p[k + "mlp.fc2.weight"] = rnd(d, 4 * d, scale=1 / math.sqrt(4 * d))
            p[k + "mlp.fc2.bias"] = rnd(d, scale=0.1)
        if i < len(cfg["depths"]) - 1:
            k = f"layers.{i}.downsample."
            p[k + "norm.weight"], p[k + "norm.bias"] = norm(4 * d)
            p[k + "reduction.weight"] = rnd(2 * d, 4 * d, scale=1 / math.sqrt(4 * d))
    p["norm.weight"], p["norm.bias"] = norm(dims[-1])
    p["head.weight"] = rnd(head_classes, dims[-1])
    p["head.bias"] = rnd(head_classes)
    return p
