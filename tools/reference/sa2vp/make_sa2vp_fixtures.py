#!/usr/bin/python3
"""Writes the full-model SA2VP-ViT fixtures for the DL4J test-suite.

    /usr/bin/python3 tools/reference/sa2vp/make_sa2vp_fixtures.py [--out DIR] [--skip-checks]

Default output: sa2vp-layers/src/test/resources/fixtures/sa2vp/ (relative to the repository root).

A tiny SA2VP-ViT (image 40x40, patch 8 -> 5x5 grid + class token = 26 tokens, D = 32, depth 12, 2 heads,
MLP 64, r = 4, adapter t = 8, gamma 0.5, lambda 0.8, c = 3, 10 classes) with the authors' default layer sets
({0,4,8} image->prompt, deep maps at {4,8}), plus a "variants" case (image->prompt {1,6}, one deep map at
layer 3, c = 5, ReLU adapter, lambda 1.0) on the same backbone. All weights are seeded random values,
stored float32; every result is computed in float64 from the float32 values (upcast), in eval mode.

Deterministic: fixed seeds, fixed zip timestamps, canonical safetensors header -> byte-identical reruns.
See README.md next to this script.
"""
import argparse
import collections
import copy
import fnmatch
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.append(os.path.join(HERE, ".."))  # fixture_io; after HERE: ../sa2vp_reference.py is another module
import sa2vp_reference as R  # noqa: E402
from fixture_io import npz_bytes, read_npz, read_safetensors, safetensors_bytes  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "sa2vp-layers", "src", "test", "resources", "fixtures", "sa2vp")

BATCH = 2
SEED_BACKBONE = 1000
SEED_PARAMS = 2000
SEED_PARAMS_VARIANTS = 3000
SEED_INPUT = 4000
SEED_INPUT_VARIANTS = 4001
IGNORED_HEAD_CLASSES = 21          # a small stand-in for the 21843-class head/* in the real checkpoint

CONFIG = R.make_config(
    imageSize=40, patchSize=8, inChannels=3, hiddenSize=32, depth=12, numHeads=2, mlpSize=64,
    promptRank=4, adapterSize=8, adapterActivation="gelu", gamma=0.5, windowSize=3,
    imageToPromptLayers=[0, 4, 8], deepPromptLayers=[4, 8], numClasses=10, layerNormEps=1e-6,
    dropout=0.1, attentionDropout=0.0, crossAttentionDropout=0.1, adapterDropout=0.1,
    **{"lambda": 0.8})
CONFIG_VARIANTS = dict(copy.deepcopy(CONFIG), imageToPromptLayers=[1, 6], deepPromptLayers=[3], windowSize=5,
                       adapterActivation="relu", **{"lambda": 1.0})
R.validate_config(CONFIG_VARIANTS)

torch.set_default_dtype(torch.float64)


# ----------------------------------------------------------------------------------------------------------
# random parameters
# ----------------------------------------------------------------------------------------------------------

class Gen:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def normal(self, shape, std=1.0, mean=0.0):
        """float64 draw, rounded to float32 (what is stored), returned as float32 numpy."""
        t = mean + std * torch.randn(*shape, generator=self.g, dtype=torch.float64)
        return t.numpy().astype("<f4")


def make_google_backbone(cfg, seed):
    """Frozen backbone directly in Google's ViT .npz layout (kernels [in, out], attention kernels per head,
    patch kernel HWIO), float32, keys sorted. Includes small pre_logits/* and head/* arrays that a loader
    must ignore (the real imagenet21k checkpoint has them)."""
    g = Gen(seed)
    d, h, m = cfg["hiddenSize"], cfg["numHeads"], cfg["mlpSize"]
    dh = d // h
    p = cfg["patchSize"]
    gh, gw = R.grid_of(cfg)
    out = {}
    out["embedding/kernel"] = g.normal((p, p, cfg["inChannels"], d), 0.05)
    out["embedding/bias"] = g.normal((d,), 0.1)
    out["cls"] = g.normal((1, 1, d), 0.5)
    out["Transformer/posembed_input/pos_embedding"] = g.normal((1, 1 + gh * gw, d), 0.5)
    for n in range(cfg["depth"]):
        t = "Transformer/encoderblock_%d/" % n
        a = t + "MultiHeadDotProductAttention_1/"
        out[t + "LayerNorm_0/scale"] = g.normal((d,), 0.1, 1.0)
        out[t + "LayerNorm_0/bias"] = g.normal((d,), 0.1)
        for s in ("query", "key", "value"):
            out[a + s + "/kernel"] = g.normal((d, h, dh), 0.2)
            out[a + s + "/bias"] = g.normal((h, dh), 0.1)
        out[a + "out/kernel"] = g.normal((h, dh, d), 0.1)
        out[a + "out/bias"] = g.normal((d,), 0.1)
        out[t + "LayerNorm_2/scale"] = g.normal((d,), 0.1, 1.0)
        out[t + "LayerNorm_2/bias"] = g.normal((d,), 0.1)
        out[t + "MlpBlock_3/Dense_0/kernel"] = g.normal((d, m), 0.1)
        out[t + "MlpBlock_3/Dense_0/bias"] = g.normal((m,), 0.1)
        out[t + "MlpBlock_3/Dense_1/kernel"] = g.normal((m, d), 0.1)
        out[t + "MlpBlock_3/Dense_1/bias"] = g.normal((d,), 0.1)
    out["Transformer/encoder_norm/scale"] = g.normal((d,), 0.1, 1.0)
    out["Transformer/encoder_norm/bias"] = g.normal((d,), 0.1)
    out["pre_logits/kernel"] = g.normal((d, d), 0.1)
    out["pre_logits/bias"] = g.normal((d,), 0.1)
    out["head/kernel"] = g.normal((d, IGNORED_HEAD_CLASSES), 0.1)
    out["head/bias"] = g.normal((IGNORED_HEAD_CLASSES,), 0.1)
    return collections.OrderedDict(sorted(out.items()))


# standard deviations of the trainable tensors (all non-degenerate, so every tensor matters)
TRAINABLE_STD = {
    "embeddings.ppt": 0.5,
    "embeddings.ppt_proj.weight": 0.3,
    "encoder.cross_conv": 0.5,
    "encoder.deep_ppt": 0.5,
    "deep_proj.*.weight": 0.3,
    "ffn.fc1.weight": 0.2,
    "ffn.fc2.weight": 0.2,
    "class_head.weight": 0.2,
}


def make_trainables(cfg, seed):
    """Every trainable tensor under its authors' name, float32. LayerNorm (ffn_norm) weights 1 + N(0, .1),
    biases N(0, .1), everything else N(0, s) with s from TRAINABLE_STD."""
    g = Gen(seed)
    out = collections.OrderedDict()
    for name, shape in ((n, R.expected_shapes(cfg)[n]) for n in R.expected_trainable_names(cfg)):
        if name.endswith("ffn_norm.weight"):
            out[name] = g.normal(shape, 0.1, 1.0)
        elif name.endswith(".bias"):
            out[name] = g.normal(shape, 0.1)
        else:
            std = [s for k, s in TRAINABLE_STD.items() if fnmatch.fnmatchcase(name, "*" + k)]
            assert len(std) == 1, name
            out[name] = g.normal(shape, std[0])
    return out


def make_input(cfg, seed, batch=BATCH):
    g = torch.Generator().manual_seed(seed)
    h, w = R._pair(cfg["imageSize"])
    x = torch.randn(batch, cfg["inChannels"], h, w, generator=g, dtype=torch.float64)
    x = x.to(torch.float32).to(torch.float64)               # float32-representable
    y = torch.randint(0, cfg["numClasses"], (batch,), generator=g)
    return x, y


# ----------------------------------------------------------------------------------------------------------
# building, running
# ----------------------------------------------------------------------------------------------------------

def build(cfg, backbone, trainables, impl="vectorised"):
    m = R.SA2VPViT(cfg).double()
    m.load_from(backbone)                 # float32 arrays -> float64 (exact upcast)
    m.load_trainable(trainables)
    m.set_attention_impl(impl)
    m.eval()
    return m


def run_case(model, x, y):
    """Returns dict of float64 tensors: logits, features, loss, and grads of every trainable tensor."""
    names = model.trainable_names()
    params = dict(model.named_parameters())
    model.zero_grad(set_to_none=True)
    f_img, f_prm = model.features(x)
    li, lp = model.class_head(f_img), model.class_head(f_prm)
    ce = torch.nn.functional.cross_entropy
    loss = model.loss(li, lp, y)
    grads = torch.autograd.grad(loss, [params[n] for n in names])
    res = collections.OrderedDict()
    res["logits_img"] = li.detach()
    res["logits_prm"] = lp.detach()
    res["loss"] = loss.detach().reshape(1)
    res["features_img"] = f_img.detach()
    res["features_prm"] = f_prm.detach()
    res["loss_img"] = ce(li, y).detach().reshape(1)
    res["loss_prm"] = ce(lp, y).detach().reshape(1)
    for n, gr in zip(names, grads):
        res["grad/" + n] = gr.detach()
    return res


def loss_only(model, x, y):
    with torch.no_grad():
        li, lp = model(x)
        return model.loss(li, lp, y).item()


# ----------------------------------------------------------------------------------------------------------
# writers / readers
# ----------------------------------------------------------------------------------------------------------

def json_text(obj):
    return (json.dumps(obj, indent=2) + "\n").encode("utf-8")


# ----------------------------------------------------------------------------------------------------------
# independent checks
# ----------------------------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])


def numpy_plain_vit_logits(g, x_nchw, head_w, head_b, heads, eps):
    """Plain ViT forward written from the GOOGLE layout in numpy float64 (NHWC patches, per-head einsums):
    head(encoder_norm(X_L)[:, 0]). Equals SA2VP's logits_img when gamma = 0 (no fusion into X)."""
    g = {k: np.asarray(v, dtype=np.float64) for k, v in g.items()}
    x = np.asarray(x_nchw, dtype=np.float64).transpose(0, 2, 3, 1)
    b, hh, ww, c = x.shape
    kh, kw, _, d = g["embedding/kernel"].shape
    gh, gw = hh // kh, ww // kw
    pt = x.reshape(b, gh, kh, gw, kw, c).transpose(0, 1, 3, 2, 4, 5)
    tok = np.einsum("bijpqc,pqco->bijo", pt, g["embedding/kernel"]).reshape(b, gh * gw, d) + g["embedding/bias"]
    h = np.concatenate([np.broadcast_to(g["cls"], (b, 1, d)), tok], 1) + g["Transformer/posembed_input/pos_embedding"]

    def ln(z, s, bb):
        mu = z.mean(-1, keepdims=True)
        return (z - mu) / np.sqrt(((z - mu) ** 2).mean(-1, keepdims=True) + eps) * s + bb

    n = 0
    while "Transformer/encoderblock_%d/LayerNorm_0/scale" % n in g:
        t = "Transformer/encoderblock_%d/" % n
        a = t + "MultiHeadDotProductAttention_1/"
        y = ln(h, g[t + "LayerNorm_0/scale"], g[t + "LayerNorm_0/bias"])
        q = np.einsum("bnd,dhk->bnhk", y, g[a + "query/kernel"]) + g[a + "query/bias"]
        k = np.einsum("bnd,dhk->bnhk", y, g[a + "key/kernel"]) + g[a + "key/bias"]
        v = np.einsum("bnd,dhk->bnhk", y, g[a + "value/kernel"]) + g[a + "value/bias"]
        lg = np.einsum("bnhk,bmhk->bhnm", q, k) / np.sqrt(q.shape[-1])
        p = np.exp(lg - lg.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        o = np.einsum("bhnm,bmhk->bnhk", p, v)
        h = h + np.einsum("bnhk,hkd->bnd", o, g[a + "out/kernel"]) + g[a + "out/bias"]
        y = ln(h, g[t + "LayerNorm_2/scale"], g[t + "LayerNorm_2/bias"])
        y = y @ g[t + "MlpBlock_3/Dense_0/kernel"] + g[t + "MlpBlock_3/Dense_0/bias"]
        y = 0.5 * y * (1.0 + _erf(y / math.sqrt(2.0)))
        h = h + y @ g[t + "MlpBlock_3/Dense_1/kernel"] + g[t + "MlpBlock_3/Dense_1/bias"]
        n += 1
    h = ln(h, g["Transformer/encoder_norm/scale"], g["Transformer/encoder_norm/bias"])
    return h[:, 0] @ np.asarray(head_w, np.float64).T + np.asarray(head_b, np.float64)


def load_layer_reference():
    """The existing single-layer reference (tools/reference/sa2vp_reference.py), under another name."""
    path = os.path.join(HERE, "..", "sa2vp_reference.py")
    spec = importlib.util.spec_from_file_location("layer_sa2vp_reference", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.set_default_dtype(torch.float64)
    return mod


def check_windows():
    lines = []
    layer_ref = load_layer_reference()
    for cfg in (CONFIG, CONFIG_VARIANTS):
        grid, c = R.grid_of(cfg), cfg["windowSize"]
        lists = R.window_key_lists(grid, c)
        counts = collections.Counter(len(k) for k in lists)
        if c == 3:
            assert counts == {4: 4, 6: 12, 9: 9}, counts
        if c == 5 and grid == (5, 5):
            # corner 3x3=9, next to a corner 3x4=12, edge middle 3x5=15, inner corner 16, inner edge 20, centre 25
            assert counts == {9: 4, 12: 8, 15: 4, 16: 4, 20: 4, 25: 1}, counts
        for i, keys in enumerate(lists):
            assert 0 not in keys
            r, col = divmod(i, grid[1])
            for kk in keys:
                kr, kc = divmod(kk - 1, grid[1])
                assert abs(kr - r) <= c // 2 and abs(kc - col) <= c // 2
        # same key sets as the layer reference's explicit lists (cls query: all 26 keys)
        other = layer_ref.attended_keys(list(grid), list(grid), True, c, "local")
        assert other[0] == list(range(1 + grid[0] * grid[1]))
        assert other[1:] == lists
        # the vectorised gather: valid positions map to exactly these keys
        idx, valid = R.window_gather_index(grid, c)
        half = c // 2
        pw = grid[1] + 2 * half
        idx = idx.view(len(lists), c * c)
        for i, keys in enumerate(lists):
            got = [1 + grid[1] * (int(p) // pw - half) + (int(p) % pw - half) for p in idx[i][valid[i]]]
            assert got == keys, (i, got, keys)
        lines.append("windows %dx%d c=%d: key counts %s, patches never see kv cls, equal to layer reference "
                     "lists and to the vectorised gather" % (grid[0], grid[1], c, dict(sorted(counts.items()))))
    return lines


def check_names_and_copies(model, cfg, backbone):
    sd = model.state_dict()
    assert model.trainable_names() == R.expected_trainable_names(cfg)
    for n, s in R.expected_shapes(cfg).items():
        assert tuple(sd[n].shape) == s, (n, sd[n].shape, s)
    enc = model.vit_base.transformer.encoder
    for n in range(cfg["depth"]):
        blk, cb = enc.layer[n], enc.cross_attn[n]
        for a, b in ((blk.attn.query, cb.attn.to_q), (blk.attn.key, cb.attn.to_k), (blk.attn.value, cb.attn.to_v),
                     (blk.attn.out, cb.attn.to_out), (blk.attention_norm, cb.attention_norm)):
            assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
            assert a.weight.data_ptr() != b.weight.data_ptr(), "copies, not shared tensors"
            assert not b.weight.requires_grad and not b.bias.requires_grad
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return ("names: %d trainable tensors (%d values) = expected table; %d frozen tensors (%d values); cross_attn "
            "copies equal their block's LayerNorm_0/q/k/v/out and are separate tensors" % (
                len(model.trainable_names()), n_train, len(model.frozen_names()), n_frozen))


def check_vit_b_counts():
    """The notes' counts at the authors' size: 83 trainable tensors, 372,912 + 769*C, frozen 114,165,504."""
    cfg = R.make_config()                                  # ViT-B/16 @224, r = t = 16, C = 10
    torch.set_default_dtype(torch.float32)
    try:
        m = R.SA2VPViT(cfg)
    finally:
        torch.set_default_dtype(torch.float64)
    tr = [p for p in m.parameters() if p.requires_grad]
    n_tr = sum(p.numel() for p in tr)
    n_fr = sum(p.numel() for p in m.parameters() if not p.requires_grad)
    n_vit = n_tr - m.class_head.weight.numel() - m.class_head.bias.numel()
    assert len(tr) == 83 and n_vit == 372912 and n_tr == 380602 and n_fr == 114165504, (len(tr), n_vit, n_tr, n_fr)
    return "ViT-B/16 counts as in docs/AUTHORS-CODE.md §1.6: 83 trainable tensors, vit_base 372,912, total 380,602, frozen 114,165,504"


def check_plain_vit(cfg, backbone, trainables, x):
    m = build(cfg, backbone, trainables)
    m.vit_base.transformer.encoder.add_scale = 0.0
    with torch.no_grad():
        li, _ = m(x)
    want = numpy_plain_vit_logits(backbone, x.numpy(), trainables["class_head.weight"], trainables["class_head.bias"],
                                  cfg["numHeads"], cfg["layerNormEps"])
    diff = float(np.abs(li.numpy() - want).max())
    assert diff < 1e-10, diff
    return "load_from: gamma=0 image logits = independent numpy Google-layout ViT forward, max |diff| %.1e" % diff


def check_loop_vs_vectorised(cfg, backbone, trainables, x, y, tag):
    a = run_case(build(cfg, backbone, trainables, "vectorised"), x, y)
    b = run_case(build(cfg, backbone, trainables, "loop"), x, y)
    worst_out = max(float((a[k] - b[k]).abs().max()) for k in ("logits_img", "logits_prm", "loss"))
    worst_grad = max(float((a[k] - b[k]).abs().max()) for k in a if k.startswith("grad/"))
    assert worst_out <= 1e-6 and worst_grad <= 1e-6, (worst_out, worst_grad)
    # train mode (all dropouts p = 0.1): same RNG stream -> same masks -> same result
    outs = []
    for impl in ("vectorised", "loop"):
        m = build(cfg, backbone, trainables, impl).train()
        torch.manual_seed(123)
        with torch.no_grad():
            outs.append(m(x))
    worst_train = max(float((outs[0][i] - outs[1][i]).abs().max()) for i in range(2))
    assert worst_train <= 1e-6, worst_train
    m = build(cfg, backbone, trainables)
    with torch.no_grad():
        ev = m(x)[0]
    assert float((outs[0][0] - ev).abs().max()) > 1e-3, "dropout must be active in train mode"
    return ("%s: loop vs vectorised (float64) max |diff| logits/loss %.1e, grads %.1e; train mode (dropout 0.1, "
            "same seed) %.1e" % (tag, worst_out, worst_grad, worst_train)), a


def check_discrimination(cfg, backbone, trainables, x, tag):
    """The fixture must tell apart the usual mistakes: each mutation below must move the logits by > 1e-3."""
    with torch.no_grad():
        base = build(cfg, backbone, trainables)(x)

    def delta(mutate, impl="vectorised"):
        m = build(cfg, backbone, trainables, impl)
        mutate(m)
        with torch.no_grad():
            out = m(x)
        return max(float((out[i] - base[i]).abs().max()) for i in range(2))

    enc = lambda m: m.vit_base.transformer.encoder                      # noqa: E731
    gh, gw = R.grid_of(cfg)
    t = 1 + gh * gw

    def set_lists(m, fn):
        for blk in enc(m).cross_attn:
            blk.attn.key_lists = [fn(i, k) for i, k in enumerate(blk.attn.key_lists)]

    def zero_pad(m):                     # the "acc" file's mistake: padded zero keys take part in the softmax
        for blk in enc(m).cross_attn:
            blk.attn.gather_valid = torch.ones_like(blk.attn.gather_valid)

    def no_deep(m):
        if enc(m).deep_layers:
            enc(m).cross_conv.data.zero_()

    def swap_act(m):
        other = "relu" if cfg["adapterActivation"] == "gelu" else "gelu"
        for blk in enc(m).cross_attn:
            blk.ffn.act_fn = R.ACT[other]

    muts = collections.OrderedDict([
        ("gamma=0 (no fusion)", lambda m: setattr(enc(m), "add_scale", 0.0)),
        ("global window", (lambda m: set_lists(m, lambda i, k: list(range(1, t))), "loop")),
        ("patch sees kv cls", (lambda m: set_lists(m, lambda i, k: [0] + k), "loop")),
        ("zero-padded window", zero_pad),
        ("no deep prompts", no_deep),
        ("other adapter activation", swap_act),
    ])
    parts = []
    for name, mut in muts.items():
        fn, impl = mut if isinstance(mut, tuple) else (mut, "vectorised")
        dl = delta(fn, impl)
        assert dl > 1e-3, (tag, name, dl)
        parts.append("%s %.2g" % (name, dl))
    return "%s: max |d logits| under mutations: %s" % (tag, ", ".join(parts))


def check_gradients(cfg, backbone, trainables, x, y, res, tag):
    """Every gradient tensor non-zero; central-difference directional derivative per tensor."""
    m = build(cfg, backbone, trainables)
    params = dict(m.named_parameters())
    g = torch.Generator().manual_seed(77)
    worst = 0.0
    smallest = float("inf")
    eps = 1e-5
    for n in m.trainable_names():
        grad = res["grad/" + n]
        rel_norm = float(grad.norm() / (grad.numel() ** 0.5))
        smallest = min(smallest, rel_norm)
        assert rel_norm > 1e-6, (n, rel_norm)
        assert float((grad != 0).double().mean()) > 0.5, (n, "mostly zero gradient")
        d = torch.randn(grad.shape, generator=g, dtype=torch.float64)
        p = params[n]
        base = p.detach().clone()
        with torch.no_grad():
            p.copy_(base + eps * d)
        lp = loss_only(m, x, y)
        with torch.no_grad():
            p.copy_(base - eps * d)
        lm = loss_only(m, x, y)
        with torch.no_grad():
            p.copy_(base)
        fd = (lp - lm) / (2 * eps)
        an = float((grad * d).sum())
        err = abs(fd - an) / max(abs(an), 1e-8)
        assert err < 1e-5, (n, fd, an, err)
        worst = max(worst, err)
    return ("%s: all %d gradients non-zero (min rms %.1e); finite-difference directional derivative per tensor, "
            "max rel err %.1e" % (tag, len(m.trainable_names()), smallest, worst))


# ----------------------------------------------------------------------------------------------------------

def fixture_config(cfg, extra):
    c = collections.OrderedDict()
    for k in ("imageSize", "patchSize", "inChannels", "hiddenSize", "depth", "numHeads", "mlpSize",
              "promptRank", "adapterSize", "adapterActivation", "gamma", "lambda", "windowSize",
              "imageToPromptLayers"):
        c[k] = cfg[k]
    c["promptToImageLayers"] = R.prompt_to_image_layers(cfg)
    c["deepPromptLayers"] = cfg["deepPromptLayers"]
    for k in ("numClasses", "layerNormEps", "dropout", "attentionDropout", "crossAttentionDropout",
              "adapterDropout"):
        c[k] = cfg[k]
    gh, gw = R.grid_of(cfg)
    c["grid"] = [gh, gw]
    c["tokens"] = 1 + gh * gw
    c["classToken"] = True
    c["mode"] = "eval"
    c["batch"] = BATCH
    c.update(extra)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--skip-checks", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    print("torch %s, numpy %s" % (torch.__version__, np.__version__))

    backbone = make_google_backbone(CONFIG, SEED_BACKBONE)
    cases = [
        ("case", CONFIG, make_trainables(CONFIG, SEED_PARAMS), make_input(CONFIG, SEED_INPUT),
         "sa2vp_params", SEED_PARAMS, SEED_INPUT),
        ("case_variants", CONFIG_VARIANTS, make_trainables(CONFIG_VARIANTS, SEED_PARAMS_VARIANTS),
         make_input(CONFIG_VARIANTS, SEED_INPUT_VARIANTS), "sa2vp_params_variants", SEED_PARAMS_VARIANTS,
         SEED_INPUT_VARIANTS),
    ]

    files = collections.OrderedDict()
    files["backbone_google.npz"] = npz_bytes(backbone)
    results = {}
    for name, cfg, tr, (x, y), pname, pseed, iseed in cases:
        if not args.skip_checks:
            print("[check] " + check_names_and_copies(build(cfg, backbone, tr), cfg, backbone))
            print("[check] " + check_plain_vit(cfg, backbone, tr, x))
            line, res = check_loop_vs_vectorised(cfg, backbone, tr, x, y, name)
            print("[check] " + line)
            print("[check] " + check_gradients(cfg, backbone, tr, x, y, res, name))
            print("[check] " + check_discrimination(cfg, backbone, tr, x, name))
        else:
            res = run_case(build(cfg, backbone, tr), x, y)
        results[name] = res
        arrays = collections.OrderedDict()
        arrays["input"] = x
        arrays["labels"] = y.to(torch.float64)
        for k, v in res.items():
            arrays[k] = v
        files[pname + ".npz"] = npz_bytes(tr)
        if name == "case":
            files[pname + ".safetensors"] = safetensors_bytes(tr)
        files[name + ".npz"] = npz_bytes({k: v.numpy() if torch.is_tensor(v) else v for k, v in arrays.items()},
                                         dtype="<f8")
        extra = collections.OrderedDict([
            ("backbone", "backbone_google.npz"), ("params", pname + ".npz"), ("case", name + ".npz"),
            ("seedBackbone", SEED_BACKBONE), ("seedParams", pseed), ("seedInput", iseed)])
        if name == "case":
            extra["paramsSafetensors"] = pname + ".safetensors"
            files["config.json"] = json_text(fixture_config(cfg, extra))
        else:
            files[name + ".json"] = json_text(fixture_config(cfg, extra))
    if not args.skip_checks:
        for line in check_windows():
            print("[check] " + line)
        print("[check] " + check_vit_b_counts())
        # the files read back exactly
        bb = read_npz(files["backbone_google.npz"])
        assert list(bb) == list(backbone) and all(np.array_equal(bb[k], backbone[k]) for k in bb)
        for name, cfg, tr, _, pname, _, _ in cases:
            got = read_npz(files[pname + ".npz"])
            assert list(got) == list(tr) and all(got[k].dtype == np.float32 and np.array_equal(got[k], tr[k])
                                                 for k in got)
            if name == "case":
                st = read_safetensors(files[pname + ".safetensors"])
                assert sorted(st) == sorted(tr) and all(np.array_equal(st[k], tr[k]) for k in st)
            cs = read_npz(files[name + ".npz"])
            assert all(v.dtype == np.float64 for v in cs.values())
            assert np.array_equal(cs["loss"], results[name]["loss"].numpy())
        print("[check] every file read back (numpy / hand-written safetensors parser) and compared exactly")

    os.makedirs(args.out, exist_ok=True)
    total = 0
    for fname, data in files.items():
        with open(os.path.join(args.out, fname), "wb") as f:
            f.write(data)
        total += len(data)
        print("wrote %-32s %8d bytes" % (fname, len(data)))
    assert total < 1.5 * 1024 * 1024, total
    print("total %d bytes" % total)
    for name in ("case", "case_variants"):
        r = results[name]
        np.set_printoptions(precision=6, suppress=True, linewidth=140)
        print("%s: loss %.10f (img %.6f, prm %.6f)" % (name, r["loss"].item(), r["loss_img"].item(),
                                                       r["loss_prm"].item()))
        print("  logits_img", r["logits_img"].numpy())
        print("  logits_prm", r["logits_prm"].numpy())
    print("done in %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
