#!/usr/bin/python3
"""Writes the VPT-Swin fixtures for the DL4J test-suite (issue 16, point 4).

    /usr/bin/python3 tools/reference/vpt/make_vpt_swin_fixtures.py [--out DIR] [--skip-checks]

Default output: sa2vp-layers/src/test/resources/fixtures/vpt-swin/ (relative to the repository root).

An independent PyTorch VPT on a Swin Transformer, written from the description of the VPT authors' prompted Swin
(KMnP/vpt, src/models/vit_prompt/swin_transformer.py) in docs/AUTHORS-CODE.md-style notes, not from the Java code:

- P prompts are prepended to the patch-embedded map (the Swin has no class token); no position embedding.
- In every block the whole sequence goes through norm1; the normalised prompts are put in front of every window of
  their image; the window attention gives prompt-prompt and prompt-token pairs neither relative position bias nor
  shift mask; after the output projection each prompt's output is the mean over its image's windows; residuals,
  norm2 and the MLP treat prompts as tokens.
- Patch merging repeats each prompt four times along the channels, then the same LayerNorm and reduction.
- VPT-deep: a new set replaces the prompt positions before every block but the first of stage 0 (that one uses the
  inserted set); VPT-shallow: the inserted set travels through everything.
- Features: the final LayerNorm over prompts and map, mean over all tokens; a new linear head; mean cross-entropy.

Per image, as the authors' code computes at batch size 1 (their window-major prompt layout mixes images at larger
batches; see org.sa2vp.baseline.VptSwinModel). Microsoft's Swin layout (patch merging at the end of a stage, no
padding), on maps that are multiples of the window with a last map of one window, where it equals torchvision's.

Self-checks: with P = 0 the hand-written block and patch merging equal torchvision 0.14's SwinTransformerBlock and
PatchMerging; a central finite difference along a random direction matches every trainable gradient; each image's
logits do not depend on the rest of the batch; the prompts matter.

Files: backbone.safetensors (Microsoft names, float32, with a stand-in head the model ignores), <case>.npz (float64:
param/<name>, input, labels, logits, loss, grad/<name>), <case>.json (the configuration).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.swin_transformer import PatchMerging, SwinTransformerBlock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from fixture_io import npz_bytes, safetensors_bytes  # noqa: E402
from swin_backbone import random_backbone, stage_dims, stage_grids  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "sa2vp-layers", "src", "test", "resources", "fixtures", "vpt-swin")

torch.set_default_dtype(torch.float64)

CONFIG = {"imageSize": 32, "patchSize": 2, "inChannels": 3, "embedDim": 8, "depths": [2, 2, 2],
          "numHeads": [1, 2, 2], "windowSize": 4, "mlpRatio": 4, "layerNormEps": 1e-5, "numPromptTokens": 3,
          "numClasses": 5, "batch": 2}
SEED_BACKBONE, SEED_TRAINABLE, SEED_INPUT = 6000, 6001, 6002
IGNORED_HEAD_CLASSES = 7


def rounded(t):
    return t.float().double()


def make_backbone(cfg):
    # float32 values (1 + a rounded value need not be one): the file holds exactly what the reference computes with
    return {k: rounded(v) for k, v in random_backbone(cfg, SEED_BACKBONE, IGNORED_HEAD_CLASSES).items()}


def make_trainables(cfg, deep):
    """VPT's tensors under its names: prompt_embeddings [1, P, D0], deep_prompt_embeddings_s, the new head."""
    g = torch.Generator().manual_seed(SEED_TRAINABLE)
    rnd = lambda *shape, scale: rounded(torch.randn(*shape, generator=g) * scale)
    n = cfg["numPromptTokens"]
    t = {"prompt_embeddings": rnd(1, n, cfg["embedDim"], scale=0.5)}
    if deep:
        for s, (depth, d) in enumerate(zip(cfg["depths"], stage_dims(cfg))):
            t[f"deep_prompt_embeddings_{s}"] = rnd(depth - 1 if s == 0 else depth, n, d, scale=0.5)
    t["head.weight"] = rnd(cfg["numClasses"], stage_dims(cfg)[-1], scale=0.3)
    t["head.bias"] = rnd(cfg["numClasses"], scale=0.1)
    return t


def relative_index(w):
    ys, xs = torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")
    ys, xs = ys.flatten(), xs.flatten()
    return (ys[:, None] - ys[None, :] + w - 1) * (2 * w - 1) + (xs[:, None] - xs[None, :] + w - 1)


def region_mask(size, w, shift):
    """[nW, N, N]: -100 between tokens of different regions of the rolled map, 0 otherwise (Microsoft's rule)."""
    labels = torch.zeros(size, size)
    count = 0
    for hs in (slice(0, -w), slice(-w, -shift), slice(-shift, None)):
        for ws in (slice(0, -w), slice(-w, -shift), slice(-shift, None)):
            labels[hs, ws] = count
            count += 1
    windows = labels.reshape(size // w, w, size // w, w).permute(0, 2, 1, 3).reshape(-1, w * w)
    return (windows[:, None, :] != windows[:, :, None]).double() * -100.0


def prompted_block(x, p, k, num_prompts, heads, w, shift, size, eps):
    """x [B, P + size², C] -> same; the prompts join every window of their image."""
    b, _, c = x.shape
    n, nw = w * w, (size // w) ** 2
    h = F.layer_norm(x, (c,), p[k + "norm1.weight"], p[k + "norm1.bias"], eps)
    prompts, grid = h[:, :num_prompts], h[:, num_prompts:].reshape(b, size, size, c)
    if shift:
        grid = torch.roll(grid, (-shift, -shift), (1, 2))
    windows = grid.reshape(b, size // w, w, size // w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(b, nw, n, c)
    seq = torch.cat([prompts[:, None].expand(b, nw, num_prompts, c), windows], 2).reshape(b * nw, num_prompts + n, c)
    m = num_prompts + n
    qkv = F.linear(seq, p[k + "attn.qkv.weight"], p[k + "attn.qkv.bias"]).reshape(b * nw, m, 3, heads, c // heads)
    q, kk, v = qkv.permute(2, 0, 3, 1, 4)
    scores = (q * (c // heads) ** -0.5) @ kk.transpose(-2, -1)                          # [B·nW, H, M, M]
    bias = torch.zeros(heads, m, m)
    table = p[k + "attn.relative_position_bias_table"]
    bias[:, num_prompts:, num_prompts:] = table[relative_index(w).flatten()].reshape(n, n, heads).permute(2, 0, 1)
    scores = scores + bias
    if shift:
        mask = torch.zeros(nw, m, m)
        mask[:, num_prompts:, num_prompts:] = region_mask(size, w, shift)
        scores = (scores.reshape(b, nw, heads, m, m) + mask[None, :, None]).reshape(b * nw, heads, m, m)
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b * nw, m, c)
    out = F.linear(out, p[k + "attn.proj.weight"], p[k + "attn.proj.bias"]).reshape(b, nw, m, c)
    prompt_out = out[:, :, :num_prompts].mean(1)
    grid_out = out[:, :, num_prompts:].reshape(b, size // w, size // w, w, w, c).permute(0, 1, 3, 2, 4, 5) \
        .reshape(b, size, size, c)
    if shift:
        grid_out = torch.roll(grid_out, (shift, shift), (1, 2))
    x = x + torch.cat([prompt_out, grid_out.reshape(b, size * size, c)], 1)
    hidden = F.gelu(F.linear(F.layer_norm(x, (c,), p[k + "norm2.weight"], p[k + "norm2.bias"], eps),
                             p[k + "mlp.fc1.weight"], p[k + "mlp.fc1.bias"]))
    return x + F.linear(hidden, p[k + "mlp.fc2.weight"], p[k + "mlp.fc2.bias"])


def prompted_merge(x, p, k, num_prompts, size, eps):
    """x [B, P + size², C] -> [B, P + (size/2)², 2C]; prompts repeated 4x along channels."""
    b, _, c = x.shape
    prompts, grid = x[:, :num_prompts], x[:, num_prompts:].reshape(b, size, size, c)
    merged = torch.cat([grid[:, 0::2, 0::2], grid[:, 1::2, 0::2], grid[:, 0::2, 1::2], grid[:, 1::2, 1::2]], -1)
    merged = torch.cat([prompts.repeat(1, 1, 4), merged.reshape(b, -1, 4 * c)], 1)
    merged = F.layer_norm(merged, (4 * c,), p[k + "norm.weight"], p[k + "norm.bias"], eps)
    return F.linear(merged, p[k + "reduction.weight"])


def forward(cfg, backbone, trainables, deep, images):
    p, eps, n, w = backbone, cfg["layerNormEps"], cfg["numPromptTokens"], cfg["windowSize"]
    b = images.shape[0]
    x = F.conv2d(images, p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=cfg["patchSize"])
    x = F.layer_norm(x.flatten(2).transpose(1, 2), (cfg["embedDim"],), p["patch_embed.norm.weight"],
                     p["patch_embed.norm.bias"], eps)
    x = torch.cat([trainables["prompt_embeddings"].expand(b, -1, -1), x], 1)
    stages = len(cfg["depths"])
    for s, (depth, heads, size) in enumerate(zip(cfg["depths"], cfg["numHeads"], stage_grids(cfg))):
        for j in range(depth):
            if deep and (s > 0 or j > 0):
                fresh = trainables[f"deep_prompt_embeddings_{s}"][j - 1 if s == 0 else j]
                x = torch.cat([fresh.expand(b, -1, -1), x[:, n:]], 1)
            shift = 0 if (j % 2 == 0 or size <= w) else w // 2
            x = prompted_block(x, p, f"layers.{s}.blocks.{j}.", n, heads, w, shift, size, eps)
        if s < stages - 1:
            x = prompted_merge(x, p, f"layers.{s}.downsample.", n, size, eps)
    features = F.layer_norm(x, (x.shape[-1],), p["norm.weight"], p["norm.bias"], eps).mean(1)
    return F.linear(features, trainables["head.weight"], trainables["head.bias"])


def check_against_torchvision(cfg, backbone):
    """With no prompts the hand-written block and merging are torchvision's."""
    g = torch.Generator().manual_seed(1)
    w, eps = cfg["windowSize"], cfg["layerNormEps"]
    d, heads, size = stage_dims(cfg)[0], cfg["numHeads"][0], stage_grids(cfg)[0]
    for j in range(2):
        k = f"layers.0.blocks.{j}."
        block = SwinTransformerBlock(d, heads, [w, w], [0, 0] if j == 0 else [w // 2, w // 2],
                                     norm_layer=lambda c: torch.nn.LayerNorm(c, eps=eps)).double().eval()
        block.load_state_dict({
            "norm1.weight": backbone[k + "norm1.weight"], "norm1.bias": backbone[k + "norm1.bias"],
            "attn.relative_position_bias_table": backbone[k + "attn.relative_position_bias_table"],
            "attn.relative_position_index": block.attn.relative_position_index,
            "attn.qkv.weight": backbone[k + "attn.qkv.weight"], "attn.qkv.bias": backbone[k + "attn.qkv.bias"],
            "attn.proj.weight": backbone[k + "attn.proj.weight"], "attn.proj.bias": backbone[k + "attn.proj.bias"],
            "norm2.weight": backbone[k + "norm2.weight"], "norm2.bias": backbone[k + "norm2.bias"],
            "mlp.0.weight": backbone[k + "mlp.fc1.weight"], "mlp.0.bias": backbone[k + "mlp.fc1.bias"],
            "mlp.3.weight": backbone[k + "mlp.fc2.weight"], "mlp.3.bias": backbone[k + "mlp.fc2.bias"]})
        x = torch.randn(2, size, size, d, generator=g)
        ours = prompted_block(x.reshape(2, -1, d), backbone, k, 0, heads, w, 0 if j == 0 else w // 2, size, eps)
        assert torch.allclose(ours, block(x).reshape(2, -1, d), atol=1e-12), "block %d differs from torchvision" % j
    merge = PatchMerging(d, norm_layer=lambda c: torch.nn.LayerNorm(c, eps=eps)).double().eval()
    k = "layers.0.downsample."
    merge.load_state_dict({"norm.weight": backbone[k + "norm.weight"], "norm.bias": backbone[k + "norm.bias"],
                           "reduction.weight": backbone[k + "reduction.weight"]})
    x = torch.randn(2, size, size, d, generator=g)
    assert torch.allclose(prompted_merge(x.reshape(2, -1, d), backbone, k, 0, size, eps),
                          merge(x).reshape(2, -1, 2 * d), atol=1e-12), "patch merging differs from torchvision"


def run_case(cfg, backbone, deep, images, labels, skip_checks):
    trainables = {k: v.clone().requires_grad_(True) for k, v in make_trainables(cfg, deep).items()}
    logits = forward(cfg, backbone, trainables, deep, images)
    loss = F.cross_entropy(logits, labels)
    grads = torch.autograd.grad(loss, list(trainables.values()))
    grads = dict(zip(trainables.keys(), grads))
    if not skip_checks:
        g = torch.Generator().manual_seed(7)
        direction = {k: torch.randn(v.shape, generator=g) for k, v in trainables.items()}
        h = 1e-6
        with torch.no_grad():
            plus = F.cross_entropy(forward(cfg, backbone, {k: v + h * direction[k] for k, v in trainables.items()},
                                           deep, images), labels)
            minus = F.cross_entropy(forward(cfg, backbone, {k: v - h * direction[k] for k, v in trainables.items()},
                                            deep, images), labels)
        numeric = (plus - minus) / (2 * h)
        analytic = sum((grads[k] * direction[k]).sum() for k in trainables)
        assert abs(numeric - analytic) <= 1e-6 * abs(analytic), (numeric, analytic)
        assert all(v.abs().max() > 1e-8 for v in grads.values())
        with torch.no_grad():
            alone = forward(cfg, backbone, trainables, deep, images[1:])
            assert torch.allclose(alone, logits[1:], atol=1e-12), "an image's logits depend on its batch"
            zeroed = dict(trainables)
            zeroed["prompt_embeddings"] = torch.zeros_like(trainables["prompt_embeddings"])
            moved = (forward(cfg, backbone, zeroed, deep, images) - logits).abs().max().item()
            assert moved > 1e-3, moved
            print("  prompts matter: zeroing the first set moves the logits by %.3f" % moved)
    return trainables, logits, loss, grads


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--skip-checks", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cfg = CONFIG
    assert all(s % cfg["windowSize"] == 0 for s in stage_grids(cfg)) and stage_grids(cfg)[-1] == cfg["windowSize"]
    backbone = make_backbone(cfg)
    if not args.skip_checks:
        check_against_torchvision(cfg, backbone)
    g = torch.Generator().manual_seed(SEED_INPUT)
    images = rounded(torch.randn(cfg["batch"], cfg["inChannels"], cfg["imageSize"], cfg["imageSize"], generator=g))
    labels = torch.tensor([1, 3])
    with open(os.path.join(args.out, "backbone.safetensors"), "wb") as f:
        f.write(safetensors_bytes({k: v.numpy().astype(np.float32) for k, v in backbone.items()}))
    for case, deep in (("vpt_swin_deep", True), ("vpt_swin_shallow", False)):
        trainables, logits, loss, grads = run_case(cfg, backbone, deep, images, labels, args.skip_checks)
        arrays = {"param/" + k: v.detach().numpy() for k, v in trainables.items()}
        arrays.update({"input": images.numpy(), "labels": labels.double().numpy(),
                       "logits": logits.detach().numpy(), "loss": loss.detach().reshape(1).numpy()})
        arrays.update({"grad/" + k: v.numpy() for k, v in grads.items()})
        with open(os.path.join(args.out, case + ".npz"), "wb") as f:
            f.write(npz_bytes(arrays, dtype="<f8"))
        with open(os.path.join(args.out, case + ".json"), "w") as f:
            json.dump(dict(cfg, case=case + ".npz", deep=deep, backbone="backbone.safetensors"), f, indent=1)
            f.write("\n")
        print("%s: loss %.10f, logits[0] %s" % (case, loss.item(), logits[0].detach().numpy()))


if __name__ == "__main__":
    main()
