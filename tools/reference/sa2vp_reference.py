"""Independent, deliberately plain float64 PyTorch reference for the SA2VP building blocks.

Written from docs/AUTHORS-CODE.md (sections 1.3-1.4) and the paper (Eq. 2-5),
not from any product code. It is the slow, obviously-correct check for the DL4J layers:

* spatially aligned cross attention ``cross_attention`` (local window / global), with the local window
  evaluated by an explicit Python loop over the query tokens and an explicit list of key indices per query;
* ``cross_attention_masked``: a second, independent formulation (dense attention + additive -inf mask built
  with broadcasting) used only to cross-check the loop version;
* ``prompt_adapter`` (LN -> fc1 -> act -> fc2, no residual), ``prompt_fusion`` (O + scale * P);
* ``vit_block`` (pre-LN ViT block) and ``dual_pathway_vertex`` (one frozen block shared by the image and
  prompt streams, plus cross attention + adapter + optional deep prompt).

Conventions: token tensors are [B, T, D]; a token map is an optional class token at index 0 followed by an
H x W grid in row-major order (token index = cls + W*row + col). Linear weights are in PyTorch layout
[out, in]. All gradients come from autograd.

Configurations are plain dicts whose keys are the JSON field names used by the fixtures
(hiddenSize, numHeads, windowSize, queryGrid, keyGrid, classToken, mode, layerNormEps, ...).
Parameters are plain dicts name -> tensor, with the fixture names (``norm.weight``, ``q.weight``, ...).
"""
import math

import torch

torch.set_default_dtype(torch.float64)


# ----------------------------------------------------------------------------------------------------------
# elementary pieces
# ----------------------------------------------------------------------------------------------------------

def layer_norm(x, weight, bias, eps):
    """LayerNorm over the last dimension, biased variance, written out."""
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def linear(x, weight, bias):
    """y = x W^T + b with W in PyTorch layout [out, in]."""
    return x @ weight.t() + bias


def gelu_erf(x):
    """Exact (erf) GELU."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def relu(x):
    return torch.relu(x)


ACTIVATIONS = {"gelu": gelu_erf, "relu": relu}


def split_heads(x, heads):
    """[B, T, D] -> [B, heads, T, D/heads] (head h owns channels h*dh .. (h+1)*dh-1)."""
    b, t, d = x.shape
    assert d % heads == 0
    return x.reshape(b, t, heads, d // heads).permute(0, 2, 1, 3)


def merge_heads(x):
    """[B, heads, T, dh] -> [B, T, heads*dh]."""
    b, h, t, dh = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, t, h * dh)


# ----------------------------------------------------------------------------------------------------------
# which keys each query sees
# ----------------------------------------------------------------------------------------------------------

def grid_tokens(grid, class_token):
    h, w = grid
    return (1 if class_token else 0) + h * w


def window_centre(row, col, query_grid, key_grid):
    """Centre (cr, cc) on the key grid of the window of query patch (row, col).

    cr = min(floor((row + 0.5) * Hk / Hq), Hk - 1), evaluated in exact integer arithmetic:
    floor((2*row + 1) * Hk / (2 * Hq)).
    """
    hq, wq = query_grid
    hk, wk = key_grid
    cr = min(((2 * row + 1) * hk) // (2 * hq), hk - 1)
    cc = min(((2 * col + 1) * wk) // (2 * wq), wk - 1)
    return cr, cc


def attended_keys(query_grid, key_grid, class_token, window_size, mode):
    """For every query token (in token order) the list of key token indices it attends to.

    local:  the query cls token (if any) sees all Tk keys (key cls included); a query patch sees the key
            PATCH tokens inside the c x c window around its centre, clipped at the border (no padding),
            never the key cls token.
    global: every query sees every key token.
    """
    hq, wq = query_grid
    hk, wk = key_grid
    cls = 1 if class_token else 0
    tk = cls + hk * wk
    if mode not in ("local", "global"):
        raise ValueError("mode must be 'local' or 'global', got %r" % (mode,))
    result = []
    if class_token:
        result.append(list(range(tk)))
    for row in range(hq):
        for col in range(wq):
            if mode == "global":
                result.append(list(range(tk)))
                continue
            assert window_size % 2 == 1, "window size must be odd"
            half = (window_size - 1) // 2
            cr, cc = window_centre(row, col, query_grid, key_grid)
            keys = []
            for kr in range(cr - half, cr + half + 1):
                for kc in range(cc - half, cc + half + 1):
                    if 0 <= kr < hk and 0 <= kc < wk:
                        keys.append(cls + wk * kr + kc)
            assert len(keys) > 0
            result.append(keys)
    assert len(result) == grid_tokens(query_grid, class_token)
    return result


# ----------------------------------------------------------------------------------------------------------
# 1. spatially aligned cross attention
# ----------------------------------------------------------------------------------------------------------

def _project_qkv(q, kv, p, cfg):
    eps = cfg["layerNormEps"]
    heads = cfg["numHeads"]
    qn = layer_norm(q, p["norm.weight"], p["norm.bias"], eps)
    kvn = layer_norm(kv, p["norm.weight"], p["norm.bias"], eps)
    Q = split_heads(linear(qn, p["q.weight"], p["q.bias"]), heads)
    K = split_heads(linear(kvn, p["k.weight"], p["k.bias"]), heads)
    V = split_heads(linear(kvn, p["v.weight"], p["v.bias"]), heads)
    return Q, K, V


def _check_shapes(q, kv, cfg):
    tq = grid_tokens(cfg["queryGrid"], cfg["classToken"])
    tk = grid_tokens(cfg["keyGrid"], cfg["classToken"])
    assert q.shape[1] == tq, (q.shape, tq)
    assert kv.shape[1] == tk, (kv.shape, tk)
    assert q.shape[2] == kv.shape[2] == cfg["hiddenSize"]


def cross_attention(q, kv, p, cfg):
    """CA(q, kv) = q + out(concat_heads(attn)), with an explicit loop over the query tokens.

    p: norm.weight/bias, q/k/v/out .weight/.bias.  cfg: hiddenSize, numHeads, windowSize, queryGrid,
    keyGrid, classToken, mode, layerNormEps.
    """
    _check_shapes(q, kv, cfg)
    Q, K, V = _project_qkv(q, kv, p, cfg)
    scale = 1.0 / math.sqrt(Q.shape[-1])
    keys_per_query = attended_keys(cfg["queryGrid"], cfg["keyGrid"], cfg["classToken"],
                                   cfg["windowSize"], cfg["mode"])
    outs = []
    for i, keys in enumerate(keys_per_query):
        idx = torch.tensor(keys, dtype=torch.long)
        k_i = K[:, :, idx, :]                                    # [B, h, n, dh]
        v_i = V[:, :, idx, :]                                    # [B, h, n, dh]
        logits = torch.einsum("bhd,bhnd->bhn", Q[:, :, i, :], k_i) * scale
        weights = torch.softmax(logits, dim=-1)                  # softmax over exactly these n keys
        outs.append(torch.einsum("bhn,bhnd->bhd", weights, v_i))
    attn = torch.stack(outs, dim=2)                              # [B, h, Tq, dh]
    a = linear(merge_heads(attn), p["out.weight"], p["out.bias"])
    return q + a


def local_attention_mask(cfg):
    """Additive mask [Tq, Tk] (0 = allowed, -inf = forbidden), built with broadcasting (second formulation).

    Uses the floating-point form of the centre formula, independent of ``attended_keys``.
    """
    hq, wq = cfg["queryGrid"]
    hk, wk = cfg["keyGrid"]
    cls = 1 if cfg["classToken"] else 0
    tq, tk = cls + hq * wq, cls + hk * wk
    allowed = torch.zeros(tq, tk, dtype=torch.bool)
    if cfg["mode"] == "global":
        allowed[:] = True
    else:
        half = (cfg["windowSize"] - 1) // 2
        qr = torch.arange(hq).repeat_interleave(wq).to(torch.float64)   # row of each query patch
        qc = torch.arange(wq).repeat(hq).to(torch.float64)               # col of each query patch
        cr = torch.clamp(torch.floor((qr + 0.5) * hk / hq), max=hk - 1)
        cc = torch.clamp(torch.floor((qc + 0.5) * wk / wq), max=wk - 1)
        kr = torch.arange(hk).repeat_interleave(wk).to(torch.float64)
        kc = torch.arange(wk).repeat(hk).to(torch.float64)
        patch_allowed = ((cr[:, None] - kr[None, :]).abs() <= half) & \
                        ((cc[:, None] - kc[None, :]).abs() <= half)      # [Hq*Wq, Hk*Wk]
        allowed[cls:, cls:] = patch_allowed
        if cls:
            allowed[0, :] = True                                         # cls query is global
            # allowed[1:, 0] stays False: a patch never sees the key cls token
    mask = torch.zeros(tq, tk)
    mask[~allowed] = float("-inf")
    return mask


def cross_attention_masked(q, kv, p, cfg):
    """Second formulation of CA: dense attention with an additive -inf mask."""
    _check_shapes(q, kv, cfg)
    Q, K, V = _project_qkv(q, kv, p, cfg)
    scale = 1.0 / math.sqrt(Q.shape[-1])
    logits = Q @ K.transpose(-1, -2) * scale + local_attention_mask(cfg)
    attn = torch.softmax(logits, dim=-1) @ V
    return q + linear(merge_heads(attn), p["out.weight"], p["out.bias"])


# ----------------------------------------------------------------------------------------------------------
# 2. prompt adapter, 3. prompt fusion
# ----------------------------------------------------------------------------------------------------------

def prompt_adapter(x, p, cfg):
    """LN -> fc1 (D->t) -> activation -> fc2 (t->D); no residual.  cfg: activation, layerNormEps."""
    h = layer_norm(x, p["norm.weight"], p["norm.bias"], cfg["layerNormEps"])
    h = linear(h, p["fc1.weight"], p["fc1.bias"])
    h = ACTIVATIONS[cfg["activation"]](h)
    return linear(h, p["fc2.weight"], p["fc2.bias"])


def prompt_fusion(stream, prompt, scale):
    """O + scale (.) P, scale [D] broadcast over batch and tokens."""
    return stream + scale * prompt


# ----------------------------------------------------------------------------------------------------------
# 4. ViT block and the dual pathway vertex
# ----------------------------------------------------------------------------------------------------------

def multi_head_self_attention(x, p, heads):
    Q = split_heads(linear(x, p["attn.q.weight"], p["attn.q.bias"]), heads)
    K = split_heads(linear(x, p["attn.k.weight"], p["attn.k.bias"]), heads)
    V = split_heads(linear(x, p["attn.v.weight"], p["attn.v.bias"]), heads)
    scale = 1.0 / math.sqrt(Q.shape[-1])
    weights = torch.softmax(Q @ K.transpose(-1, -2) * scale, dim=-1)
    return linear(merge_heads(weights @ V), p["attn.proj.weight"], p["attn.proj.bias"])


def vit_block(x, p, heads, eps):
    """Pre-LN ViT block: x + MHSA(norm1(x)), then x + fc2(GELU(fc1(norm2(x))))."""
    x = x + multi_head_self_attention(layer_norm(x, p["norm1.weight"], p["norm1.bias"], eps), p, heads)
    h = layer_norm(x, p["norm2.weight"], p["norm2.bias"], eps)
    h = gelu_erf(linear(h, p["mlp.fc1.weight"], p["mlp.fc1.bias"]))
    return x + linear(h, p["mlp.fc2.weight"], p["mlp.fc2.bias"])


def vertex_cross_attention_params(p):
    """The vertex's cross attention reuses the block's norm1 and attention projections."""
    return {
        "norm.weight": p["norm1.weight"], "norm.bias": p["norm1.bias"],
        "q.weight": p["attn.q.weight"], "q.bias": p["attn.q.bias"],
        "k.weight": p["attn.k.weight"], "k.bias": p["attn.k.bias"],
        "v.weight": p["attn.v.weight"], "v.bias": p["attn.v.bias"],
        "out.weight": p["attn.proj.weight"], "out.bias": p["attn.proj.bias"],
    }


def vertex_adapter_params(p):
    return {name[len("adapter."):]: t for name, t in p.items() if name.startswith("adapter.")}


def dual_pathway_vertex(packed, p, cfg):
    """One SA2VP layer on the packed tensor [B, Ti+Tp, D] = concat(X, P); returns concat(Xout, Pout).

    cfg: hiddenSize, numHeads, mlpSize, windowSize, imageGrid, promptGrid, classToken, direction, gamma,
    adapterSize, deepPrompt, deepPromptRank, layerNormEps.
    """
    eps = cfg["layerNormEps"]
    heads = cfg["numHeads"]
    ti = grid_tokens(cfg["imageGrid"], cfg["classToken"])
    tp = grid_tokens(cfg["promptGrid"], cfg["classToken"])
    assert packed.shape[1] == ti + tp and packed.shape[2] == cfg["hiddenSize"]
    X = packed[:, :ti, :]
    P = packed[:, ti:, :]

    ca_p = vertex_cross_attention_params(p)
    ad_p = vertex_adapter_params(p)
    ad_cfg = {"activation": "gelu", "layerNormEps": eps}
    common = {"hiddenSize": cfg["hiddenSize"], "numHeads": heads, "windowSize": cfg["windowSize"],
              "classToken": cfg["classToken"], "mode": "local", "layerNormEps": eps}
    if cfg["direction"] == "prompt_to_image":
        ca_cfg = dict(common, queryGrid=cfg["imageGrid"], keyGrid=cfg["promptGrid"])
        F = prompt_adapter(cross_attention(X, P, ca_p, ca_cfg), ad_p, ad_cfg)
    elif cfg["direction"] == "image_to_prompt":
        ca_cfg = dict(common, queryGrid=cfg["promptGrid"], keyGrid=cfg["imageGrid"])
        F = prompt_adapter(cross_attention(P, X, ca_p, ca_cfg), ad_p, ad_cfg)
    else:
        raise ValueError("unknown direction %r" % (cfg["direction"],))

    Pout = vit_block(P, p, heads, eps)
    if cfg["deepPrompt"]:
        deep_map = p["deep.factors"] @ p["deep.proj.weight"].t() + p["deep.proj.bias"]   # [Tp, D]
        assert deep_map.shape == (tp, cfg["hiddenSize"])
        # the map is the same for every batch element: run it through the block once, broadcast over B
        Pout = Pout + vit_block(deep_map.unsqueeze(0), p, heads, eps) * p["deep.scale"]
    Xout = vit_block(X, p, heads, eps)
    if cfg["direction"] == "prompt_to_image":
        Xout = Xout + cfg["gamma"] * F
    else:
        Pout = Pout + cfg["gamma"] * F
    return torch.cat([Xout, Pout], dim=1)


VERTEX_FROZEN = ["norm1.weight", "norm1.bias",
                 "attn.q.weight", "attn.q.bias", "attn.k.weight", "attn.k.bias",
                 "attn.v.weight", "attn.v.bias", "attn.proj.weight", "attn.proj.bias",
                 "norm2.weight", "norm2.bias",
                 "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"]
VERTEX_ADAPTER = ["adapter.norm.weight", "adapter.norm.bias", "adapter.fc1.weight", "adapter.fc1.bias",
                  "adapter.fc2.weight", "adapter.fc2.bias"]
VERTEX_DEEP = ["deep.factors", "deep.proj.weight", "deep.proj.bias", "deep.scale"]
CA_PARAMS = ["norm.weight", "norm.bias", "q.weight", "q.bias", "k.weight", "k.bias",
             "v.weight", "v.bias", "out.weight", "out.bias"]
ADAPTER_PARAMS = ["norm.weight", "norm.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


# ----------------------------------------------------------------------------------------------------------
# random parameters of "sensible scale" (shared by the fixture writer and the benchmark self-test)
# ----------------------------------------------------------------------------------------------------------

class Init:
    """Draws tensors from one seeded generator: weights N(0, .2), biases N(0, .1), LN weight 1+N(0, .1),
    LN bias N(0, .1), scales N(0, .5), inputs N(0, 1)."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def normal(self, shape, std=1.0, mean=0.0):
        return mean + std * torch.randn(*shape, generator=self.g, dtype=torch.float64)

    def linear(self, p, name, n_out, n_in):
        p[name + ".weight"] = self.normal((n_out, n_in), 0.2)
        p[name + ".bias"] = self.normal((n_out,), 0.1)

    def layer_norm(self, p, name, d):
        p[name + ".weight"] = self.normal((d,), 0.1, 1.0)
        p[name + ".bias"] = self.normal((d,), 0.1)


def random_ca_params(init, d):
    p = {}
    init.layer_norm(p, "norm", d)
    for name in ("q", "k", "v", "out"):
        init.linear(p, name, d, d)
    return p


def random_adapter_params(init, d, t, prefix=""):
    p = {}
    init.layer_norm(p, prefix + "norm", d)
    init.linear(p, prefix + "fc1", t, d)
    init.linear(p, prefix + "fc2", d, t)
    return p


def random_vertex_params(init, cfg):
    d, m = cfg["hiddenSize"], cfg["mlpSize"]
    p = {}
    init.layer_norm(p, "norm1", d)
    for name in ("attn.q", "attn.k", "attn.v", "attn.proj"):
        init.linear(p, name, d, d)
    init.layer_norm(p, "norm2", d)
    init.linear(p, "mlp.fc1", m, d)
    init.linear(p, "mlp.fc2", d, m)
    p.update(random_adapter_params(init, d, cfg["adapterSize"], prefix="adapter."))
    if cfg["deepPrompt"]:
        tp = grid_tokens(cfg["promptGrid"], cfg["classToken"])
        r = cfg["deepPromptRank"]
        p["deep.factors"] = init.normal((tp, r), 0.5)
        init.linear(p, "deep.proj", d, r)
        p["deep.scale"] = init.normal((d,), 0.5)
    return p


def vertex_trainable_names(cfg):
    return VERTEX_ADAPTER + (VERTEX_DEEP if cfg["deepPrompt"] else [])
