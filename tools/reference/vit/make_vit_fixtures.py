#!/usr/bin/python3
"""Writes small ViT checkpoint fixtures in several real on-disk formats, all produced by PyTorch, so that the
Java checkpoint loaders can be parity-tested against weights that did not come from our own code.

    /usr/bin/python3 tools/reference/vit/make_vit_fixtures.py [--out DIR] [--skip-onnx]

Default output: sa2vp-layers/src/test/resources/fixtures/vit/ (relative to the repository root).

The model is torchvision's VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
hidden_dim=32, mlp_dim=64, num_classes=10): LayerNorm eps 1e-6, exact GELU, class token, 4x4 patch grid,
17 tokens. Every parameter is overwritten from torch.manual_seed(0) (see init_params), the model is put in
eval mode, and the same weights are then written under torchvision, timm, Hugging Face and Google (big_vision
/ jax ViT .npz) names and layouts, as ONNX exports, plus a position-embedding resize case and a set of
malformed or unusual files for loader error tests.

Checks (all asserted before anything is considered done):
  * an independent float64 numpy forward pass written from the Google layout reproduces the torchvision
    logits (1e-5), also for the 48x48 resized-position-embedding case;
  * a timm-named and an HF-named PyTorch module, loaded (strict) from the renamed weights, reproduce them;
  * every .npz / .safetensors file is read back (numpy / a hand-written safetensors parser) and compared;
  * every .onnx file passes onnx.checker and is evaluated by a small numpy ONNX interpreter (below) at
    batch 2 and batch 3, which must reproduce the torchvision logits (so the batch axis really is dynamic);
  * the align_corners=True resize equals a numpy re-implementation of scipy.ndimage.zoom(order=1), and the
    align_corners=False one equals a numpy half-pixel bilinear resize.

Deterministic: fixed seeds; .npz files are written in np.savez's layout (zip64 entries, one <key>.npy per
array) with a fixed zip timestamp, and .safetensors files are written by hand with a canonical header, so
a rerun reproduces every .npz/.safetensors/.npy file byte for byte.
"""
import argparse
import collections
import io
import math
import os
import struct
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.vision_transformer import VisionTransformer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fixture_io import npz_bytes, read_npz, read_safetensors, safetensors_bytes  # noqa: E402

try:
    import onnx
    from onnx import numpy_helper
except ImportError:  # pragma: no cover
    onnx = None

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "sa2vp-layers", "src", "test", "resources", "fixtures", "vit")

IMAGE, PATCH, LAYERS, HEADS, D, MLP, CLASSES = 32, 8, 2, 2, 32, 64, 10
DH = D // HEADS
EPS = 1e-6
TV_ARGS = dict(patch_size=PATCH, num_layers=LAYERS, num_heads=HEADS, hidden_dim=D, mlp_dim=MLP,
               num_classes=CLASSES)
TOL = 1e-5

# Standard deviations of the N(0, s) initialisation (LayerNorm weights are 1 + N(0, 0.1), LayerNorm
# biases N(0, 0.1)). Everything not listed uses 0.1. The patch projection is a little smaller and the
# position embedding / class token larger, so that the position embedding matters (the resize fixture
# must be sensitive to the interpolation mode); q/k/v are larger so that attention is not near uniform;
# the head is 0.2 so that the logits are O(1).
SCALES = {
    "class_token": 0.5,
    "conv_proj.weight": 0.05,
    "encoder.pos_embedding": 0.5,
    "in_proj_weight": 0.2,
    "heads.head.weight": 0.2,
}
DEFAULT_SCALE = 0.1


# ----------------------------------------------------------------------------------------------------------
# the model and its parameters
# ----------------------------------------------------------------------------------------------------------

def is_layernorm(name):
    return ".ln_1." in name or ".ln_2." in name or name.startswith("encoder.ln.")


def init_params(model):
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if is_layernorm(name):
                if name.endswith(".weight"):
                    p.copy_(1.0 + 0.1 * torch.randn(p.shape))
                else:
                    p.copy_(0.1 * torch.randn(p.shape))
            else:
                scale = DEFAULT_SCALE
                for key, s in SCALES.items():
                    if name == key or name.endswith("." + key):
                        scale = s
                p.copy_(scale * torch.randn(p.shape))


def make_torchvision():
    model = VisionTransformer(image_size=IMAGE, **TV_ARGS)
    init_params(model)
    return model.eval()


def tv_features(model, x):
    """Final-LayerNorm class-token vector, exactly as VisionTransformer.forward computes it."""
    h = model._process_input(x)
    cls = model.class_token.expand(h.shape[0], -1, -1)
    h = model.encoder(torch.cat([cls, h], dim=1))
    return h[:, 0]


def f32(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    return np.ascontiguousarray(t, dtype="<f4")


# ----------------------------------------------------------------------------------------------------------
# renaming / relayout
# ----------------------------------------------------------------------------------------------------------

def tv_layer(i):
    return "encoder.layers.encoder_layer_%d." % i


def to_timm(tv):
    out = collections.OrderedDict()
    out["cls_token"] = tv["class_token"]
    out["pos_embed"] = tv["encoder.pos_embedding"]
    out["patch_embed.proj.weight"] = tv["conv_proj.weight"]
    out["patch_embed.proj.bias"] = tv["conv_proj.bias"]
    for i in range(LAYERS):
        s, t = tv_layer(i), "blocks.%d." % i
        out[t + "norm1.weight"] = tv[s + "ln_1.weight"]
        out[t + "norm1.bias"] = tv[s + "ln_1.bias"]
        out[t + "attn.qkv.weight"] = tv[s + "self_attention.in_proj_weight"]
        out[t + "attn.qkv.bias"] = tv[s + "self_attention.in_proj_bias"]
        out[t + "attn.proj.weight"] = tv[s + "self_attention.out_proj.weight"]
        out[t + "attn.proj.bias"] = tv[s + "self_attention.out_proj.bias"]
        out[t + "norm2.weight"] = tv[s + "ln_2.weight"]
        out[t + "norm2.bias"] = tv[s + "ln_2.bias"]
        out[t + "mlp.fc1.weight"] = tv[s + "mlp.0.weight"]
        out[t + "mlp.fc1.bias"] = tv[s + "mlp.0.bias"]
        out[t + "mlp.fc2.weight"] = tv[s + "mlp.3.weight"]
        out[t + "mlp.fc2.bias"] = tv[s + "mlp.3.bias"]
    out["norm.weight"] = tv["encoder.ln.weight"]
    out["norm.bias"] = tv["encoder.ln.bias"]
    out["head.weight"] = tv["heads.head.weight"]
    out["head.bias"] = tv["heads.head.bias"]
    return out


def to_hf_vitmodel(tv):
    """Hugging Face ViTModel names (no 'vit.' prefix, no classifier, no pooler)."""
    out = collections.OrderedDict()
    out["embeddings.cls_token"] = tv["class_token"]
    out["embeddings.position_embeddings"] = tv["encoder.pos_embedding"]
    out["embeddings.patch_embeddings.projection.weight"] = tv["conv_proj.weight"]
    out["embeddings.patch_embeddings.projection.bias"] = tv["conv_proj.bias"]
    for i in range(LAYERS):
        s, t = tv_layer(i), "encoder.layer.%d." % i
        w, b = tv[s + "self_attention.in_proj_weight"], tv[s + "self_attention.in_proj_bias"]
        out[t + "layernorm_before.weight"] = tv[s + "ln_1.weight"]
        out[t + "layernorm_before.bias"] = tv[s + "ln_1.bias"]
        for j, qkv in enumerate(("query", "key", "value")):
            out[t + "attention.attention.%s.weight" % qkv] = np.ascontiguousarray(w[j * D:(j + 1) * D])
            out[t + "attention.attention.%s.bias" % qkv] = np.ascontiguousarray(b[j * D:(j + 1) * D])
        out[t + "attention.output.dense.weight"] = tv[s + "self_attention.out_proj.weight"]
        out[t + "attention.output.dense.bias"] = tv[s + "self_attention.out_proj.bias"]
        out[t + "layernorm_after.weight"] = tv[s + "ln_2.weight"]
        out[t + "layernorm_after.bias"] = tv[s + "ln_2.bias"]
        out[t + "intermediate.dense.weight"] = tv[s + "mlp.0.weight"]
        out[t + "intermediate.dense.bias"] = tv[s + "mlp.0.bias"]
        out[t + "output.dense.weight"] = tv[s + "mlp.3.weight"]
        out[t + "output.dense.bias"] = tv[s + "mlp.3.bias"]
    out["layernorm.weight"] = tv["encoder.ln.weight"]
    out["layernorm.bias"] = tv["encoder.ln.bias"]
    return out


def to_hf_classification(tv):
    out = collections.OrderedDict(("vit." + k, v) for k, v in to_hf_vitmodel(tv).items())
    out["classifier.weight"] = tv["heads.head.weight"]
    out["classifier.bias"] = tv["heads.head.bias"]
    return out


def to_google(tv):
    """Google's original ViT .npz layout (flax param tree flattened with '/'): kernels are [in, out],
    attention kernels are split per head, the patch embedding is HWIO."""
    out = collections.OrderedDict()
    out["cls"] = tv["class_token"]
    out["embedding/kernel"] = np.ascontiguousarray(tv["conv_proj.weight"].transpose(2, 3, 1, 0))
    out["embedding/bias"] = tv["conv_proj.bias"]
    out["Transformer/posembed_input/pos_embedding"] = tv["encoder.pos_embedding"]
    for i in range(LAYERS):
        s, t = tv_layer(i), "Transformer/encoderblock_%d/" % i
        w, b = tv[s + "self_attention.in_proj_weight"], tv[s + "self_attention.in_proj_bias"]
        out[t + "LayerNorm_0/scale"] = tv[s + "ln_1.weight"]
        out[t + "LayerNorm_0/bias"] = tv[s + "ln_1.bias"]
        a = t + "MultiHeadDotProductAttention_1/"
        for j, qkv in enumerate(("query", "key", "value")):
            out[a + qkv + "/kernel"] = np.ascontiguousarray(w[j * D:(j + 1) * D].T.reshape(D, HEADS, DH))
            out[a + qkv + "/bias"] = np.ascontiguousarray(b[j * D:(j + 1) * D].reshape(HEADS, DH))
        out[a + "out/kernel"] = np.ascontiguousarray(
            tv[s + "self_attention.out_proj.weight"].T.reshape(HEADS, DH, D))
        out[a + "out/bias"] = tv[s + "self_attention.out_proj.bias"]
        out[t + "LayerNorm_2/scale"] = tv[s + "ln_2.weight"]
        out[t + "LayerNorm_2/bias"] = tv[s + "ln_2.bias"]
        out[t + "MlpBlock_3/Dense_0/kernel"] = np.ascontiguousarray(tv[s + "mlp.0.weight"].T)
        out[t + "MlpBlock_3/Dense_0/bias"] = tv[s + "mlp.0.bias"]
        out[t + "MlpBlock_3/Dense_1/kernel"] = np.ascontiguousarray(tv[s + "mlp.3.weight"].T)
        out[t + "MlpBlock_3/Dense_1/bias"] = tv[s + "mlp.3.bias"]
    out["Transformer/encoder_norm/scale"] = tv["encoder.ln.weight"]
    out["Transformer/encoder_norm/bias"] = tv["encoder.ln.bias"]
    out["head/kernel"] = np.ascontiguousarray(tv["heads.head.weight"].T)
    out["head/bias"] = tv["heads.head.bias"]
    return collections.OrderedDict(sorted(out.items()))


# ----------------------------------------------------------------------------------------------------------
# independent numpy forward pass from the Google layout (float64)
# ----------------------------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])


def np_layernorm(x, scale, bias):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * scale + bias


def google_forward(g, x_nchw):
    """Returns (features, logits). Works for any image size that is a multiple of the patch size, provided
    that g's pos_embedding has 1 + (H/P)*(W/P) rows."""
    g = {k: np.asarray(v, dtype=np.float64) for k, v in g.items()}
    x = np.asarray(x_nchw, dtype=np.float64).transpose(0, 2, 3, 1)  # NHWC, as the jax model sees it
    b, hh, ww, c = x.shape
    kh, kw, _, dim = g["embedding/kernel"].shape
    gh, gw = hh // kh, ww // kw
    patches = x.reshape(b, gh, kh, gw, kw, c).transpose(0, 1, 3, 2, 4, 5)   # b, gh, gw, kh, kw, c
    tok = np.einsum("bijpqc,pqco->bijo", patches, g["embedding/kernel"]) + g["embedding/bias"]
    tok = tok.reshape(b, gh * gw, dim)
    cls = np.broadcast_to(g["cls"], (b, 1, dim))
    h = np.concatenate([cls, tok], axis=1) + g["Transformer/posembed_input/pos_embedding"]
    i = 0
    while "Transformer/encoderblock_%d/LayerNorm_0/scale" % i in g:
        t = "Transformer/encoderblock_%d/" % i
        a = t + "MultiHeadDotProductAttention_1/"
        y = np_layernorm(h, g[t + "LayerNorm_0/scale"], g[t + "LayerNorm_0/bias"])
        q = np.einsum("bnd,dhk->bnhk", y, g[a + "query/kernel"]) + g[a + "query/bias"]
        k = np.einsum("bnd,dhk->bnhk", y, g[a + "key/kernel"]) + g[a + "key/bias"]
        v = np.einsum("bnd,dhk->bnhk", y, g[a + "value/kernel"]) + g[a + "value/bias"]
        logits = np.einsum("bnhk,bmhk->bhnm", q, k) / np.sqrt(q.shape[-1])
        logits = logits - logits.max(-1, keepdims=True)
        p = np.exp(logits)
        p = p / p.sum(-1, keepdims=True)
        o = np.einsum("bhnm,bmhk->bnhk", p, v)
        h = h + np.einsum("bnhk,hkd->bnd", o, g[a + "out/kernel"]) + g[a + "out/bias"]
        y = np_layernorm(h, g[t + "LayerNorm_2/scale"], g[t + "LayerNorm_2/bias"])
        y = y @ g[t + "MlpBlock_3/Dense_0/kernel"] + g[t + "MlpBlock_3/Dense_0/bias"]
        y = 0.5 * y * (1.0 + _erf(y / math.sqrt(2.0)))
        h = h + y @ g[t + "MlpBlock_3/Dense_1/kernel"] + g[t + "MlpBlock_3/Dense_1/bias"]
        i += 1
    assert i == LAYERS
    h = np_layernorm(h, g["Transformer/encoder_norm/scale"], g["Transformer/encoder_norm/bias"])
    feats = h[:, 0]
    return feats, feats @ g["head/kernel"] + g["head/bias"]


# ----------------------------------------------------------------------------------------------------------
# timm-named and HF-named PyTorch modules
# ----------------------------------------------------------------------------------------------------------

class TimmPatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, D, kernel_size=PATCH, stride=PATCH)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # NCHW -> NLC


class TimmAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.num_heads = HEADS
        self.head_dim = DH
        self.scale = DH ** -0.5
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q = q * self.scale
        attn = q @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = attn @ v
        x = x.transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class TimmMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(D, MLP)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(MLP, D)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TimmBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(D, eps=EPS)
        self.attn = TimmAttention()
        self.norm2 = nn.LayerNorm(D, eps=EPS)
        self.mlp = TimmMlp()

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TimmViT(nn.Module):
    """Parameter/module names mirror timm.models.vision_transformer.VisionTransformer (global_pool='token',
    class token, no fc_norm, no pre-norm)."""

    def __init__(self):
        super().__init__()
        self.patch_embed = TimmPatchEmbed()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, (IMAGE // PATCH) ** 2 + 1, D))
        self.blocks = nn.Sequential(*[TimmBlock() for _ in range(LAYERS)])
        self.norm = nn.LayerNorm(D, eps=EPS)
        self.head = nn.Linear(D, CLASSES)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self.pos_embed
        x = self.blocks(x)
        x = self.norm(x)
        return self.head(x[:, 0])


class HFPatchEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.projection = nn.Conv2d(3, D, kernel_size=PATCH, stride=PATCH)

    def forward(self, x):
        return self.projection(x).flatten(2).transpose(1, 2)


class HFEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.patch_embeddings = HFPatchEmbeddings()
        self.position_embeddings = nn.Parameter(torch.zeros(1, (IMAGE // PATCH) ** 2 + 1, D))

    def forward(self, pixel_values):
        emb = self.patch_embeddings(pixel_values)
        cls = self.cls_token.expand(emb.shape[0], -1, -1)
        return torch.cat((cls, emb), dim=1) + self.position_embeddings


class HFSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.num_attention_heads = HEADS
        self.attention_head_size = DH
        self.all_head_size = D
        self.query = nn.Linear(D, D)
        self.key = nn.Linear(D, D)
        self.value = nn.Linear(D, D)

    def transpose_for_scores(self, x):
        new_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states):
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        scores = scores / math.sqrt(self.attention_head_size)
        probs = nn.functional.softmax(scores, dim=-1)
        context = torch.matmul(probs, value_layer)
        context = context.permute(0, 2, 1, 3).contiguous()
        return context.view(context.size()[:-2] + (self.all_head_size,))


class HFSelfOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(D, D)

    def forward(self, x):
        return self.dense(x)


class HFAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = HFSelfAttention()
        self.output = HFSelfOutput()

    def forward(self, x):
        return self.output(self.attention(x))


class HFIntermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(D, MLP)
        self.intermediate_act_fn = nn.GELU()

    def forward(self, x):
        return self.intermediate_act_fn(self.dense(x))


class HFOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(MLP, D)

    def forward(self, x, input_tensor):
        return self.dense(x) + input_tensor


class HFLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = HFAttention()
        self.intermediate = HFIntermediate()
        self.output = HFOutput()
        # HF's default config uses layer_norm_eps=1e-12; 1e-6 here so that the graph matches torchvision's.
        self.layernorm_before = nn.LayerNorm(D, eps=EPS)
        self.layernorm_after = nn.LayerNorm(D, eps=EPS)

    def forward(self, h):
        h = self.attention(self.layernorm_before(h)) + h
        return self.output(self.intermediate(self.layernorm_after(h)), h)


class HFEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([HFLayer() for _ in range(LAYERS)])

    def forward(self, h):
        for layer in self.layer:
            h = layer(h)
        return h


class HFViTModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = HFEmbeddings()
        self.encoder = HFEncoder()
        self.layernorm = nn.LayerNorm(D, eps=EPS)

    def forward(self, pixel_values):
        return self.layernorm(self.encoder(self.embeddings(pixel_values)))


class HFViTForImageClassification(nn.Module):
    """Names mirror transformers' ViTForImageClassification (ViTModel(add_pooling_layer=False) + classifier
    on the class token)."""

    def __init__(self):
        super().__init__()
        self.vit = HFViTModel()
        self.classifier = nn.Linear(D, CLASSES)

    def forward(self, pixel_values):
        return self.classifier(self.vit(pixel_values)[:, 0, :])


def load_module(module, arrays):
    module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}, strict=True)
    return module.eval()


# ----------------------------------------------------------------------------------------------------------
# writers and readers
# ----------------------------------------------------------------------------------------------------------

def assert_same_arrays(got, want, what, exact=True):
    assert list(got.keys()) == list(want.keys()), (what, list(got.keys()), list(want.keys()))
    for k in want:
        g, w = np.asarray(got[k]), np.asarray(want[k])
        assert g.shape == w.shape, (what, k, g.shape, w.shape)
        if exact:
            assert np.array_equal(g.astype(np.float64), w.astype(np.float64)), (what, k)


def max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


# ----------------------------------------------------------------------------------------------------------
# a minimal numpy ONNX interpreter (just the ops these exports use), to check the exported graphs
# ----------------------------------------------------------------------------------------------------------

def _ints(x):
    return [int(v) for v in np.asarray(x).reshape(-1)]


def _axes(ins, attrs, pos):
    if len(ins) > pos and ins[pos] is not None:
        return _ints(ins[pos])
    return list(attrs.get("axes", []))


def _conv(ins, a):
    x, w = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    kh, kw = w.shape[2], w.shape[3]
    assert list(a.get("strides", [1, 1])) == [kh, kw] and a.get("group", 1) == 1, a
    assert all(p == 0 for p in a.get("pads", [0, 0, 0, 0])) and list(a.get("dilations", [1, 1])) == [1, 1], a
    b, c, hh, ww = x.shape
    gh, gw = hh // kh, ww // kw
    p = x[:, :, :gh * kh, :gw * kw].reshape(b, c, gh, kh, gw, kw)
    y = np.einsum("bcipjq,ocpq->boij", p, w)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y


def _reshape(ins, a):
    x, shape = ins[0], _ints(ins[1])
    if not a.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


def _slice(ins, a):
    x = ins[0]
    starts, ends = _ints(ins[1]), _ints(ins[2])
    axes = _ints(ins[3]) if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = _ints(ins[4]) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    idx = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        idx[ax] = slice(s, e, st)
    return x[tuple(idx)]


def _split(ins, a):
    x = ins[0]
    axis = a.get("axis", 0)
    if len(ins) > 1 and ins[1] is not None:
        sizes = _ints(ins[1])
    elif "split" in a:
        sizes = list(a["split"])
    else:
        n = a["num_outputs"]
        sizes = [x.shape[axis] // n] * n
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _layernorm(ins, a):
    x, scale = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    axis = a.get("axis", -1) % x.ndim
    axes = tuple(range(axis, x.ndim))
    mu = x.mean(axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * scale
    return y + bias if bias is not None else y


def _softmax(ins, a):
    x = ins[0]
    ax = a.get("axis", -1)
    e = np.exp(x - x.max(ax, keepdims=True))
    return e / e.sum(ax, keepdims=True)


def _div(ins, a):
    x, y = ins
    if np.issubdtype(x.dtype, np.integer):
        return (np.trunc(x / y)).astype(x.dtype)
    return x / y


def _gemm(ins, a):
    A, B = ins[0], ins[1]
    if a.get("transA", 0):
        A = A.T
    if a.get("transB", 0):
        B = B.T
    y = a.get("alpha", 1.0) * (A @ B)
    if len(ins) > 2 and ins[2] is not None:
        y = y + a.get("beta", 1.0) * ins[2]
    return y


_ONNX_DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}

ONNX_OPS = {
    "Identity": lambda i, a: i[0],
    "Constant": lambda i, a: numpy_helper.to_array(a["value"]),
    "Conv": _conv,
    "Shape": lambda i, a: np.array(i[0].shape[a.get("start", 0):a.get("end", None)], dtype=np.int64),
    "Gather": lambda i, a: np.take(i[0], i[1], axis=a.get("axis", 0)),
    "Unsqueeze": lambda i, a: np.expand_dims(i[0], tuple(_axes(i, a, 1))),
    "Squeeze": lambda i, a: np.squeeze(i[0], tuple(_axes(i, a, 1))) if _axes(i, a, 1) else np.squeeze(i[0]),
    "Concat": lambda i, a: np.concatenate(i, axis=a["axis"]),
    "Reshape": _reshape,
    "Flatten": lambda i, a: i[0].reshape(int(np.prod(i[0].shape[:a.get("axis", 1)])), -1),
    "Transpose": lambda i, a: np.transpose(i[0], a.get("perm")),
    "Expand": lambda i, a: np.array(i[0] * np.ones(_ints(i[1]), dtype=i[0].dtype)),
    "Slice": _slice,
    "Split": _split,
    "Add": lambda i, a: i[0] + i[1],
    "Sub": lambda i, a: i[0] - i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "Div": _div,
    "Pow": lambda i, a: np.power(i[0], i[1]).astype(i[0].dtype),
    "Sqrt": lambda i, a: np.sqrt(i[0]),
    "Erf": lambda i, a: _erf(i[0]).astype(i[0].dtype),
    "MatMul": lambda i, a: np.matmul(i[0], i[1]),
    "Gemm": _gemm,
    "Softmax": _softmax,
    "ReduceMean": lambda i, a: i[0].mean(tuple(_axes(i, a, 1)), keepdims=bool(a.get("keepdims", 1))),
    "LayerNormalization": _layernorm,
    "Cast": lambda i, a: i[0].astype(_ONNX_DTYPES[a["to"]]),
    "ConstantOfShape": lambda i, a: np.full(_ints(i[0]), numpy_helper.to_array(a["value"]).reshape(-1)[0])
    if "value" in a else np.zeros(_ints(i[0]), np.float32),
    "Equal": lambda i, a: np.equal(i[0], i[1]),
    "Where": lambda i, a: np.where(i[0], i[1], i[2]),
    "Range": lambda i, a: np.arange(i[0], i[1], i[2]).astype(np.asarray(i[0]).dtype),
}


def onnx_run(model, x):
    env = {}
    for init in model.graph.initializer:
        env[init.name] = numpy_helper.to_array(init)
    env[model.graph.input[0].name] = np.asarray(x, dtype=np.float32)
    for node in model.graph.node:
        if node.op_type not in ONNX_OPS:
            raise NotImplementedError("numpy ONNX interpreter: op %s" % node.op_type)
        attrs = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        ins = [env[n] if n else None for n in node.input]
        outs = ONNX_OPS[node.op_type](ins, attrs)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        for name, val in zip(node.output, outs):
            env[name] = np.asarray(val)
    return env[model.graph.output[0].name]


def describe_onnx(path, source):
    """Returns the text listing (opset, inputs/outputs, initializers, op types) and prints it. Initializers
    that lost their name are matched by value against the source state dict (as stored or transposed)."""
    model = onnx.load(path)
    onnx.checker.check_model(model)
    g = model.graph
    lines = ["== %s  (opset %s, %d bytes)" % (os.path.basename(path),
                                               ",".join(str(o.version) for o in model.opset_import),
                                               os.path.getsize(path))]

    def dims(vi):
        return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]

    lines.append("  inputs:  " + ", ".join("%s %s" % (i.name, dims(i)) for i in g.input))
    lines.append("  outputs: " + ", ".join("%s %s" % (o.name, dims(o)) for o in g.output))
    consumers = collections.defaultdict(list)
    for node in g.node:
        for n in node.input:
            consumers[n].append(node.op_type)
    gemm_attrs = {}
    for node in g.node:
        if node.op_type == "Gemm":
            at = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            gemm_attrs[node.input[1]] = "Gemm(transB=%d)" % at.get("transB", 0)
    lines.append("  initializers (%d):" % len(g.initializer))
    for init in g.initializer:
        use = ",".join(gemm_attrs.get(init.name, op) if op == "Gemm" else op for op in consumers[init.name])
        note = ""
        if init.name not in source:
            val = numpy_helper.to_array(init)
            for k, v in source.items():
                if v.shape == val.shape and np.array_equal(v, val):
                    note = "= " + k
                elif v.ndim == 2 and v.T.shape == val.shape and np.array_equal(v.T, val):
                    note = "= %s transposed ([in, out])" % k
            assert note, "unmatched initializer " + init.name
        else:
            assert np.array_equal(numpy_helper.to_array(init), source[init.name]), init.name
        lines.append("    %-62s %-14s -> %-24s %s" % (init.name, list(init.dims), use, note))
    counts = collections.Counter(n.op_type for n in g.node)
    lines.append("  ops (%d nodes): " % len(g.node) + ", ".join("%s x%d" % kv for kv in sorted(counts.items())))
    text = "\n".join(lines)
    print(text)
    return model, text


# ----------------------------------------------------------------------------------------------------------
# position-embedding resize
# ----------------------------------------------------------------------------------------------------------

def resize_pos_embed(pos, new_grid, align_corners):
    """pos [1, 1+g*g, D] (class-token row first) -> [1, 1+new*new, D] with bilinear interpolation."""
    cls, grid = pos[:, :1], pos[:, 1:]
    g = int(round(math.sqrt(grid.shape[1])))
    grid = grid.reshape(1, g, g, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(new_grid, new_grid), mode="bilinear", align_corners=align_corners)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new_grid * new_grid, -1)
    return torch.cat([cls, grid], dim=1)


def _np_linear_resize_axis(a, axis, out, coords):
    """Linear interpolation of a along axis at the given (already clamped) source coordinates."""
    n = a.shape[axis]
    lo = np.clip(np.floor(coords).astype(int), 0, n - 1)
    hi = np.clip(lo + 1, 0, n - 1)
    w = (coords - lo).reshape([-1 if i == axis else 1 for i in range(a.ndim)])
    return np.take(a, lo, axis=axis) * (1 - w) + np.take(a, hi, axis=axis) * w


def np_zoom_order1(grid, new):
    """scipy.ndimage.zoom(grid, (new/g, new/g, 1), order=1) for a [g, g, D] array (grid_mode=False: the
    corner samples map onto each other, source coordinate = o * (g-1)/(new-1))."""
    g = grid.shape[0]
    coords = np.arange(new) * (g - 1) / (new - 1)
    return _np_linear_resize_axis(_np_linear_resize_axis(grid, 0, new, coords), 1, new, coords)


def np_half_pixel(grid, new):
    g = grid.shape[0]
    coords = np.maximum((np.arange(new) + 0.5) * g / new - 0.5, 0.0)
    return _np_linear_resize_axis(_np_linear_resize_axis(grid, 0, new, coords), 1, new, coords)


# ----------------------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------------------

def export_onnx(module, x, path, opset):
    torch.onnx.export(module, (x,), path, export_params=True, do_constant_folding=True, opset_version=opset,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--skip-onnx", action="store_true", help="do not (re)write the .onnx files")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    written = []

    def write(name, data):
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
        written.append(name)

    # --- model, input, reference --------------------------------------------------------------------------
    model = make_torchvision()
    torch.manual_seed(1)
    x = torch.randn(2, 3, IMAGE, IMAGE, dtype=torch.float32)
    with torch.no_grad():
        feats = tv_features(model, x)
        logits = model.heads(feats)
        assert torch.equal(logits, model(x)), "features/heads split differs from VisionTransformer.forward"
    print("logits std %.4f  (min %.3f, max %.3f); features std %.4f"
          % (logits.std().item(), logits.min().item(), logits.max().item(), feats.std().item()))
    assert 0.5 <= logits.std().item() <= 3.0

    tv = collections.OrderedDict((k, f32(v)) for k, v in model.state_dict().items())
    x_np = f32(x)
    ref = collections.OrderedDict([("features", f32(feats)), ("logits", f32(logits))])

    # HF ViTModel pooler (random, as a real ViTModel checkpoint has one); its output is added to the reference.
    torch.manual_seed(3)
    pooler_w = f32(0.1 * torch.randn(D, D))
    pooler_b = f32(0.1 * torch.randn(D))
    ref["hf_pooler_output"] = f32(np.tanh(feats.numpy().astype(np.float64) @ pooler_w.T.astype(np.float64)
                                          + pooler_b))

    buf = io.BytesIO()
    np.lib.format.write_array(buf, x_np, allow_pickle=False)
    write("input.npy", buf.getvalue())
    write("reference.npz", npz_bytes(ref))

    # --- renamed checkpoints ----------------------------------------------------------------------------------
    timm_sd = to_timm(tv)
    hf_sd = to_hf_classification(tv)
    hf_vm = to_hf_vitmodel(tv)
    hf_vm["pooler.dense.weight"] = pooler_w
    hf_vm["pooler.dense.bias"] = pooler_b
    google = to_google(tv)

    write("torchvision.npz", npz_bytes(tv))
    write("timm.npz", npz_bytes(timm_sd))
    write("timm.safetensors", safetensors_bytes(timm_sd))
    write("hf.safetensors", safetensors_bytes(hf_sd))
    write("hf_vitmodel.safetensors", safetensors_bytes(hf_vm))
    write("google.npz", npz_bytes(google))

    n_params = sum(v.size for v in tv.values())
    assert n_params == sum(v.size for v in timm_sd.values()) == sum(v.size for v in hf_sd.values()) \
        == sum(v.size for v in google.values())
    print("parameters: %d (%d tensors torchvision, %d timm, %d hf, %d google)"
          % (n_params, len(tv), len(timm_sd), len(hf_sd), len(google)))

    # --- parity checks ------------------------------------------------------------------------------------------
    g_feats, g_logits = google_forward(google, x_np)
    d = max_abs(g_logits, ref["logits"])
    print("numpy forward from google.npz layout: max|logits diff| %.3g, max|features diff| %.3g"
          % (d, max_abs(g_feats, ref["features"])))
    assert d < TOL and max_abs(g_feats, ref["features"]) < TOL

    timm_model = load_module(TimmViT(), timm_sd)
    hf_model = load_module(HFViTForImageClassification(), hf_sd)
    with torch.no_grad():
        for name, m in (("timm-named module", timm_model), ("HF-named module", hf_model)):
            d = max_abs(m(x).numpy(), ref["logits"])
            print("%s: max|logits diff| %.3g" % (name, d))
            assert d < TOL, name
    hf_vm_model = HFViTModel()
    load_module(hf_vm_model, collections.OrderedDict((k, v) for k, v in hf_vm.items() if not k.startswith("pooler.")))

    # read every checkpoint back from disk
    for name, want in (("torchvision.npz", tv), ("timm.npz", timm_sd), ("google.npz", google),
                       ("reference.npz", ref)):
        with open(os.path.join(args.out, name), "rb") as f:
            got = read_npz(f.read())
        assert_same_arrays(got, want, name)
        assert all(v.dtype == np.dtype("<f4") for v in got.values())
    for name, want in (("timm.safetensors", timm_sd), ("hf.safetensors", hf_sd),
                       ("hf_vitmodel.safetensors", hf_vm)):
        with open(os.path.join(args.out, name), "rb") as f:
            got = read_safetensors(f.read())
        assert_same_arrays(got, collections.OrderedDict(sorted(want.items())), name)
    assert np.array_equal(np.load(os.path.join(args.out, "input.npy")), x_np)

    # --- position-embedding resize (4x4 -> 6x6 grid, 48x48 input) ----------------------------------------------
    torch.manual_seed(2)
    x48 = torch.randn(2, 3, 48, 48, dtype=torch.float32)
    pos = model.encoder.pos_embedding.detach()
    resized = collections.OrderedDict([("input48", f32(x48))])
    for key, ac in (("align_corners", True), ("half_pixel", False)):
        pe = resize_pos_embed(pos, 6, align_corners=ac)
        grid = pos[0, 1:].numpy().astype(np.float64).reshape(4, 4, D)
        want = (np_zoom_order1 if ac else np_half_pixel)(grid, 6).reshape(36, D)
        assert max_abs(pe[0, 1:].numpy(), want) < 1e-6, key
        assert torch.equal(pe[:, 0], pos[:, 0])
        m48 = VisionTransformer(image_size=48, **TV_ARGS)
        sd = {k: v.clone() for k, v in model.state_dict().items()}
        sd["encoder.pos_embedding"] = pe
        m48.load_state_dict(sd, strict=True)
        m48.eval()
        with torch.no_grad():
            lg = m48(x48)
        g48 = dict(google)
        g48["Transformer/posembed_input/pos_embedding"] = f32(pe)
        d = max_abs(google_forward(g48, f32(x48))[1], lg.numpy())
        assert d < TOL, (key, d)
        resized["pos_embed_" + key] = f32(pe)
        resized["logits_" + key] = f32(lg)
    print("resize: max|logits_align_corners - logits_half_pixel| %.4f, max|pos diff| %.4f (numpy checks pass)"
          % (max_abs(resized["logits_align_corners"], resized["logits_half_pixel"]),
             max_abs(resized["pos_embed_align_corners"], resized["pos_embed_half_pixel"])))
    write("resized48.npz", npz_bytes(resized))

    # --- bad / odd files ----------------------------------------------------------------------------------------
    timm_bytes = safetensors_bytes(timm_sd)
    google_bytes = npz_bytes(google)
    write("truncated.safetensors", timm_bytes[:int(len(timm_bytes) * 0.6)])
    write("truncated.npz", google_bytes[:int(len(google_bytes) * 0.6)])
    # compressed.npz holds every google array (a whole model can be loaded from it); to keep the folder small,
    # bigendian/fortran/float64 hold the google arrays without Transformer/encoderblock_1/* (every array
    # rank and shape kind still occurs: the 4-D HWIO kernel, [1,1,D], [1,17,D], [D,H,dh], [H,dh,D], ...).
    google_subset = collections.OrderedDict(
        (k, v) for k, v in google.items() if not k.startswith("Transformer/encoderblock_1/"))
    write("compressed.npz", npz_bytes(google, compressed=True))
    write("bigendian.npz", npz_bytes(google_subset, dtype=">f4"))
    write("fortran.npz", npz_bytes(google_subset, order="F"))
    write("float64.npz", npz_bytes(google_subset, dtype="<f8"))
    mask = np.zeros((2, 17), dtype=np.bool_)
    mask[:, :5] = True
    mask[1, 9] = True
    write("bool.npz", npz_bytes(collections.OrderedDict([("mask", mask), ("cls", google["cls"])]), dtype=None))
    small = safetensors_bytes(collections.OrderedDict([("cls_token", timm_sd["cls_token"])]))
    bad = struct.pack("<Q", len(small) + 4096) + small[8:]
    write("bad_header.safetensors", bad)

    for name, want in (("compressed.npz", google), ("bigendian.npz", google_subset),
                       ("fortran.npz", google_subset), ("float64.npz", google_subset)):
        with open(os.path.join(args.out, name), "rb") as f:
            got = read_npz(f.read())
        assert_same_arrays(got, want, name)
    with open(os.path.join(args.out, "bigendian.npz"), "rb") as f:
        assert all(v.dtype == np.dtype(">f4") for v in read_npz(f.read()).values())
    with zipfile.ZipFile(os.path.join(args.out, "fortran.npz")) as zf:
        hdr = zf.read("embedding/kernel.npy")[:128]
        assert b"'fortran_order': True" in hdr
    with zipfile.ZipFile(os.path.join(args.out, "compressed.npz")) as zf:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
    for name in ("truncated.npz", "truncated.safetensors", "bad_header.safetensors"):
        with open(os.path.join(args.out, name), "rb") as f:
            data = f.read()
        try:
            (read_safetensors if name.endswith(".safetensors") else read_npz)(data)
        except Exception as e:  # noqa: BLE001 - expected
            print("%-24s fails to load as intended: %s: %s" % (name, type(e).__name__, str(e)[:80]))
        else:
            raise AssertionError(name + " unexpectedly loads")

    # --- ONNX -----------------------------------------------------------------------------------------------------
    listings = []
    if not args.skip_onnx:
        assert onnx is not None, "the onnx package is needed (or pass --skip-onnx)"
        x3 = torch.cat([x, x[:1] * 0.5], dim=0)
        with torch.no_grad():
            logits3 = model(x3).numpy()
        exports = (("torchvision_opset13.onnx", model, 13, tv), ("torchvision_opset17.onnx", model, 17, tv),
                   ("timm_opset14.onnx", timm_model, 14, timm_sd), ("hf_opset17.onnx", hf_model, 17, hf_sd))
        for name, module, opset, source in exports:
            path = os.path.join(args.out, name)
            export_onnx(module, x, path, opset)
            written.append(name)
            proto, text = describe_onnx(path, source)
            listings.append(text)
            d2 = max_abs(onnx_run(proto, x_np), ref["logits"])
            d3 = max_abs(onnx_run(proto, f32(x3)), logits3)
            print("  numpy-interpreted %s: max|logits diff| batch 2 %.3g, batch 3 %.3g" % (name, d2, d3))
            assert d2 < TOL and d3 < TOL, name
            assert [i.name for i in proto.graph.input] == ["input"]
            assert [o.name for o in proto.graph.output] == ["logits"]

    # --- summary ------------------------------------------------------------------------------------------------
    total = 0
    print("\nfiles in %s:" % args.out)
    for name in sorted(set(written)):
        size = os.path.getsize(os.path.join(args.out, name))
        total += size
        print("  %-28s %9d bytes" % (name, size))
    print("  %-28s %9d bytes" % ("total", total))
    assert total < 2_000_000
    print("all checks passed")


if __name__ == "__main__":
    sys.exit(main())
