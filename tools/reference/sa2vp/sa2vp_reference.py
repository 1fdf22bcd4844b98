#!/usr/bin/python3
"""Independent PyTorch reference of the complete SA2VP-ViT model, as the authors' code computes it.

Written from docs/AUTHORS-CODE.md, section 1 (what tommy-xq/SA2VP
vit_tinypara.py + vit_train_sa2vp.py compute), NOT from the paper's text where the two differ, and not from
any product (Java) code. The module tree, and therefore every ``state_dict`` key, mirrors the authors'
classes (``Dual_model`` -> ``vit_base`` = jeonsworld ``VisionTransformer`` -> ``transformer`` ->
``embeddings`` / ``encoder``; ``class_head``), so the parameter names are the authors' names exactly.

Generalised over what the authors hard-code (ViT-B/16 at 224, r = 16, adapter 16, gamma 0.1, layer sets
{0,4,8} / {4,8}, 3x3 window, 0.8/0.2 loss):

* image size, patch size, width D, depth, heads, MLP width;
* ``promptRank`` r (the authors' ``inner_dim`` / ``inter_dim``) and ``adapterSize`` t (``Mlp_small`` width,
  which the authors hard-code separately from r);
* ``gamma`` (``add_scale``), ``lambda`` (loss weight of the image logits);
* ``imageToPromptLayers`` (authors' ``b2p_list``; every other layer is prompt->image, ``p2b_list``);
* ``deepPromptLayers`` (authors' ``prompt_list``; deep map j is injected at the j-th layer of that set, in
  increasing order -- the authors' ``i//4 - 1`` for {4, 8});
* ``windowSize`` c (odd): a query patch sees the kv PATCH tokens of the c x c neighbourhood around its own
  grid position, clipped at the border (no padding tokens); the class-token query attends globally to all
  kv tokens including kv token 0; a patch never sees the kv class token;
* ``adapterActivation`` ("gelu" = exact erf GELU as the authors, or "relu" as the paper says).

A deep layer need not be an image->prompt layer (the authors' sets make it one): at any layer i,
``P <- L_i(P) + [L_i(deep_proj_j(deep_ppt_j)) * cross_conv[j]] + [gamma * F if i2p]`` and
``X <- L_i(X) + [gamma * F if p2i]``, F computed from the streams entering layer i. For the authors' sets
this is exactly their encoder loop (additions commute).

Two implementations of the local cross attention (``CrossAttention.impl``):
* "vectorised": K/V patch grids zero-padded by (c-1)/2, the c*c neighbours gathered with one
  ``index_select``, out-of-grid positions masked with -inf, softmax over c*c (notes section 3);
* "loop": the authors' algorithm -- class query first (global), then a Python loop over the patches with an
  explicit key index list per patch (row-major inside the window) and ``torch.cat`` growing the output.

Dropout positions (all p = 0.1 by default, as the authors): embedding dropout on both streams, inside every
frozen backbone MLP (after GELU and after fc2; active in train mode although the backbone is frozen),
after the cross attention's output projection (``to_drop``), and inside ``Mlp_small`` (after the activation
and after fc2). Attention-probability / projection dropout of the backbone are 0.0.

Outputs: ``logits_img = class_head(encoder_norm(X)[:, 0])``, ``logits_prm = class_head(encoder_norm(P)[:, 0])``
(one shared head, one shared frozen final LayerNorm); loss ``lambda*CE(img) + (1-lambda)*CE(prm)``.

The module is dtype-agnostic (build it, then ``.double()`` / ``.float()``); tools/bench/torch_sa2vp_step.py
uses it in float32.
"""
import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "imageSize": 224,
    "patchSize": 16,
    "inChannels": 3,
    "hiddenSize": 768,
    "depth": 12,
    "numHeads": 12,
    "mlpSize": 3072,
    "promptRank": 16,            # authors: Embeddings.inner_dim / Encoder.inter_dim
    "adapterSize": 16,           # authors: Mlp_small width (hard-coded 16)
    "adapterActivation": "gelu",
    "gamma": 0.1,                # authors: Encoder.add_scale
    "lambda": 0.8,               # loss = lambda*CE(img) + (1-lambda)*CE(prm)
    "windowSize": 3,
    "imageToPromptLayers": [0, 4, 8],
    "deepPromptLayers": [4, 8],
    "numClasses": 10,
    "layerNormEps": 1e-6,
    "dropout": 0.1,              # backbone config dropout_rate: embeddings + backbone MLP
    "attentionDropout": 0.0,     # backbone attention_dropout_rate
    "crossAttentionDropout": 0.1,  # CrossAttention.to_drop (hard-coded 0.1)
    "adapterDropout": 0.1,       # Mlp_small dropout (config dropout_rate)
}

ACT = {"gelu": lambda x: F.gelu(x), "relu": F.relu}   # F.gelu default = exact erf GELU


def make_config(**over):
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    for k, v in over.items():
        if k not in cfg:
            raise KeyError("unknown config key %r" % (k,))
        cfg[k] = v
    validate_config(cfg)
    return cfg


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def grid_of(cfg):
    ih, iw = _pair(cfg["imageSize"])
    ph, pw = _pair(cfg["patchSize"])
    assert ih % ph == 0 and iw % pw == 0, "image size must be a multiple of the patch size"
    return ih // ph, iw // pw


def validate_config(cfg):
    d, h = cfg["hiddenSize"], cfg["numHeads"]
    assert d % h == 0, "hiddenSize must be divisible by numHeads"
    assert cfg["windowSize"] >= 1 and cfg["windowSize"] % 2 == 1, "windowSize must be odd"
    L = cfg["depth"]
    for name in ("imageToPromptLayers", "deepPromptLayers"):
        s = cfg[name]
        assert len(set(s)) == len(s) and all(0 <= i < L for i in s), (name, s)
    assert cfg["adapterActivation"] in ACT
    assert 0.0 <= cfg["lambda"] <= 1.0


def prompt_to_image_layers(cfg):
    i2p = set(cfg["imageToPromptLayers"])
    return [i for i in range(cfg["depth"]) if i not in i2p]


# ----------------------------------------------------------------------------------------------------------
# frozen jeonsworld ViT pieces (names as in jeonsworld/VPT: attn.query/key/value/out, ffn.fc1/fc2, ...)
# ----------------------------------------------------------------------------------------------------------

class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hiddenSize"]
        self.num_attention_heads = cfg["numHeads"]
        self.attention_head_size = d // self.num_attention_heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        self.attn_dropout = nn.Dropout(cfg["attentionDropout"])
        self.proj_dropout = nn.Dropout(cfg["attentionDropout"])

    def _heads(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.num_attention_heads, self.attention_head_size).permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.attention_head_size)
        probs = self.attn_dropout(torch.softmax(scores, dim=-1))
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(x.shape[0], x.shape[1], -1)
        return self.proj_dropout(self.out(ctx))


class Mlp(nn.Module):
    """Backbone MLP: fc1 -> GELU -> dropout -> fc2 -> dropout."""

    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg["hiddenSize"], cfg["mlpSize"])
        self.fc2 = nn.Linear(cfg["mlpSize"], cfg["hiddenSize"])
        self.dropout = nn.Dropout(cfg["dropout"])

    def forward(self, x):
        return self.dropout(self.fc2(self.dropout(F.gelu(self.fc1(x)))))


class Block(nn.Module):
    """Pre-LN block: x + Attn(LN0(x)); x + MLP(LN2(x)).  (Registration order as the authors'.)"""

    def __init__(self, cfg):
        super().__init__()
        d, eps = cfg["hiddenSize"], cfg["layerNormEps"]
        self.attention_norm = nn.LayerNorm(d, eps=eps)
        self.ffn_norm = nn.LayerNorm(d, eps=eps)
        self.ffn = Mlp(cfg)
        self.attn = Attention(cfg)

    def forward(self, x):
        x = x + self.attn(self.attention_norm(x))
        return x + self.ffn(self.ffn_norm(x))


# ----------------------------------------------------------------------------------------------------------
# interaction block: Cross_Block + CrossAttention + Mlp_small
# ----------------------------------------------------------------------------------------------------------

def window_key_lists(grid, window_size):
    """Explicit per-patch key token lists, the authors' construction generalised: for the patch at (r, c)
    (token 1 + W*r + c) the kv patch tokens (r', c') with |r'-r| <= h, |c'-c| <= h inside the grid,
    row-major. (The authors write these lists out by hand for 14x14, h = 1.)"""
    gh, gw = grid
    half = (window_size - 1) // 2
    lists = []
    for r in range(gh):
        for c in range(gw):
            keys = [1 + gw * rr + cc
                    for rr in range(r - half, r + half + 1)
                    for cc in range(c - half, c + half + 1)
                    if 0 <= rr < gh and 0 <= cc < gw]
            lists.append(keys)
    return lists


def window_gather_index(grid, window_size):
    """For the vectorised form: index [N*c*c] into the zero-padded (H+2h) x (W+2h) grid (flattened
    row-major) and validity mask [N, c*c] (False = outside the real grid)."""
    gh, gw = grid
    half = (window_size - 1) // 2
    pw = gw + 2 * half
    r = torch.arange(gh).view(gh, 1, 1, 1)
    c = torch.arange(gw).view(1, gw, 1, 1)
    dr = torch.arange(-half, half + 1).view(1, 1, window_size, 1)
    dc = torch.arange(-half, half + 1).view(1, 1, 1, window_size)
    rr, cc = r + dr, c + dc                                            # [H, W, c, c]
    valid = (rr >= 0) & (rr < gh) & (cc >= 0) & (cc < gw)
    idx = (rr + half) * pw + (cc + half)
    n = gh * gw
    return idx.reshape(-1).contiguous(), valid.reshape(n, window_size * window_size).contiguous()


class CrossAttention(nn.Module):
    """Frozen copies of block n's q/k/v/out (to_q, to_k, to_v, to_out) + output dropout (to_drop).

    forward(x_qkv, y_q): queries from y_q, keys/values from x_qkv; both are [B, 1 + H*W, D] and already
    normalised by the Cross_Block's attention_norm. Returns to_drop(to_out(concat_heads(attn))).
    """

    def __init__(self, cfg, grid):
        super().__init__()
        d = cfg["hiddenSize"]
        self.heads = cfg["numHeads"]
        self.dim_head = d // self.heads
        self.scale = self.dim_head ** -0.5
        self.grid = grid
        self.window_size = cfg["windowSize"]
        self.to_k = nn.Linear(d, d)
        self.to_v = nn.Linear(d, d)
        self.to_q = nn.Linear(d, d)
        self.to_out = nn.Linear(d, d)
        self.to_drop = nn.Dropout(cfg["crossAttentionDropout"])
        self.impl = "vectorised"
        self.key_lists = window_key_lists(grid, self.window_size)
        idx, valid = window_gather_index(grid, self.window_size)
        self.register_buffer("gather_index", idx, persistent=False)
        self.register_buffer("gather_valid", valid, persistent=False)

    def _heads(self, x):
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.dim_head).permute(0, 2, 1, 3)     # b h n d

    def _merge(self, x):
        b, h, n, d = x.shape
        return x.permute(0, 2, 1, 3).reshape(b, n, h * d)

    def forward(self, x_qkv, y_q):
        k = self._heads(self.to_k(x_qkv))
        v = self._heads(self.to_v(x_qkv))
        q = self._heads(self.to_q(y_q))
        if self.impl == "loop":
            out = self._local_loop(q, k, v)
        elif self.impl == "vectorised":
            out = self._local_vectorised(q, k, v)
        else:
            raise ValueError(self.impl)
        return self.to_drop(self.to_out(out))

    def _local_loop(self, q, k, v):
        """The authors' algorithm: class query global, then one patch at a time, torch.cat growing."""
        dots = torch.einsum("bhid,bhjd->bhij", q[:, :, [0], :], k) * self.scale
        new_out = self._merge(torch.einsum("bhij,bhjd->bhid", dots.softmax(dim=-1), v))
        for patch in range(1, 1 + len(self.key_lists)):
            keys = self.key_lists[patch - 1]
            dots = torch.einsum("bhid,bhjd->bhij", q[:, :, [patch], :], k[:, :, keys, :]) * self.scale
            out = self._merge(torch.einsum("bhij,bhjd->bhid", dots.softmax(dim=-1), v[:, :, keys, :]))
            new_out = torch.cat([new_out, out], dim=1)
        return new_out

    def _local_vectorised(self, q, k, v):
        b, h, t, dh = k.shape
        gh, gw = self.grid
        cc = self.window_size * self.window_size
        half = (self.window_size - 1) // 2
        n = gh * gw
        assert t == 1 + n and q.shape[2] == 1 + n
        # class-token query: global over all kv tokens (kv class token included)
        cls_w = torch.softmax((q[:, :, :1, :] @ k.transpose(-1, -2)) * self.scale, dim=-1)
        cls_out = cls_w @ v                                                     # b h 1 dh

        def gather(x):                                                          # b h t dh -> b h n cc dh
            g = x[:, :, 1:, :].reshape(b, h, gh, gw, dh)
            g = F.pad(g, (0, 0, half, half, half, half))                        # zero-pad the grid
            g = g.reshape(b, h, (gh + 2 * half) * (gw + 2 * half), dh)
            return g.index_select(2, self.gather_index).view(b, h, n, cc, dh)

        kn, vn = gather(k), gather(v)
        logits = torch.einsum("bhnd,bhnkd->bhnk", q[:, :, 1:, :], kn) * self.scale
        logits = logits.masked_fill(~self.gather_valid, float("-inf"))         # out-of-grid -> -inf
        w = torch.softmax(logits, dim=-1)
        patch_out = torch.einsum("bhnk,bhnkd->bhnd", w, vn)
        return self._merge(torch.cat([cls_out, patch_out], dim=2))


class MlpSmall(nn.Module):
    """Mlp_small: fc1 (D->t) -> act -> dropout -> fc2 (t->D) -> dropout."""

    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg["hiddenSize"], cfg["adapterSize"])
        self.fc2 = nn.Linear(cfg["adapterSize"], cfg["hiddenSize"])
        self.act_fn = ACT[cfg["adapterActivation"]]
        self.dropout = nn.Dropout(cfg["adapterDropout"])

    def forward(self, x):
        return self.dropout(self.fc2(self.dropout(self.act_fn(self.fc1(x)))))


class CrossBlock(nn.Module):
    """Cross_Block: F = Mlp_small(ffn_norm(CA(LN(kv), LN(q)) + q)), no residual around the adapter.
    attention_norm and attn.* are frozen copies of backbone block n; ffn_norm and ffn.* are trainable."""

    def __init__(self, cfg, grid):
        super().__init__()
        d, eps = cfg["hiddenSize"], cfg["layerNormEps"]
        self.attention_norm = nn.LayerNorm(d, eps=eps)
        self.ffn_norm = nn.LayerNorm(d, eps=eps)
        self.attn = CrossAttention(cfg, grid)
        self.ffn = MlpSmall(cfg)

    def forward(self, kv, q):
        h = q
        x = self.attn(self.attention_norm(kv), self.attention_norm(q))
        return self.ffn(self.ffn_norm(x + h))


# ----------------------------------------------------------------------------------------------------------
# embeddings, encoder, transformer, the dual model
# ----------------------------------------------------------------------------------------------------------

class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hiddenSize"]
        gh, gw = grid_of(cfg)
        self.patch_embeddings = nn.Conv2d(cfg["inChannels"], d, kernel_size=_pair(cfg["patchSize"]),
                                          stride=_pair(cfg["patchSize"]))
        self.position_embeddings = nn.Parameter(torch.zeros(1, 1 + gh * gw, d))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.dropout = nn.Dropout(cfg["dropout"])
        self.ppt = nn.Parameter(torch.zeros(1, 1 + gh * gw, cfg["promptRank"]))
        self.ppt_proj = nn.Linear(cfg["promptRank"], d)

    def forward(self, x):
        b = x.shape[0]
        x = self.patch_embeddings(x).flatten(2).transpose(-1, -2)
        x = torch.cat((self.cls_token.expand(b, -1, -1), x), dim=1)
        emb = x + self.position_embeddings
        p = self.ppt_proj(self.ppt).expand(b, -1, -1) + self.position_embeddings   # prompt stream P0
        return self.dropout(emb), self.dropout(p)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, L = cfg["hiddenSize"], cfg["depth"]
        grid = grid_of(cfg)
        self.layer = nn.ModuleList([Block(cfg) for _ in range(L)])
        self.encoder_norm = nn.LayerNorm(d, eps=cfg["layerNormEps"])
        self.add_scale = cfg["gamma"]
        self.cross_attn = nn.ModuleList([CrossBlock(cfg, grid) for _ in range(L)])
        self.i2p = set(cfg["imageToPromptLayers"])
        self.deep_layers = sorted(cfg["deepPromptLayers"])
        nd = len(self.deep_layers)
        if nd > 0:
            t = 1 + grid[0] * grid[1]
            self.cross_conv = nn.Parameter(torch.zeros(nd, d))
            self.deep_ppt = nn.Parameter(torch.zeros(nd, 1, t, cfg["promptRank"]))
            self.deep_proj = nn.ModuleList([nn.Linear(cfg["promptRank"], d) for _ in range(nd)])

    def forward(self, hidden_states, prompt_states):
        for i, block in enumerate(self.layer):
            if i in self.i2p:
                fusion = self.cross_attn[i](hidden_states, prompt_states)     # kv = X, q = P
            else:
                fusion = self.cross_attn[i](prompt_states, hidden_states)     # kv = P, q = X
            new_p = block(prompt_states)
            if i in self.deep_layers:
                j = self.deep_layers.index(i)
                bs = prompt_states.shape[0]
                deep = block(self.deep_proj[j](self.deep_ppt[j]).expand(bs, -1, -1))  # no pos-embed
                new_p = new_p + deep * self.cross_conv[j]
            new_x = block(hidden_states)
            if i in self.i2p:
                new_p = new_p + fusion * self.add_scale
            else:
                new_x = new_x + fusion * self.add_scale
            hidden_states, prompt_states = new_x, new_p
        return self.encoder_norm(hidden_states), self.encoder_norm(prompt_states)


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)

    def forward(self, x):
        return self.encoder(*self.embeddings(x))


class VisionTransformer(nn.Module):
    """``VisionTransformer(..., num_classes=-1)``: its own head is Identity."""

    def __init__(self, cfg):
        super().__init__()
        self.transformer = Transformer(cfg)
        self.head = nn.Identity()

    def forward(self, x):
        enc, enc_p = self.transformer(x)
        return self.head(enc[:, 0]), enc_p[:, 0]


class SA2VPViT(nn.Module):
    """The authors' ``Dual_model``: ``vit_base`` + one shared ``class_head``."""

    def __init__(self, cfg):
        super().__init__()
        validate_config(cfg)
        self.cfg = copy.deepcopy(cfg)
        self.vit_base = VisionTransformer(cfg)
        self.class_head = nn.Linear(cfg["hiddenSize"], cfg["numClasses"])
        self.apply_freeze_rule()

    # --- forward / loss ---------------------------------------------------------------------------------
    def features(self, x):
        return self.vit_base(x)

    def forward(self, x):
        f_img, f_prm = self.vit_base(x)
        return self.class_head(f_img), self.class_head(f_prm)

    def loss(self, logits_img, logits_prm, labels):
        lam = self.cfg["lambda"]
        return lam * F.cross_entropy(logits_img, labels) + (1.0 - lam) * F.cross_entropy(logits_prm, labels)

    def set_attention_impl(self, impl):
        assert impl in ("loop", "vectorised")
        for blk in self.vit_base.transformer.encoder.cross_attn:
            blk.attn.impl = impl

    # --- trainable / frozen split: the authors' rule ---------------------------------------------------
    @staticmethod
    def is_trainable(name):
        """Dual_model's rule. ``name`` is a full state_dict key."""
        if name.startswith("class_head."):
            return True
        assert name.startswith("vit_base."), name
        parts = name[len("vit_base."):].split(".")
        if len(parts) < 3:
            return False
        if parts[2] in ("ppt", "ppt_proj", "cross_conv", "deep_ppt", "deep_proj", "encoder_norm_2"):
            return True
        if parts[2] == "cross_attn" and len(parts) > 4 and parts[4] not in ("attn", "attention_norm"):
            return True
        return False

    def apply_freeze_rule(self):
        for n, p in self.named_parameters():
            p.requires_grad_(self.is_trainable(n))

    def trainable_names(self):
        return [n for n, p in self.named_parameters() if p.requires_grad]

    def frozen_names(self):
        return [n for n, p in self.named_parameters() if not p.requires_grad]

    # --- initialisation ----------------------------------------------------------------------------------
    @torch.no_grad()
    def init_authors(self, generator=None):
        """The authors' initialisation of the trainable tensors (for reference only; the fixtures overwrite
        every trainable tensor with non-degenerate random values). trunc_normal_(std .02) is drawn as
        N(0, .02) clipped to +-2 (the bounds are absolute, so nothing is truncated in practice)."""
        g = generator

        def tn(t, std):
            t.copy_(torch.randn(t.shape, generator=g, dtype=t.dtype).mul_(std).clamp_(-2.0, 2.0))

        def xavier(w):
            fan_out, fan_in = w.shape
            a = math.sqrt(6.0 / (fan_in + fan_out))
            w.copy_((torch.rand(w.shape, generator=g, dtype=w.dtype) * 2 - 1) * a)

        def n6(b):
            b.copy_(torch.randn(b.shape, generator=g, dtype=b.dtype) * 1e-6)

        t = self.vit_base.transformer
        tn(t.embeddings.ppt, 0.02)
        xavier(t.embeddings.ppt_proj.weight)
        n6(t.embeddings.ppt_proj.bias)
        enc = t.encoder
        for blk in enc.cross_attn:
            blk.ffn_norm.weight.fill_(1.0)
            blk.ffn_norm.bias.zero_()
            xavier(blk.ffn.fc1.weight)
            xavier(blk.ffn.fc2.weight)
            n6(blk.ffn.fc1.bias)
            n6(blk.ffn.fc2.bias)
        if enc.deep_layers:
            enc.cross_conv.copy_(torch.randn(enc.cross_conv.shape, generator=g, dtype=enc.cross_conv.dtype)
                                 * 0.02)
            tn(enc.deep_ppt, 0.02)
            for lin in enc.deep_proj:
                xavier(lin.weight)
                n6(lin.bias)
        tn(self.class_head.weight, 0.02)
        bound = 1.0 / math.sqrt(self.cfg["hiddenSize"])
        self.class_head.bias.copy_((torch.rand(self.class_head.bias.shape, generator=g,
                                               dtype=self.class_head.bias.dtype) * 2 - 1) * bound)

    # --- loading -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def load_from(self, weights):
        """The authors' ``VisionTransformer.load_from`` on Google's ViT .npz (dict of numpy arrays): the
        backbone AND the frozen copies of block n's LayerNorm_0 + q/k/v/out in cross_attn.n.
        pre_logits/* and head/* are ignored."""
        d = self.cfg["hiddenSize"]
        t = self.vit_base.transformer

        def th(a, like):
            return torch.as_tensor(np.asarray(a)).to(like.dtype)

        emb = t.embeddings
        w = emb.patch_embeddings.weight
        w.copy_(th(np.asarray(weights["embedding/kernel"]).transpose(3, 2, 0, 1), w))   # HWIO -> OIHW
        emb.patch_embeddings.bias.copy_(th(weights["embedding/bias"], w))
        emb.cls_token.copy_(th(weights["cls"], w))
        t.encoder.encoder_norm.weight.copy_(th(weights["Transformer/encoder_norm/scale"], w))
        t.encoder.encoder_norm.bias.copy_(th(weights["Transformer/encoder_norm/bias"], w))
        posemb = th(weights["Transformer/posembed_input/pos_embedding"], w)
        if posemb.shape == emb.position_embeddings.shape:
            emb.position_embeddings.copy_(posemb)
        else:
            emb.position_embeddings.copy_(resize_pos_embed_zoom1(posemb, grid_of(self.cfg)))

        for n, blk in enumerate(t.encoder.layer):
            root = "Transformer/encoderblock_%d/" % n
            a = root + "MultiHeadDotProductAttention_1/"

            def kern(key):      # [D, H, dh] or [H, dh, D] -> view(D, D) -> transpose to torch [out, in]
                return th(np.asarray(weights[key]).reshape(d, d).T, w)

            def vec(key):
                return th(np.asarray(weights[key]).reshape(-1), w)

            qw, kw, vw, ow = (kern(a + s + "/kernel") for s in ("query", "key", "value", "out"))
            qb, kb, vb, ob = (vec(a + s + "/bias") for s in ("query", "key", "value", "out"))
            ln0w, ln0b = vec(root + "LayerNorm_0/scale"), vec(root + "LayerNorm_0/bias")
            for lin, ww, bb in ((blk.attn.query, qw, qb), (blk.attn.key, kw, kb), (blk.attn.value, vw, vb),
                                (blk.attn.out, ow, ob)):
                lin.weight.copy_(ww)
                lin.bias.copy_(bb)
            blk.attention_norm.weight.copy_(ln0w)
            blk.attention_norm.bias.copy_(ln0b)
            blk.ffn_norm.weight.copy_(vec(root + "LayerNorm_2/scale"))
            blk.ffn_norm.bias.copy_(vec(root + "LayerNorm_2/bias"))
            blk.ffn.fc1.weight.copy_(th(np.asarray(weights[root + "MlpBlock_3/Dense_0/kernel"]).T, w))
            blk.ffn.fc1.bias.copy_(vec(root + "MlpBlock_3/Dense_0/bias"))
            blk.ffn.fc2.weight.copy_(th(np.asarray(weights[root + "MlpBlock_3/Dense_1/kernel"]).T, w))
            blk.ffn.fc2.bias.copy_(vec(root + "MlpBlock_3/Dense_1/bias"))
            # Cross_Block.load_from: separate (frozen) copies, not shared tensors
            cb = t.encoder.cross_attn[n]
            for lin, ww, bb in ((cb.attn.to_q, qw, qb), (cb.attn.to_k, kw, kb), (cb.attn.to_v, vw, vb),
                                (cb.attn.to_out, ow, ob)):
                lin.weight.copy_(ww)
                lin.bias.copy_(bb)
            cb.attention_norm.weight.copy_(ln0w)
            cb.attention_norm.bias.copy_(ln0b)

    @torch.no_grad()
    def load_trainable(self, tensors, strict=True):
        """Copy trainable tensors given under their authors' state_dict names."""
        params = dict(self.named_parameters())
        names = set(self.trainable_names())
        if strict:
            assert set(tensors) == names, (sorted(set(tensors) ^ names))
        for k, v in tensors.items():
            params[k].copy_(torch.as_tensor(np.asarray(v)).to(params[k].dtype))


def resize_pos_embed_zoom1(posemb, new_grid):
    """The authors' resize (scipy.ndimage.zoom(order=1) on a square grid, class row kept): linear
    interpolation with source coordinate o*(g-1)/(n-1), i.e. align_corners=True."""
    tok, grid = posemb[:, :1], posemb[0, 1:]
    gs_old = int(round(math.sqrt(grid.shape[0])))
    assert gs_old * gs_old == grid.shape[0]
    g = grid.reshape(gs_old, gs_old, -1).permute(2, 0, 1).unsqueeze(0)
    g = F.interpolate(g, size=tuple(new_grid), mode="bilinear", align_corners=True)
    g = g[0].permute(1, 2, 0).reshape(1, new_grid[0] * new_grid[1], -1)
    return torch.cat([tok, g], dim=1)


# ----------------------------------------------------------------------------------------------------------
# the names table
# ----------------------------------------------------------------------------------------------------------

PREFIX = "vit_base.transformer."


def expected_trainable_names(cfg):
    """The authors' trainable tensors, in the order named_parameters() yields them."""
    # (a module's own Parameters come before its children's, hence cross_conv / deep_ppt first)
    names = [PREFIX + "embeddings.ppt", PREFIX + "embeddings.ppt_proj.weight", PREFIX + "embeddings.ppt_proj.bias"]
    nd = len(cfg["deepPromptLayers"])
    if nd:
        names += [PREFIX + "encoder.cross_conv", PREFIX + "encoder.deep_ppt"]
    for n in range(cfg["depth"]):
        c = PREFIX + "encoder.cross_attn.%d." % n
        names += [c + "ffn_norm.weight", c + "ffn_norm.bias", c + "ffn.fc1.weight", c + "ffn.fc1.bias",
                  c + "ffn.fc2.weight", c + "ffn.fc2.bias"]
    if nd:
        for j in range(nd):
            names += [PREFIX + "encoder.deep_proj.%d.weight" % j, PREFIX + "encoder.deep_proj.%d.bias" % j]
    names += ["class_head.weight", "class_head.bias"]
    return names


def expected_shapes(cfg):
    d, r, t, c = cfg["hiddenSize"], cfg["promptRank"], cfg["adapterSize"], cfg["numClasses"]
    gh, gw = grid_of(cfg)
    T = 1 + gh * gw
    nd = len(cfg["deepPromptLayers"])
    s = {PREFIX + "embeddings.ppt": (1, T, r), PREFIX + "embeddings.ppt_proj.weight": (d, r),
         PREFIX + "embeddings.ppt_proj.bias": (d,), "class_head.weight": (c, d), "class_head.bias": (c,)}
    for n in range(cfg["depth"]):
        p = PREFIX + "encoder.cross_attn.%d." % n
        s.update({p + "ffn_norm.weight": (d,), p + "ffn_norm.bias": (d,), p + "ffn.fc1.weight": (t, d),
                  p + "ffn.fc1.bias": (t,), p + "ffn.fc2.weight": (d, t), p + "ffn.fc2.bias": (d,)})
    if nd:
        s[PREFIX + "encoder.cross_conv"] = (nd, d)
        s[PREFIX + "encoder.deep_ppt"] = (nd, 1, T, r)
        for j in range(nd):
            s[PREFIX + "encoder.deep_proj.%d.weight" % j] = (d, r)
            s[PREFIX + "encoder.deep_proj.%d.bias" % j] = (d,)
    return s
