#!/usr/bin/python3
"""Writes the SA2VP layer fixtures (one .npz + one .json per case) for the DL4J test-suite.

    /usr/bin/python3 tools/reference/make_layer_fixtures.py [--out DIR] [--skip-checks]

Default output: sa2vp-layers/src/test/resources/fixtures/layers/ (relative to the repository root).
Deterministic: every case has its own fixed seed; the .npz files are written in exactly np.savez's
uncompressed format but with a fixed zip timestamp, so a rerun reproduces the files byte for byte.
Before writing, the script runs the self-checks (window sizes, loop vs masked formulation, gradcheck).
"""
import argparse
import json
import os
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sa2vp_reference as ref  # noqa: E402

torch.set_default_dtype(torch.float64)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "sa2vp-layers", "src", "test", "resources", "fixtures", "layers")

B, D, HEADS, EPS = 2, 16, 4, 1e-6

CA_CASES = [
    # name, seed, queryGrid, keyGrid, classToken, windowSize, mode
    ("ca_local_cls_c3", 101, [5, 6], [5, 6], True, 3, "local"),
    ("ca_local_nocls_c5", 102, [6, 7], [6, 7], False, 5, "local"),
    ("ca_local_scaled_cls", 103, [3, 4], [6, 8], True, 3, "local"),
    ("ca_local_scaled_down", 104, [6, 6], [3, 3], False, 3, "local"),
    ("ca_global_cls", 105, [4, 5], [4, 5], True, 3, "global"),   # windowSize is ignored in global mode
]
ADAPTER_CASES = [
    # name, seed, T, adapterSize, activation
    ("adapter_gelu", 201, 7, 4, "gelu"),
    ("adapter_relu", 202, 7, 4, "relu"),
]
FUSION_CASES = [("fusion", 301, 7)]
VERTEX_CASES = [
    # name, seed, imageGrid, promptGrid, classToken, direction, deepPrompt, deepPromptRank
    ("vertex_i2p_deep", 401, [3, 4], [3, 4], True, "image_to_prompt", True, 3),
    ("vertex_p2i", 402, [4, 4], [2, 2], True, "prompt_to_image", False, 0),
    ("vertex_p2i_deep_nocls", 403, [3, 3], [3, 3], False, "prompt_to_image", True, 2),
]
VERTEX_COMMON = {"mlpSize": 32, "windowSize": 3, "gamma": 0.5, "adapterSize": 4}


# ----------------------------------------------------------------------------------------------------------
# output helpers
# ----------------------------------------------------------------------------------------------------------

def to_numpy(t):
    return np.ascontiguousarray(t.detach().cpu().numpy(), dtype="<f8")


def save_npz(path, arrays):
    """Same bytes layout as np.savez (ZIP_STORED, force_zip64, one <key>.npy per array) but with a fixed
    timestamp so that reruns are byte-identical."""
    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, val in arrays.items():
            arr = np.ascontiguousarray(val, dtype="<f8")
            assert arr.dtype == np.dtype("<f8") and arr.flags["C_CONTIGUOUS"]
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fid:
                np.lib.format.write_array(fid, arr, allow_pickle=False)


def save_case(out_dir, name, cfg, arrays):
    save_npz(os.path.join(out_dir, name + ".npz"), arrays)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def run_with_grads(fn, inputs, params, trainable):
    """inputs: ordered dict name -> tensor; params: dict; trainable: names of params needing grads.
    Returns (output, grad_output, input grads, param grads) for the loss sum(output * grad_output)."""
    inputs = {k: v.detach().clone().requires_grad_(True) for k, v in inputs.items()}
    params = {k: v.detach().clone().requires_grad_(k in trainable) for k, v in params.items()}
    out = fn(inputs, params)
    return out, inputs, params


def finish(out, grad_output, inputs, params, trainable):
    leaves = list(inputs.values()) + [params[n] for n in trainable]
    grads = torch.autograd.grad((out * grad_output).sum(), leaves)
    gi = {("grad_" + k): g for k, g in zip(inputs.keys(), grads[:len(inputs)])}
    gp = {("grad_" + n): g for n, g in zip(trainable, grads[len(inputs):])}
    return gi, gp


def assemble(inputs, params, out, grad_output, gi, gp):
    arrays = {}
    for k, v in inputs.items():
        arrays[k] = to_numpy(v)
    for k, v in params.items():
        arrays[k] = to_numpy(v)
    arrays["output"] = to_numpy(out)
    arrays["grad_output"] = to_numpy(grad_output)
    for k, v in gi.items():
        arrays[k] = to_numpy(v)
    for k, v in gp.items():
        arrays[k] = to_numpy(v)
    return arrays


# ----------------------------------------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------------------------------------

def ca_config(query_grid, key_grid, cls, c, mode, d=D, heads=HEADS):
    return {"hiddenSize": d, "numHeads": heads, "windowSize": c, "queryGrid": list(query_grid),
            "keyGrid": list(key_grid), "classToken": cls, "mode": mode, "layerNormEps": EPS}


def make_ca(seed, cfg):
    init = ref.Init(seed)
    tq = ref.grid_tokens(cfg["queryGrid"], cfg["classToken"])
    tk = ref.grid_tokens(cfg["keyGrid"], cfg["classToken"])
    inputs = {"query": init.normal((B, tq, cfg["hiddenSize"])),
              "key_value": init.normal((B, tk, cfg["hiddenSize"]))}
    params = ref.random_ca_params(init, cfg["hiddenSize"])
    trainable = []                                           # CA params are frozen
    out, inputs, params = run_with_grads(
        lambda i, p: ref.cross_attention(i["query"], i["key_value"], p, cfg), inputs, params, trainable)
    grad_output = init.normal(tuple(out.shape))
    gi, gp = finish(out, grad_output, inputs, params, trainable)
    return assemble(inputs, params, out, grad_output, gi, gp)


def make_adapter(seed, cfg, t_tokens):
    init = ref.Init(seed)
    inputs = {"input": init.normal((B, t_tokens, cfg["hiddenSize"]))}
    params = ref.random_adapter_params(init, cfg["hiddenSize"], cfg["adapterSize"])
    trainable = list(ref.ADAPTER_PARAMS)
    out, inputs, params = run_with_grads(
        lambda i, p: ref.prompt_adapter(i["input"], p, cfg), inputs, params, trainable)
    grad_output = init.normal(tuple(out.shape))
    gi, gp = finish(out, grad_output, inputs, params, trainable)
    return assemble(inputs, params, out, grad_output, gi, gp)


def make_fusion(seed, cfg, t_tokens):
    init = ref.Init(seed)
    inputs = {"stream": init.normal((B, t_tokens, cfg["hiddenSize"])),
              "prompt": init.normal((B, t_tokens, cfg["hiddenSize"]))}
    params = {"scale": init.normal((cfg["hiddenSize"],), 0.5)}
    trainable = ["scale"]
    out, inputs, params = run_with_grads(
        lambda i, p: ref.prompt_fusion(i["stream"], i["prompt"], p["scale"]), inputs, params, trainable)
    grad_output = init.normal(tuple(out.shape))
    gi, gp = finish(out, grad_output, inputs, params, trainable)
    return assemble(inputs, params, out, grad_output, gi, gp)


def vertex_config(image_grid, prompt_grid, cls, direction, deep, rank, d=D, heads=HEADS, **over):
    c = dict(VERTEX_COMMON, **over)
    return {"hiddenSize": d, "numHeads": heads, "mlpSize": c["mlpSize"], "windowSize": c["windowSize"],
            "imageGrid": list(image_grid), "promptGrid": list(prompt_grid), "classToken": cls,
            "direction": direction, "gamma": c["gamma"], "adapterSize": c["adapterSize"],
            "deepPrompt": deep, "deepPromptRank": rank if deep else 0, "layerNormEps": EPS}


def make_vertex(seed, cfg):
    init = ref.Init(seed)
    t = ref.grid_tokens(cfg["imageGrid"], cfg["classToken"]) + ref.grid_tokens(cfg["promptGrid"],
                                                                               cfg["classToken"])
    inputs = {"input": init.normal((B, t, cfg["hiddenSize"]))}
    params = ref.random_vertex_params(init, cfg)
    trainable = ref.vertex_trainable_names(cfg)
    out, inputs, params = run_with_grads(
        lambda i, p: ref.dual_pathway_vertex(i["input"], p, cfg), inputs, params, trainable)
    grad_output = init.normal(tuple(out.shape))
    gi, gp = finish(out, grad_output, inputs, params, trainable)
    return assemble(inputs, params, out, grad_output, gi, gp)


def all_cases():
    """Yields (name, config, arrays)."""
    for name, seed, qg, kg, cls, c, mode in CA_CASES:
        cfg = ca_config(qg, kg, cls, c, mode)
        yield name, cfg, make_ca(seed, cfg)
    for name, seed, t_tokens, t, act in ADAPTER_CASES:
        cfg = {"hiddenSize": D, "adapterSize": t, "activation": act, "layerNormEps": EPS}
        yield name, cfg, make_adapter(seed, cfg, t_tokens)
    for name, seed, t_tokens in FUSION_CASES:
        cfg = {"hiddenSize": D}
        yield name, cfg, make_fusion(seed, cfg, t_tokens)
    for name, seed, ig, pg, cls, direction, deep, rank in VERTEX_CASES:
        cfg = vertex_config(ig, pg, cls, direction, deep, rank)
        yield name, cfg, make_vertex(seed, cfg)


# ----------------------------------------------------------------------------------------------------------
# self-checks
# ----------------------------------------------------------------------------------------------------------

def check_window_counts():
    """(a) ca_local_cls_c3: every query patch window has 4 / 6 / 9 keys, the cls query has Tk keys."""
    name, seed, qg, kg, cls, c, mode = CA_CASES[0]
    assert name == "ca_local_cls_c3"
    h, w = qg
    tk = ref.grid_tokens(kg, cls)
    keys = ref.attended_keys(qg, kg, cls, c, mode)
    assert len(keys[0]) == tk and keys[0] == list(range(tk)), "cls query must see all Tk keys"
    counts = {}
    for row in range(h):
        for col in range(w):
            ks = keys[1 + w * row + col]
            on_row_edge = row in (0, h - 1)
            on_col_edge = col in (0, w - 1)
            expected = 4 if (on_row_edge and on_col_edge) else 6 if (on_row_edge or on_col_edge) else 9
            assert len(ks) == expected, (row, col, ks)
            assert 0 not in ks, "a patch must never see the key cls token"
            assert len(set(ks)) == len(ks)
            for k in ks:                                # every key within the 3x3 neighbourhood
                kr, kc = divmod(k - 1, w)
                assert abs(kr - row) <= 1 and abs(kc - col) <= 1
            counts[expected] = counts.get(expected, 0) + 1
    assert counts == {4: 4, 6: 2 * (h - 2) + 2 * (w - 2), 9: (h - 2) * (w - 2)}, counts
    return "window sizes ok on 5x6+cls, c=3: %s patches with 4/6/9 keys, cls query sees %d keys" % (
        "/".join(str(counts[k]) for k in (4, 6, 9)), tk)


def check_loop_vs_mask():
    """(b) explicit-loop local attention vs dense attention + additive -inf mask, outputs and input grads."""
    worst = 0.0
    extra = [("tiny_scaled_c5", 7, [5, 3], [2, 7], True, 5, "local"),
             ("tiny_c1", 8, [4, 4], [4, 4], True, 1, "local"),
             ("tiny_down_c3_cls", 9, [7, 5], [3, 2], True, 3, "local")]
    for name, seed, qg, kg, cls, c, mode in CA_CASES + extra:
        cfg = ca_config(qg, kg, cls, c, mode)
        init = ref.Init(seed)
        q = init.normal((B, ref.grid_tokens(qg, cls), D)).requires_grad_(True)
        kv = init.normal((B, ref.grid_tokens(kg, cls), D)).requires_grad_(True)
        p = ref.random_ca_params(init, D)
        g = init.normal((B, q.shape[1], D))
        a = ref.cross_attention(q, kv, p, cfg)
        b = ref.cross_attention_masked(q, kv, p, cfg)
        ga = torch.autograd.grad((a * g).sum(), (q, kv))
        gb = torch.autograd.grad((b * g).sum(), (q, kv))
        diff = max((a - b).abs().max().item(), *[(x - y).abs().max().item() for x, y in zip(ga, gb)])
        assert diff <= 1e-12, (name, diff)
        worst = max(worst, diff)
    # the vertex-internal CA (the block's own weights) is the same function; additionally compare the
    # mask's allowed set with the key lists directly for every configuration above
    for name, seed, qg, kg, cls, c, mode in CA_CASES + extra:
        cfg = ca_config(qg, kg, cls, c, mode)
        mask = ref.local_attention_mask(cfg)
        keys = ref.attended_keys(qg, kg, cls, c, mode)
        for i, ks in enumerate(keys):
            allowed = torch.nonzero(mask[i] == 0).flatten().tolist()
            assert allowed == sorted(ks), (name, i)
    return "loop vs dense -inf-mask: max |diff| %.2e over %d configs (outputs + input grads), key sets equal" % (
        worst, len(CA_CASES) + len(extra))


def check_gradcheck():
    """(c) torch.autograd.gradcheck on tiny cases (all inputs and the relevant parameters)."""
    done = []
    # cross attention, scaled grids with cls, local
    cfg = ca_config([2, 3], [3, 4], True, 3, "local", d=4, heads=2)
    init = ref.Init(11)
    q = init.normal((2, 7, 4))
    kv = init.normal((2, 13, 4))
    p = ref.random_ca_params(init, 4)
    names = list(ref.CA_PARAMS)

    def f_ca(q_, kv_, *ps):
        return ref.cross_attention(q_, kv_, dict(zip(names, ps)), cfg)
    args = tuple(t.clone().requires_grad_(True) for t in [q, kv] + [p[n] for n in names])
    assert torch.autograd.gradcheck(f_ca, args, eps=1e-6, atol=1e-7, rtol=1e-6)
    done.append("cross_attention(local, 2x3 vs 3x4, cls)")

    # adapters
    for act in ("gelu", "relu"):
        acfg = {"hiddenSize": 4, "adapterSize": 3, "activation": act, "layerNormEps": EPS}
        init = ref.Init(12)
        x = init.normal((2, 3, 4))
        ap = ref.random_adapter_params(init, 4, 3)
        anames = list(ref.ADAPTER_PARAMS)

        def f_ad(x_, *ps):
            return ref.prompt_adapter(x_, dict(zip(anames, ps)), acfg)
        args = tuple(t.clone().requires_grad_(True) for t in [x] + [ap[n] for n in anames])
        assert torch.autograd.gradcheck(f_ad, args, eps=1e-6, atol=1e-7, rtol=1e-6)
        done.append("prompt_adapter(%s)" % act)

    # fusion
    init = ref.Init(13)
    args = tuple(init.normal(s).requires_grad_(True) for s in [(2, 3, 4), (2, 3, 4), (4,)])
    assert torch.autograd.gradcheck(ref.prompt_fusion, args, eps=1e-6, atol=1e-7, rtol=1e-6)
    done.append("prompt_fusion")

    # vertex, both directions, deep, scaled grids; grads w.r.t. input + all params
    for seed, ig, pg, cls, direction, deep in [(14, [2, 2], [2, 2], True, "image_to_prompt", True),
                                               (15, [2, 3], [1, 2], True, "prompt_to_image", True),
                                               (16, [2, 2], [2, 2], False, "prompt_to_image", False)]:
        vcfg = vertex_config(ig, pg, cls, direction, deep, 2, d=4, heads=2, mlpSize=8, adapterSize=3)
        init = ref.Init(seed)
        t = ref.grid_tokens(ig, cls) + ref.grid_tokens(pg, cls)
        x = init.normal((2, t, 4))
        vp = ref.random_vertex_params(init, vcfg)
        vnames = list(vp.keys())

        def f_v(x_, *ps):
            return ref.dual_pathway_vertex(x_, dict(zip(vnames, ps)), vcfg)
        args = tuple(tt.clone().requires_grad_(True) for tt in [x] + [vp[n] for n in vnames])
        assert torch.autograd.gradcheck(f_v, args, eps=1e-6, atol=1e-7, rtol=1e-6)
        done.append("dual_pathway_vertex(%s, image %s prompt %s, cls=%s, deep=%s)" % (
            direction, ig, pg, cls, deep))
    return "gradcheck passed: " + "; ".join(done)


def self_checks():
    return [check_window_counts(), check_loop_vs_mask(), check_gradcheck()]


# ----------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--skip-checks", action="store_true")
    args = ap.parse_args()
    print("torch %s, numpy %s" % (torch.__version__, np.__version__))
    if not args.skip_checks:
        for line in self_checks():
            print("[check] " + line)
    os.makedirs(args.out, exist_ok=True)
    for name, cfg, arrays in all_cases():
        save_case(args.out, name, cfg, arrays)
        size = os.path.getsize(os.path.join(args.out, name + ".npz"))
        assert size < 200 * 1024, (name, size)
        print("wrote %-24s %6d bytes, %2d arrays, output %s" % (
            name + ".npz", size, len(arrays), "x".join(map(str, arrays["output"].shape))))


if __name__ == "__main__":
    main()
