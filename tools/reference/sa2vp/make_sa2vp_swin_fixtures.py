#!/usr/bin/python3
"""Writes the SA2VP-Swin fixtures for the DL4J test-suite (issue 16, point 3).

    /usr/bin/python3 tools/reference/sa2vp/make_sa2vp_swin_fixtures.py [--out DIR]

Default output: sa2vp-layers/src/test/resources/fixtures/sa2vp-swin/ (relative to the repository root).

An independent implementation of SA2VP on a Swin Transformer, written from the project's notes on the authors'
Swin variant (prompt map on the stage-1 grid through the frozen patch-embedding norm; both streams through every
frozen Swin block and patch merging; interaction only in the third stage, image -> prompt at the listed blocks and
prompt -> image at the others; the clipped c x c window on the whole stage map, ignoring the Swin windows; LayerNorm
eps 1e-6 in the interaction; adapters D -> t -> D without a residual; one head shared by both streams on the pooled
final-norm features; loss lambda CE(image) + (1 - lambda) CE(prompt)), not from the Java code.

- The frozen Swin blocks and patch merging are torchvision 0.14's own modules (`SwinTransformerBlock`,
  `PatchMerging`), loaded from a state dict in Microsoft's original key names (what the authors' checkpoint uses).
- The cross attention and adapter are `sa2vp_reference.cross_attention` (an explicit loop over the queries) and
  `prompt_adapter`, the functions the SA2VP-ViT fixtures use; the cross attention's projections are the block's own
  `attn.qkv` split in three and `attn.proj`, its LayerNorm the block's `norm1` at eps 1e-6.

The configuration is chosen where torchvision's Swin and Microsoft's compute the same function: every stage map is a
multiple of the window and the last one equals it (so the shift is off there in both, and no padding happens).
Image 64 x 64, patch 2 -> 32 x 32, 16 x 16, 8 x 8, 4 x 4 maps; embed 8, depths [2, 2, 7, 2], heads [1, 2, 4, 8],
window 4 (shift 2 on odd blocks), prompt rank 4, adapter width 8, gamma 0.5, local window 3, image -> prompt at
stage-3 blocks {0, 6} (the authors' rule n % 6 == 0 for this depth), lambda 0.8, 10 classes, batch 2. Evaluation mode
(no dropout, no drop-path). Weights are seeded random float32 values; everything is computed in float64 from them.

Files: backbone.safetensors (Microsoft names, with a small stand-in classification head the model ignores),
sa2vp.safetensors (the trainable tensors under the authors' names), input.npy, expected.npz (logits_image,
logits_prompt, loss, and the gradient of the loss for every trainable tensor, under the same names), config.json.
Deterministic: fixed seeds and byte-identical writers (fixture_io).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.swin_transformer import PatchMerging, SwinTransformerBlock

HERE = os.path.dirname(os.path.abspath(__file__))
# First on the path: the building blocks' sa2vp_reference.py one folder up, not this folder's full SA2VP-ViT model.
sys.path.insert(0, os.path.join(HERE, ".."))
import sa2vp_reference as R  # noqa: E402
from fixture_io import npz_bytes, safetensors_bytes  # noqa: E402
from swin_backbone import random_backbone, stage_dims, stage_grids  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "sa2vp-layers", "src", "test", "resources", "fixtures", "sa2vp-swin")

torch.set_default_dtype(torch.float64)

CONFIG = {
    "imageSize": 64, "patchSize": 2, "inChannels": 3, "embedDim": 8, "depths": [2, 2, 7, 2],
    "numHeads": [1, 2, 4, 8], "windowSize": 4, "mlpRatio": 4, "backboneLayerNormEps": 1e-5,
    "promptRank": 4, "adapterSize": 8, "gamma": 0.5, "localWindow": 3, "interactionStage": 2,
    "imageToPromptBlocks": [0, 6], "interactionLayerNormEps": 1e-6, "lambda": 0.8, "numClasses": 10,
    "batch": 2,
}
SEED_BACKBONE, SEED_SA2VP, SEED_INPUT = 5000, 5001, 5002
IGNORED_HEAD_CLASSES = 7


def random_sa2vp(cfg):
    """The trainable tensors under the authors' names, seeded, float32 values."""
    g = torch.Generator().manual_seed(SEED_SA2VP)
    rnd = lambda *shape, scale=0.2: (torch.randn(*shape, generator=g) * scale).float().double()
    grid = stage_grids(cfg)[0]
    e, r, t = cfg["embedDim"], cfg["promptRank"], cfg["adapterSize"]
    d = stage_dims(cfg)[cfg["interactionStage"]]
    p = {
        "patch_embed.deep_ppt": rnd(1, grid * grid, r, scale=1.0),
        "patch_embed.proj_ppt.weight": rnd(e, r, scale=0.5),
        "patch_embed.proj_ppt.bias": rnd(e, scale=0.1),
        "class_head.weight": rnd(cfg["numClasses"], stage_dims(cfg)[-1], scale=0.3),
        "class_head.bias": rnd(cfg["numClasses"], scale=0.1),
    }
    for n in range(cfg["depths"][cfg["interactionStage"]]):
        k = f"layers.{cfg['interactionStage']}.cross_attn.{n}."
        p[k + "ffn_norm.weight"] = 1 + rnd(d, scale=0.1)
        p[k + "ffn_norm.bias"] = rnd(d, scale=0.05)
        p[k + "ffn.fc1.weight"] = rnd(t, d, scale=1 / math.sqrt(d))
        p[k + "ffn.fc1.bias"] = rnd(t, scale=0.1)
        p[k + "ffn.fc2.weight"] = rnd(d, t, scale=1 / math.sqrt(t))
        p[k + "ffn.fc2.bias"] = rnd(d, scale=0.1)
    return p


class FrozenSwin:
    """torchvision's Swin modules holding the backbone state dict (Microsoft names), in evaluation mode."""

    def __init__(self, cfg, weights):
        self.cfg = cfg
        self.weights = weights
        self.stages = []
        w = cfg["windowSize"]
        for i, (depth, d, heads) in enumerate(zip(cfg["depths"], stage_dims(cfg), cfg["numHeads"])):
            blocks = []
            for j in range(depth):
                block = SwinTransformerBlock(d, heads, [w, w], [0, 0] if j % 2 == 0 else [w // 2, w // 2],
                                             mlp_ratio=cfg["mlpRatio"],
                                             norm_layer=lambda n: torch.nn.LayerNorm(n, eps=cfg["backboneLayerNormEps"]))
                k = f"layers.{i}.blocks.{j}."
                block.load_state_dict({
                    "norm1.weight": weights[k + "norm1.weight"], "norm1.bias": weights[k + "norm1.bias"],
                    "attn.relative_position_bias_table": weights[k + "attn.relative_position_bias_table"],
                    "attn.relative_position_index": block.attn.relative_position_index,
                    "attn.qkv.weight": weights[k + "attn.qkv.weight"], "attn.qkv.bias": weights[k + "attn.qkv.bias"],
                    "attn.proj.weight": weights[k + "attn.proj.weight"],
                    "attn.proj.bias": weights[k + "attn.proj.bias"],
                    "norm2.weight": weights[k + "norm2.weight"], "norm2.bias": weights[k + "norm2.bias"],
                    "mlp.0.weight": weights[k + "mlp.fc1.weight"], "mlp.0.bias": weights[k + "mlp.fc1.bias"],
                    "mlp.3.weight": weights[k + "mlp.fc2.weight"], "mlp.3.bias": weights[k + "mlp.fc2.bias"],
                })
                blocks.append(block.double().eval())
            merge = None
            if i < len(cfg["depths"]) - 1:
                merge = PatchMerging(d, norm_layer=lambda n: torch.nn.LayerNorm(n, eps=cfg["backboneLayerNormEps"]))
                k = f"layers.{i}.downsample."
                merge.load_state_dict({"norm.weight": weights[k + "norm.weight"], "norm.bias": weights[k + "norm.bias"],
                                       "reduction.weight": weights[k + "reduction.weight"]})
                merge = merge.double().eval()
            self.stages.append((blocks, merge))
        for blocks, merge in self.stages:
            for m in blocks + ([merge] if merge is not None else []):
                for param in m.parameters():
                    param.requires_grad_(False)

    def patch_embedding(self, images):
        """[B, C, H, W] -> [B, h, w, E]: the patch x patch convolution of stride patch, then the patch-embedding norm."""
        x = F.conv2d(images, self.weights["patch_embed.proj.weight"], self.weights["patch_embed.proj.bias"],
                     stride=self.cfg["patchSize"])
        return self.patch_norm(x.permute(0, 2, 3, 1))

    def patch_norm(self, x):
        return F.layer_norm(x, x.shape[-1:], self.weights["patch_embed.norm.weight"],
                            self.weights["patch_embed.norm.bias"], self.cfg["backboneLayerNormEps"])

    def final_pool(self, x):
        """[B, h, w, D] -> [B, D]: the final norm, then the mean over tokens."""
        x = F.layer_norm(x, x.shape[-1:], self.weights["norm.weight"], self.weights["norm.bias"],
                         self.cfg["backboneLayerNormEps"])
        return x.mean(dim=(1, 2))


def interaction(q, kv, block_index, backbone, trainable, cfg):
    """F = adapter(ffn_norm(q + out(local attention(LN(q) -> Q, LN(kv) -> K, V)))) on token maps [B, h, w, D]."""
    b, h, w, d = q.shape
    stage = cfg["interactionStage"]
    blk = f"layers.{stage}.blocks.{block_index}."
    qkv_w, qkv_b = backbone[blk + "attn.qkv.weight"], backbone[blk + "attn.qkv.bias"]
    params = {
        "norm.weight": backbone[blk + "norm1.weight"], "norm.bias": backbone[blk + "norm1.bias"],
        "q.weight": qkv_w[:d], "q.bias": qkv_b[:d], "k.weight": qkv_w[d:2 * d], "k.bias": qkv_b[d:2 * d],
        "v.weight": qkv_w[2 * d:], "v.bias": qkv_b[2 * d:],
        "out.weight": backbone[blk + "attn.proj.weight"], "out.bias": backbone[blk + "attn.proj.bias"],
    }
    attention_cfg = {"hiddenSize": d, "numHeads": cfg["numHeads"][stage], "windowSize": cfg["localWindow"],
                     "queryGrid": [h, w], "keyGrid": [h, w], "classToken": False, "mode": "local",
                     "layerNormEps": cfg["interactionLayerNormEps"]}
    z = R.cross_attention(q.reshape(b, h * w, d), kv.reshape(b, h * w, d), params, attention_cfg)
    ca = f"layers.{stage}.cross_attn.{block_index}."
    adapter = {"norm.weight": trainable[ca + "ffn_norm.weight"], "norm.bias": trainable[ca + "ffn_norm.bias"],
               "fc1.weight": trainable[ca + "ffn.fc1.weight"], "fc1.bias": trainable[ca + "ffn.fc1.bias"],
               "fc2.weight": trainable[ca + "ffn.fc2.weight"], "fc2.bias": trainable[ca + "ffn.fc2.bias"]}
    out = R.prompt_adapter(z, adapter, {"activation": "gelu", "layerNormEps": cfg["interactionLayerNormEps"]})
    return out.reshape(b, h, w, d)


def forward(images, swin, trainable, cfg):
    """Both streams through the frozen Swin; returns (logits of the image stream, of the prompt stream)."""
    x = swin.patch_embedding(images)                                         # [B, 32, 32, E]
    prompt = F.linear(trainable["patch_embed.deep_ppt"], trainable["patch_embed.proj_ppt.weight"],
                      trainable["patch_embed.proj_ppt.bias"])                 # [1, 1024, E]
    grid = stage_grids(cfg)[0]
    p = swin.patch_norm(prompt).reshape(1, grid, grid, -1).expand(x.shape[0], -1, -1, -1)
    for i, (blocks, merge) in enumerate(swin.stages):
        for j, block in enumerate(blocks):
            if i == cfg["interactionStage"]:
                image_to_prompt = j in cfg["imageToPromptBlocks"]
                fused = interaction(p, x, j, swin.weights, trainable, cfg) if image_to_prompt \
                    else interaction(x, p, j, swin.weights, trainable, cfg)
                x, p = block(x), block(p)
                if image_to_prompt:
                    p = p + cfg["gamma"] * fused
                else:
                    x = x + cfg["gamma"] * fused
            else:
                x, p = block(x), block(p)
        if merge is not None:
            x, p = merge(x), merge(p)
    head_w, head_b = trainable["class_head.weight"], trainable["class_head.bias"]
    return F.linear(swin.final_pool(x), head_w, head_b), F.linear(swin.final_pool(p), head_w, head_b)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=DEFAULT_OUT)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    cfg = CONFIG
    assert cfg["depths"][cfg["interactionStage"]] == 7 and all(g % cfg["windowSize"] == 0 for g in stage_grids(cfg))
    assert stage_grids(cfg)[-1] == cfg["windowSize"], "the last map equals the window: no shift, as Microsoft's"

    backbone = random_backbone(cfg, SEED_BACKBONE, IGNORED_HEAD_CLASSES)
    trainable = {k: v.clone().requires_grad_(True) for k, v in random_sa2vp(cfg).items()}
    g = torch.Generator().manual_seed(SEED_INPUT)
    images = torch.randn(cfg["batch"], cfg["inChannels"], cfg["imageSize"], cfg["imageSize"], generator=g).float() \
        .double()
    labels = torch.tensor([3, 7])

    swin = FrozenSwin(cfg, backbone)
    logits_image, logits_prompt = forward(images, swin, trainable, cfg)
    loss = cfg["lambda"] * F.cross_entropy(logits_image, labels) \
        + (1 - cfg["lambda"]) * F.cross_entropy(logits_prompt, labels)
    loss.backward()

    # A second, differently built check of the plain backbone: torchvision's whole SwinTransformer with the same
    # weights gives the same pooled features as the blocks above on the image stream without interaction.
    from torchvision.models.swin_transformer import SwinTransformer
    whole = SwinTransformer([cfg["patchSize"]] * 2, cfg["embedDim"], cfg["depths"], cfg["numHeads"],
                            [cfg["windowSize"]] * 2, num_classes=IGNORED_HEAD_CLASSES,
                            norm_layer=lambda n: torch.nn.LayerNorm(n, eps=cfg["backboneLayerNormEps"])).double().eval()
    tv = {"features.0.0.weight": backbone["patch_embed.proj.weight"],
          "features.0.0.bias": backbone["patch_embed.proj.bias"],
          "features.0.2.weight": backbone["patch_embed.norm.weight"],
          "features.0.2.bias": backbone["patch_embed.norm.bias"],
          "norm.weight": backbone["norm.weight"], "norm.bias": backbone["norm.bias"],
          "head.weight": backbone["head.weight"], "head.bias": backbone["head.bias"]}
    for i, (blocks, merge) in enumerate(swin.stages):
        for j, block in enumerate(blocks):
            for name, value in block.state_dict().items():
                tv[f"features.{2 * i + 1}.{j}.{name}"] = value
        if merge is not None:
            for name, value in merge.state_dict().items():
                tv[f"features.{2 * i + 2}.{name}"] = value
    whole.load_state_dict(tv)
    x = swin.patch_embedding(images)
    for blocks, merge in swin.stages:
        for block in blocks:
            x = block(x)
        if merge is not None:
            x = merge(x)
    assert torch.allclose(whole(images), F.linear(swin.final_pool(x), backbone["head.weight"], backbone["head.bias"]),
                          atol=1e-12)

    def f32(t):
        return t.detach().numpy().astype(np.float32)

    expected = {"logits_image": logits_image, "logits_prompt": logits_prompt, "loss": loss.reshape(1)}
    expected.update({"grad/" + k: v.grad for k, v in trainable.items()})
    with open(os.path.join(out, "backbone.safetensors"), "wb") as f:
        f.write(safetensors_bytes({k: f32(v) for k, v in backbone.items()}))
    with open(os.path.join(out, "sa2vp.safetensors"), "wb") as f:
        f.write(safetensors_bytes({k: f32(v) for k, v in trainable.items()}))
    with open(os.path.join(out, "input.npz"), "wb") as f:
        f.write(npz_bytes({"images": f32(images), "labels": labels.numpy().astype(np.float32)}))
    with open(os.path.join(out, "expected.npz"), "wb") as f:
        f.write(npz_bytes({k: v.detach().numpy() for k, v in expected.items()}, dtype="<f8"))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
        f.write("\n")
    print("loss %.6f, logits_image[0,:3] %s, %d trainable tensors (%d values)" % (
        loss.item(), logits_image[0, :3].detach().numpy(), len(trainable),
        sum(v.numel() for v in trainable.values())))


if __name__ == "__main__":
    main()
