#!/usr/bin/python3
"""Vectorised float32 PyTorch DualPathwayVertex (one SA2VP layer) at ViT-B size, for benchmarking.

    /usr/bin/python3 tools/bench/torch_dual_pathway_block.py [--batch 8] [--threads 2] [--steps 3]
    /usr/bin/python3 tools/bench/torch_dual_pathway_block.py --selftest

Configuration: D=768, 12 heads, MLP 3072, image grid 14x14 + cls, prompt grid 14x14 + cls, adapter 16
(GELU), deep prompt rank 16, direction image_to_prompt, window 3, gamma 0.1, LayerNorm eps 1e-6.
Same semantics as tools/reference/sa2vp_reference.py::dual_pathway_vertex, but the local cross attention
is vectorised: the c x c neighbour key/value tokens of every query patch are gathered with one index
tensor [Nq, c*c] (indices precomputed with tensor arithmetic, no Python loop over queries); positions
outside the key grid get a -inf logit, so the softmax runs over exactly the clipped window. The cls query
attends globally. The deep map is batch-independent, so it goes through the block once and is broadcast.

Frozen block weights have requires_grad False; the adapter and deep-prompt parameters and the packed
input have requires_grad True. Measures the median forward time (no_grad) and the median
forward+backward time over --steps steps (after one untimed warm-up each), and prints as its LAST line
{"impl":"pytorch","forward_s":..,"forward_backward_s":..,"peak_rss_mb":..}.
--selftest compares this implementation (run in float64) with the reference on tiny configurations.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------------------
# vectorised implementation (dtype-agnostic; float32 for the benchmark)
# ----------------------------------------------------------------------------------------------------------

def local_window_index(query_grid, key_grid, class_token, window_size):
    """Index [Hq*Wq, c*c] of key token ids (clamped into the grid) and validity mask of the same shape."""
    hq, wq = query_grid
    hk, wk = key_grid
    cls = 1 if class_token else 0
    half = (window_size - 1) // 2
    cr = torch.clamp(((2 * torch.arange(hq) + 1) * hk) // (2 * hq), max=hk - 1)    # [Hq]
    cc = torch.clamp(((2 * torch.arange(wq) + 1) * wk) // (2 * wq), max=wk - 1)    # [Wq]
    off = torch.arange(window_size) - half                                          # [c]
    rows = (cr[:, None] + off[None, :])[:, None, :, None].expand(hq, wq, window_size, window_size)
    cols = (cc[:, None] + off[None, :])[None, :, None, :].expand(hq, wq, window_size, window_size)
    valid = (rows >= 0) & (rows < hk) & (cols >= 0) & (cols < wk)
    idx = cls + wk * rows.clamp(0, hk - 1) + cols.clamp(0, wk - 1)
    n = hq * wq
    return idx.reshape(n, window_size * window_size).contiguous(), valid.reshape(n, -1).contiguous()


class LocalCrossAttention:
    """CA(q, kv) = q + proj(concat_heads(local attention)), vectorised."""

    def __init__(self, query_grid, key_grid, class_token, window_size, heads, eps):
        self.cls = 1 if class_token else 0
        self.heads = heads
        self.eps = eps
        self.idx, self.valid = local_window_index(query_grid, key_grid, class_token, window_size)
        self.invalid = ~self.valid

    def __call__(self, q, kv, p):
        b, tq, d = q.shape
        tk = kv.shape[1]
        h, dh = self.heads, d // self.heads
        qn = F.layer_norm(q, (d,), p["norm1.weight"], p["norm1.bias"], self.eps)
        kvn = F.layer_norm(kv, (d,), p["norm1.weight"], p["norm1.bias"], self.eps)
        Q = F.linear(qn, p["attn.q.weight"], p["attn.q.bias"]).view(b, tq, h, dh).transpose(1, 2)
        K = F.linear(kvn, p["attn.k.weight"], p["attn.k.bias"]).view(b, tk, h, dh).transpose(1, 2)
        V = F.linear(kvn, p["attn.v.weight"], p["attn.v.bias"]).view(b, tk, h, dh).transpose(1, 2)
        Q = Q * (1.0 / math.sqrt(dh))
        parts = []
        if self.cls:                                                # cls query: global attention
            w = torch.softmax(Q[:, :, :1] @ K.transpose(-1, -2), dim=-1)
            parts.append(w @ V)                                     # [B, h, 1, dh]
        Qp = Q[:, :, self.cls:]                                     # [B, h, N, dh]
        Kg = K[:, :, self.idx]                                      # [B, h, N, c*c, dh]
        Vg = V[:, :, self.idx]
        logits = (Kg @ Qp.unsqueeze(-1)).squeeze(-1)                # [B, h, N, c*c]
        logits = logits.masked_fill(self.invalid, float("-inf"))
        w = torch.softmax(logits, dim=-1)
        parts.append((w.unsqueeze(-2) @ Vg).squeeze(-2))            # [B, h, N, dh]
        attn = torch.cat(parts, dim=2) if len(parts) > 1 else parts[0]
        attn = attn.transpose(1, 2).reshape(b, tq, d)
        return q + F.linear(attn, p["attn.proj.weight"], p["attn.proj.bias"])


def vit_block(x, p, heads, eps):
    b, t, d = x.shape
    dh = d // heads
    h = F.layer_norm(x, (d,), p["norm1.weight"], p["norm1.bias"], eps)
    Q = F.linear(h, p["attn.q.weight"], p["attn.q.bias"]).view(b, t, heads, dh).transpose(1, 2)
    K = F.linear(h, p["attn.k.weight"], p["attn.k.bias"]).view(b, t, heads, dh).transpose(1, 2)
    V = F.linear(h, p["attn.v.weight"], p["attn.v.bias"]).view(b, t, heads, dh).transpose(1, 2)
    w = torch.softmax((Q * (1.0 / math.sqrt(dh))) @ K.transpose(-1, -2), dim=-1)
    a = (w @ V).transpose(1, 2).reshape(b, t, d)
    x = x + F.linear(a, p["attn.proj.weight"], p["attn.proj.bias"])
    h = F.layer_norm(x, (d,), p["norm2.weight"], p["norm2.bias"], eps)
    h = F.gelu(F.linear(h, p["mlp.fc1.weight"], p["mlp.fc1.bias"]))
    return x + F.linear(h, p["mlp.fc2.weight"], p["mlp.fc2.bias"])


def adapter(x, p, eps):
    h = F.layer_norm(x, (x.shape[-1],), p["adapter.norm.weight"], p["adapter.norm.bias"], eps)
    h = F.gelu(F.linear(h, p["adapter.fc1.weight"], p["adapter.fc1.bias"]))
    return F.linear(h, p["adapter.fc2.weight"], p["adapter.fc2.bias"])


class DualPathwayVertex:
    def __init__(self, cfg):
        self.cfg = cfg
        cls = 1 if cfg["classToken"] else 0
        self.ti = cls + cfg["imageGrid"][0] * cfg["imageGrid"][1]
        self.tp = cls + cfg["promptGrid"][0] * cfg["promptGrid"][1]
        self.p2i = cfg["direction"] == "prompt_to_image"
        assert self.p2i or cfg["direction"] == "image_to_prompt"
        qg, kg = ((cfg["imageGrid"], cfg["promptGrid"]) if self.p2i
                  else (cfg["promptGrid"], cfg["imageGrid"]))
        self.ca = LocalCrossAttention(qg, kg, cfg["classToken"], cfg["windowSize"], cfg["numHeads"],
                                      cfg["layerNormEps"])

    def __call__(self, packed, p):
        cfg = self.cfg
        heads, eps, gamma = cfg["numHeads"], cfg["layerNormEps"], cfg["gamma"]
        X, P = packed[:, :self.ti], packed[:, self.ti:]
        Fq = adapter(self.ca(X, P, p) if self.p2i else self.ca(P, X, p), p, eps)
        Pout = vit_block(P, p, heads, eps)
        if cfg["deepPrompt"]:
            deep_map = F.linear(p["deep.factors"], p["deep.proj.weight"], p["deep.proj.bias"])
            Pout = Pout + vit_block(deep_map.unsqueeze(0), p, heads, eps) * p["deep.scale"]
        Xout = vit_block(X, p, heads, eps)
        if self.p2i:
            Xout = Xout + gamma * Fq
        else:
            Pout = Pout + gamma * Fq
        return torch.cat([Xout, Pout], dim=1)


# ----------------------------------------------------------------------------------------------------------
# parameters, benchmark, self-test
# ----------------------------------------------------------------------------------------------------------

VIT_B = {"hiddenSize": 768, "numHeads": 12, "mlpSize": 3072, "windowSize": 3, "imageGrid": [14, 14],
         "promptGrid": [14, 14], "classToken": True, "direction": "image_to_prompt", "gamma": 0.1,
         "adapterSize": 16, "deepPrompt": True, "deepPromptRank": 16, "layerNormEps": 1e-6}

TRAINABLE_PREFIXES = ("adapter.", "deep.")


def random_params(cfg, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    d, m, t = cfg["hiddenSize"], cfg["mlpSize"], cfg["adapterSize"]
    tp = (1 if cfg["classToken"] else 0) + cfg["promptGrid"][0] * cfg["promptGrid"][1]
    r = cfg["deepPromptRank"]

    def n(*shape, std=0.02, mean=0.0):
        return (mean + std * torch.randn(*shape, generator=g, dtype=torch.float64)).to(dtype)
    p = {"norm1.weight": n(d, std=0.1, mean=1.0), "norm1.bias": n(d, std=0.1),
         "norm2.weight": n(d, std=0.1, mean=1.0), "norm2.bias": n(d, std=0.1),
         "mlp.fc1.weight": n(m, d), "mlp.fc1.bias": n(m), "mlp.fc2.weight": n(d, m), "mlp.fc2.bias": n(d),
         "adapter.norm.weight": n(d, std=0.1, mean=1.0), "adapter.norm.bias": n(d, std=0.1),
         "adapter.fc1.weight": n(t, d, std=0.05), "adapter.fc1.bias": n(t),
         "adapter.fc2.weight": n(d, t, std=0.05), "adapter.fc2.bias": n(d)}
    for name in ("attn.q", "attn.k", "attn.v", "attn.proj"):
        p[name + ".weight"], p[name + ".bias"] = n(d, d), n(d)
    if cfg["deepPrompt"]:
        p.update({"deep.factors": n(tp, r), "deep.proj.weight": n(d, r, std=0.2), "deep.proj.bias": n(d),
                  "deep.scale": n(d, std=0.5)})
    for k, v in p.items():
        v.requires_grad_(k.startswith(TRAINABLE_PREFIXES))
    return p


def peak_rss_mb():
    # VmHWM of this process image. ru_maxrss is not used: Linux carries it over fork/exec, so a run started
    # from a JVM would report the JVM's peak.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def benchmark(batch, threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = VIT_B
    p = random_params(cfg, torch.float32)
    vertex = DualPathwayVertex(cfg)
    t_tokens = vertex.ti + vertex.tp
    x = torch.randn(batch, t_tokens, cfg["hiddenSize"], dtype=torch.float32, requires_grad=True)
    grad_out = torch.randn(batch, t_tokens, cfg["hiddenSize"], dtype=torch.float32)
    trainable = [v for v in p.values() if v.requires_grad]

    with torch.no_grad():
        vertex(x, p)                                           # warm-up
        fwd = []
        for _ in range(steps):
            t0 = time.perf_counter()
            vertex(x, p)
            fwd.append(time.perf_counter() - t0)

    def fwd_bwd():
        x.grad = None
        for v in trainable:
            v.grad = None
        out = vertex(x, p)
        (out * grad_out).sum().backward()

    fwd_bwd()                                                  # warm-up
    fb = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fwd_bwd()
        fb.append(time.perf_counter() - t0)
    assert x.grad is not None and all(v.grad is not None for v in trainable)
    print("config: batch %d, threads %d, steps %d, tokens %d (image %d + prompt %d), torch %s" % (
        batch, threads, steps, t_tokens, vertex.ti, vertex.tp, torch.__version__), file=sys.stderr)
    print("forward times %s, forward+backward times %s" % (
        ["%.3f" % s for s in fwd], ["%.3f" % s for s in fb]), file=sys.stderr)
    return {"impl": "pytorch", "forward_s": statistics.median(fwd), "forward_backward_s": statistics.median(fb),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def selftest():
    """Compare with tools/reference/sa2vp_reference.py (explicit-loop float64 reference) on tiny configs."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
    import sa2vp_reference as ref
    torch.set_default_dtype(torch.float64)
    base = {"hiddenSize": 16, "numHeads": 4, "mlpSize": 32, "windowSize": 3, "gamma": 0.5, "adapterSize": 4,
            "deepPromptRank": 3, "layerNormEps": 1e-6}
    configs = [
        dict(base, imageGrid=[3, 4], promptGrid=[3, 4], classToken=True, direction="image_to_prompt",
             deepPrompt=True),
        dict(base, imageGrid=[4, 4], promptGrid=[2, 2], classToken=True, direction="prompt_to_image",
             deepPrompt=False),
        dict(base, imageGrid=[3, 5], promptGrid=[6, 4], classToken=True, direction="image_to_prompt",
             deepPrompt=True, windowSize=5),
        dict(base, imageGrid=[3, 3], promptGrid=[3, 3], classToken=False, direction="prompt_to_image",
             deepPrompt=True, deepPromptRank=2),
    ]
    worst = 0.0
    for i, cfg in enumerate(configs):
        init = ref.Init(900 + i)
        t = ref.grid_tokens(cfg["imageGrid"], cfg["classToken"]) + ref.grid_tokens(cfg["promptGrid"],
                                                                                   cfg["classToken"])
        x0 = init.normal((2, t, cfg["hiddenSize"]))
        p0 = ref.random_vertex_params(init, cfg)
        g = init.normal((2, t, cfg["hiddenSize"]))
        names = ["input"] + ref.vertex_trainable_names(cfg)
        results = []
        for impl in ("reference", "vectorised"):
            x = x0.clone().requires_grad_(True)
            p = {k: v.clone().requires_grad_(k.startswith(TRAINABLE_PREFIXES)) for k, v in p0.items()}
            out = (ref.dual_pathway_vertex(x, p, cfg) if impl == "reference"
                   else DualPathwayVertex(cfg)(x, p))
            grads = torch.autograd.grad((out * g).sum(), [x] + [p[n] for n in names[1:]])
            results.append([out] + list(grads))
        diffs = {n: (a - b).abs().max().item() for n, a, b in zip(["output"] + names, *results)}
        d = max(diffs.values())
        worst = max(worst, d)
        print("selftest config %d (%s, image %s, prompt %s, cls %s, deep %s, c=%d): max |diff| %.2e" % (
            i, cfg["direction"], cfg["imageGrid"], cfg["promptGrid"], cfg["classToken"], cfg["deepPrompt"],
            cfg["windowSize"], d))
        assert d < 1e-12, diffs
    # float32 at ViT-B size, vectorised CA vs the reference's dense masked formulation (float64)
    torch.set_default_dtype(torch.float32)
    p = random_params(VIT_B, torch.float32)
    gen = torch.Generator().manual_seed(5)
    X = torch.randn(2, 197, 768, generator=gen)
    P = torch.randn(2, 197, 768, generator=gen)
    ca32 = LocalCrossAttention([14, 14], [14, 14], True, 3, 12, 1e-6)(P, X, p)
    ca_p = {k: v.detach().double() for k, v in ref.vertex_cross_attention_params(p).items()}
    ca_cfg = {"hiddenSize": 768, "numHeads": 12, "windowSize": 3, "queryGrid": [14, 14], "keyGrid": [14, 14],
              "classToken": True, "mode": "local", "layerNormEps": 1e-6}
    d32 = 0.0
    for ca_ref in (ref.cross_attention, ref.cross_attention_masked):
        ca64 = ca_ref(P.double(), X.double(), ca_p, ca_cfg)
        d32 = max(d32, (ca32.double() - ca64).abs().max().item())
    print("selftest ViT-B local CA float32 vs float64 reference (loop and masked forms): max |diff| %.2e" % d32)
    assert d32 < 1e-4
    print("SELFTEST PASSED (worst float64 diff %.2e)" % worst)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()
    if args.selftest:
        torch.set_num_threads(args.threads)
        selftest()
        return
    print(json.dumps(benchmark(args.batch, args.threads, args.steps)))


if __name__ == "__main__":
    main()
