#!/usr/bin/python3
"""Writes the VPT (Visual Prompt Tuning, Jia et al. ECCV 2022) parity fixtures for the DL4J test-suite.

    /usr/bin/python3 tools/reference/vpt/make_vpt_fixtures.py [--out DIR] [--skip-checks]

Default output: sa2vp-layers/src/test/resources/fixtures/vpt/ (relative to the repository root).

An independent PyTorch VPT written from the VPT paper and its code (KMnP/vpt, src/models/vit_prompt/vit.py:
PromptedTransformer.incorporate_prompt / forward_deep_prompt), on a timm-named ViT: image 16, patch 4 (4x4 grid,
17 tokens), width 24, depth 3, 2 heads, MLP 48, LayerNorm eps 1e-6, exact GELU, class token, P = 3 prompts,
5 classes, batch 3. Three cases on one backbone: VPT-shallow and VPT-deep on the class token (as VPT), and VPT-deep
on timm's mean pooling (global_pool='avg': the final LayerNorm of the mean of the patch tokens, prompts excluded as
prefix tokens). All weights are seeded random values stored float32; every result is computed in float64 from
them, in eval mode (dropout off).

Files:
  backbone.safetensors          frozen ViT, timm names, float32 (read by VitCheckpoint)
  vpt_{shallow,deep,deep_mean}.npz   float64: param/<name> (float32-representable trainables), input [3,3,16,16],
                                labels [3] (class ids as float), logits [3,5], features [3,24], loss [1],
                                grad/<name> = d mean-CE / d param
  vpt_{shallow,deep,deep_mean}.json  the configuration

Trainable names: prompt_embeddings [1,P,D], deep_prompt_embeddings [depth-1,P,D] (deep only), head.weight [C,D],
head.bias [C]. Deterministic: fixed seeds and fixture_io's byte-exact writers.
"""
import argparse
import collections
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from fixture_io import npz_bytes, read_npz, read_safetensors, safetensors_bytes  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "sa2vp-layers", "src", "test", "resources", "fixtures", "vpt")

CONFIG = dict(imageSize=16, patchSize=4, inChannels=3, hiddenSize=24, depth=3, numHeads=2, mlpSize=48,
              layerNormEps=1e-6, numPromptTokens=3, numClasses=5, batch=3)
SEED_BACKBONE, SEED_INPUT = 100, 300
# case: (deep, pooling, seed of the trainables)
CASES = {"shallow": (False, "CLASS_TOKEN", 200), "deep": (True, "CLASS_TOKEN", 201), "deep_mean": (True, "MEAN", 202)}

torch.set_default_dtype(torch.float64)


class Block(nn.Module):
    """timm's pre-LN block: x + proj(MHSA(norm1 x)), x + fc2(GELU(fc1(norm2 x)))."""

    def __init__(self, d, heads, mlp, eps):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(d, 3 * d)
        self.attn.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, mlp)
        self.mlp.fc2 = nn.Linear(mlp, d)

    def forward(self, x):
        b, n, d = x.shape
        h = self.heads
        qkv = self.attn.qkv(self.norm1(x)).reshape(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1) / math.sqrt(d // h)).softmax(-1)
        x = x + self.attn.proj((attn @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class PromptedViT(nn.Module):
    """VPT on a frozen ViT: prompts after the class token, no position embedding; deep replaces them per block."""

    def __init__(self, cfg, deep, pooling="CLASS_TOKEN"):
        super().__init__()
        self.pooling = pooling
        d, p = cfg["hiddenSize"], cfg["patchSize"]
        grid = cfg["imageSize"] // p
        self.deep = deep
        self.num_tokens = cfg["numPromptTokens"]
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(cfg["inChannels"], d, p, stride=p)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + grid * grid, d))
        self.blocks = nn.ModuleList(Block(d, cfg["numHeads"], cfg["mlpSize"], cfg["layerNormEps"])
                                    for _ in range(cfg["depth"]))
        self.norm = nn.LayerNorm(d, eps=cfg["layerNormEps"])
        self.prompt_embeddings = nn.Parameter(torch.zeros(1, self.num_tokens, d))
        if deep:
            self.deep_prompt_embeddings = nn.Parameter(torch.zeros(cfg["depth"] - 1, self.num_tokens, d))
        self.prompt_dropout = nn.Dropout(0.0)
        self.head = nn.Linear(d, cfg["numClasses"])

    def embeddings(self, images):
        x = self.patch_embed.proj(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1)
        return x + self.pos_embed

    def features(self, images):
        x = self.embeddings(images)
        b = x.shape[0]
        x = torch.cat([x[:, :1], self.prompt_dropout(self.prompt_embeddings.expand(b, -1, -1)), x[:, 1:]], 1)
        for i, block in enumerate(self.blocks):
            if self.deep and i > 0:
                deep = self.prompt_dropout(self.deep_prompt_embeddings[i - 1].expand(b, -1, -1))
                x = torch.cat([x[:, :1], deep, x[:, 1 + self.num_tokens:]], 1)
            x = block(x)
        if self.pooling == "MEAN":
            return self.norm(x[:, 1 + self.num_tokens:].mean(1))
        return self.norm(x)[:, 0]

    def forward(self, images):
        return self.head(self.features(images))

    def trainable_names(self):
        return [n for n in ("prompt_embeddings", "deep_prompt_embeddings", "head.weight", "head.bias")
                if n in dict(self.named_parameters())]


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def make_backbone(cfg):
    """timm-named frozen weights, float32-representable: non-degenerate LayerNorms and biases."""
    g = torch.Generator().manual_seed(SEED_BACKBONE)
    model = PromptedViT(cfg, deep=False)
    out = collections.OrderedDict()
    for name, param in model.named_parameters():
        if name.startswith(("prompt", "head")):
            continue
        std = 0.5 if name in ("cls_token", "pos_embed") else (0.1 if name.endswith("bias") else 0.2)
        value = torch.randn(param.shape, generator=g) * std
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
            value = 1.0 + 0.1 * torch.randn(param.shape, generator=g)
        out[name] = f32(value)
    return out


def make_trainables(model, seed):
    g = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    out = collections.OrderedDict()
    for name in model.trainable_names():
        std = 0.5 if "prompt" in name else (0.1 if name.endswith("bias") else 0.3)
        out[name] = f32(torch.randn(params[name].shape, generator=g) * std)
    return out


def build(cfg, deep, backbone, trainables, pooling="CLASS_TOKEN"):
    model = PromptedViT(cfg, deep, pooling).double()
    state = dict(backbone)
    state.update(trainables)
    model.load_state_dict(state, strict=True)
    for name, param in model.named_parameters():
        param.requires_grad_(name in trainables)
    return model.eval()


def make_input(cfg):
    g = torch.Generator().manual_seed(SEED_INPUT)
    x = f32(torch.randn(cfg["batch"], cfg["inChannels"], cfg["imageSize"], cfg["imageSize"], generator=g))
    y = torch.randint(0, cfg["numClasses"], (cfg["batch"],), generator=g)
    return x, y


def run(model, x, y):
    names = model.trainable_names()
    params = dict(model.named_parameters())
    features = model.features(x)
    logits = model.head(features)
    loss = F.cross_entropy(logits, y)
    grads = torch.autograd.grad(loss, [params[n] for n in names])
    res = collections.OrderedDict()
    res["logits"] = logits.detach()
    res["features"] = features.detach()
    res["loss"] = loss.detach().reshape(1)
    for n, gr in zip(names, grads):
        res["grad/" + n] = gr.detach()
    return res


def checks(cfg, backbone, cases, x, y):
    """Finite differences of every trainable gradient; every gradient is non-trivial; the prompts matter; the deep
    prompts matter."""
    for kind, (model, trainables, res) in cases.items():
        params = dict(model.named_parameters())
        for name in model.trainable_names():
            direction = torch.randn(params[name].shape, generator=torch.Generator().manual_seed(7))
            eps = 1e-6
            with torch.no_grad():
                base = params[name].clone()
                params[name].copy_(base + eps * direction)
                up = F.cross_entropy(model(x), y).item()
                params[name].copy_(base - eps * direction)
                down = F.cross_entropy(model(x), y).item()
                params[name].copy_(base)
            numeric = (up - down) / (2 * eps)
            analytic = (res["grad/" + name] * direction).sum().item()
            rel = abs(numeric - analytic) / max(abs(analytic), 1e-12)
            assert rel < 1e-6, (kind, name, numeric, analytic)
            assert res["grad/" + name].abs().max() > 1e-4, (kind, name)
        with torch.no_grad():
            model.prompt_embeddings.zero_()
            changed = (model(x) - res["logits"]).abs().max().item()
            model.prompt_embeddings.copy_(trainables["prompt_embeddings"])
        assert changed > 1e-3, (kind, "prompts do not matter", changed)
        print("%s: loss %.10f, finite differences agree, zeroed prompts move the logits by %.3f"
              % (kind, res["loss"].item(), changed))
    with torch.no_grad():
        shallow = build(cfg, False, backbone,
                        {k: v for k, v in cases["deep"][1].items() if k != "deep_prompt_embeddings"})
        diff = (shallow(x) - cases["deep"][2]["logits"]).abs().max().item()
    assert diff > 1e-3, ("deep prompts do not matter", diff)
    print("deep vs shallow with the same first prompts: max |dlogits| %.3f" % diff)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--skip-checks", action="store_true")
    args = ap.parse_args()
    cfg = CONFIG
    backbone = make_backbone(cfg)
    x, y = make_input(cfg)
    cases = {}
    for kind, (deep, pooling, seed) in CASES.items():
        trainables = make_trainables(PromptedViT(cfg, deep).double(), seed)
        model = build(cfg, deep, backbone, trainables, pooling)
        cases[kind] = (model, trainables, run(model, x, y))
    if not args.skip_checks:
        checks(cfg, backbone, cases, x, y)

    os.makedirs(args.out, exist_ok=True)
    files = {"backbone.safetensors": safetensors_bytes({k: v.numpy() for k, v in backbone.items()})}
    for kind, (model, trainables, res) in cases.items():
        arrays = collections.OrderedDict()
        for name, value in trainables.items():
            arrays["param/" + name] = value.numpy()
        arrays["input"] = x.numpy()
        arrays["labels"] = y.to(torch.float64).numpy()
        for key, value in res.items():
            arrays[key] = value.numpy()
        files["vpt_%s.npz" % kind] = npz_bytes(arrays, dtype="<f8")
        files["vpt_%s.json" % kind] = (json.dumps(dict(cfg, deep=CASES[kind][0], pooling=CASES[kind][1],
                                                       backbone="backbone.safetensors",
                                                       case="vpt_%s.npz" % kind,
                                                       trainables=list(trainables)), indent=2) + "\n").encode()
    for name, data in files.items():
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
    read_back = read_safetensors(files["backbone.safetensors"])
    assert all(np.array_equal(read_back[k], backbone[k].numpy().astype("<f4")) for k in backbone)
    for kind in cases:
        assert set(read_npz(files["vpt_%s.npz" % kind])) >= {"logits", "loss", "input"}
    print("wrote %s (%d bytes)" % (args.out, sum(len(d) for d in files.values())))


if __name__ == "__main__":
    main()
