#!/usr/bin/python3
"""One SA2VP-Swin training step in PyTorch (float32, CPU), for benchmarking against the DL4J port.

    /usr/bin/python3 tools/bench/torch_sa2vp_swin_step.py [--batch 8] [--steps 3] [--threads 2]
        [--image 224 --patch 4 --embed 128 --depths 2,2,18,2 --heads 4,8,16,32 --window 7]
        [--stage 2 --image-to-prompt 0,6,12 --local-window 3 --rank 8 --adapter 8 --gamma 0.5 --classes 100]
        [--dropout 0.1 --drop-path 0.2]

What it computes is the authors' Swin variant as the project's notes describe it (and as
tools/reference/sa2vp/make_sa2vp_swin_fixtures.py checks it against the Java code in float64), written here for
speed: the frozen Swin is torchvision's own `SwinTransformerBlock`s and `PatchMerging`s; the image and prompt
streams are stacked on the batch axis and go through each frozen module together, as the authors' code sends a
batch of [images; prompt maps]; the interaction's clipped c x c window attention on the whole stage map is
VECTORISED (keys and values zero-padded and gathered with one `unfold`, out-of-map neighbours masked with -inf).

Per interaction block n of --stage: F = adapter(q + dropout(proj(local attention(LN(q) -> Q; LN(kv) -> K, V))))
with the block's frozen norm1 (eps 1e-6 here), qkv and proj; q = prompt stream, kv = image stream at the
--image-to-prompt blocks, the reverse elsewhere; the adapter is LN -> fc1 (D -> t) -> GELU -> dropout -> fc2 ->
dropout, without residual; after the block, the query stream gains gamma * F. Rank-r prompt map on the stage-1
grid through proj_ppt and the frozen patch-embedding norm; one head on both pooled final-norm streams; loss
0.8 CE(image) + 0.2 CE(prompt).

Setup as in the authors' training: model.train() (dropout --dropout on the cross-attention output and twice in the
adapters, stochastic depth --drop-path * k / (K - 1) on frozen block k of K, per sample), frozen tensors with
requires_grad False, torch.optim.AdamW (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-4 on the ndim > 1
non-bias trainable tensors, 0 on the rest). Frozen weights: PyTorch's default init (seeded). Input N(0, 1), random
labels. --dropout 0 --drop-path 0 gives the step without any dropout (equal work with `sa2vp bench --dropout 0
--drop-path 0`).

A step is: zero_grad, forward, loss, backward, optimizer.step. One untimed warm-up step, then the median of
--steps timed steps. The LAST line printed is one JSON object:
    {"impl":"pytorch","batch":8,"step_s":..,"images_per_s":..,"peak_rss_mb":..}
peak_rss_mb is VmHWM from /proc/self/status.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.swin_transformer import PatchMerging, SwinTransformerBlock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_step_timing import authors_adamw, require_fast_blas, time_steps  # noqa: E402


def ints(text):
    return [int(v) for v in text.split(",") if v != ""]


class LocalCrossAttention(nn.Module):
    """The interaction of one block: frozen LN/qkv/proj shared with the block, trainable adapter."""

    def __init__(self, block, dim, heads, local_window, adapter, dropout):
        super().__init__()
        self.block, self.dim, self.heads, self.c = block, dim, heads, local_window
        self.ffn_norm = nn.LayerNorm(dim, eps=1e-6)
        self.fc1, self.fc2 = nn.Linear(dim, adapter), nn.Linear(adapter, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, q, kv, valid):
        """q, kv: [B, H, W, D] maps; valid: [H*W, c*c] which neighbours lie on the map -> F [B, H, W, D]."""
        b, h, w, d = q.shape
        heads, c, dh = self.heads, self.c, d // self.heads
        norm, attn = self.block.norm1, self.block.attn
        qn = F.layer_norm(q, (d,), norm.weight, norm.bias, 1e-6)
        kvn = F.layer_norm(kv, (d,), norm.weight, norm.bias, 1e-6)
        wq, wk, wv = attn.qkv.weight.split(d)
        bq, bk, bv = attn.qkv.bias.split(d)
        query = F.linear(qn, wq, bq).reshape(b, h * w, heads, dh).transpose(1, 2)      # [B, h, N, dh]
        key = F.linear(kvn, wk, bk).permute(0, 3, 1, 2)                                # [B, D, H, W]
        value = F.linear(kvn, wv, bv).permute(0, 3, 1, 2)
        # [B, D*c*c, N] -> [B, heads, N, c*c, dh]: the c x c neighbours of every position, zeros off the map.
        key = F.unfold(key, c, padding=c // 2).view(b, heads, dh, c * c, h * w).permute(0, 1, 4, 3, 2)
        value = F.unfold(value, c, padding=c // 2).view(b, heads, dh, c * c, h * w).permute(0, 1, 4, 3, 2)
        scores = torch.einsum("bhnd,bhnkd->bhnk", query, key) * dh ** -0.5
        scores = scores.masked_fill(~valid, float("-inf"))
        out = torch.einsum("bhnk,bhnkd->bhnd", scores.softmax(-1), value)
        out = out.transpose(1, 2).reshape(b, h, w, d)
        z = q + self.dropout(F.linear(out, attn.proj.weight, attn.proj.bias))
        return self.dropout(self.fc2(self.dropout(F.gelu(self.fc1(self.ffn_norm(z))))))


class Sa2vpSwin(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = a
        self.patch = nn.Conv2d(3, a.embed, a.patch, a.patch)
        self.patch_norm = nn.LayerNorm(a.embed)
        total = sum(a.depths)
        k = 0
        self.stages = nn.ModuleList()
        self.merges = nn.ModuleList()
        for i, (depth, heads) in enumerate(zip(a.depths, a.heads)):
            dim = a.embed * 2 ** i
            blocks = nn.ModuleList()
            for j in range(depth):
                blocks.append(SwinTransformerBlock(dim, heads, [a.window] * 2, [0, 0] if j % 2 == 0
                                                   else [a.window // 2] * 2,
                                                   stochastic_depth_prob=a.drop_path * k / max(total - 1, 1)))
                k += 1
            self.stages.append(blocks)
            self.merges.append(PatchMerging(dim) if i < len(a.depths) - 1 else nn.Identity())
        self.norm = nn.LayerNorm(a.embed * 2 ** (len(a.depths) - 1))
        for p in self.parameters():
            p.requires_grad_(False)
        grid = a.image // a.patch
        d = a.embed * 2 ** a.stage
        self.deep_ppt = nn.Parameter(torch.randn(1, grid * grid, a.rank))
        self.proj_ppt = nn.Linear(a.rank, a.embed)
        self.cross = nn.ModuleList(LocalCrossAttention(self.stages[a.stage][j], d, a.heads[a.stage], a.local_window,
                                                       a.adapter, a.dropout) for j in range(a.depths[a.stage]))
        self.head = nn.Linear(a.embed * 2 ** (len(a.depths) - 1), a.classes)
        s = grid // 2 ** a.stage
        ones = F.unfold(torch.ones(1, 1, s, s), a.local_window, padding=a.local_window // 2)   # [1, c*c, N]
        self.register_buffer("valid", ones[0].t().bool())                                     # [N, c*c]

    def trainable(self):
        return [(n, p) for n, p in self.named_parameters() if p.requires_grad]

    def forward(self, images):
        a = self.a
        b = images.shape[0]
        x = self.patch_norm(self.patch(images).permute(0, 2, 3, 1))                  # [B, h, w, E]
        grid = x.shape[1]
        p = self.patch_norm(self.proj_ppt(self.deep_ppt)).reshape(1, grid, grid, -1).expand(b, -1, -1, -1)
        z = torch.cat([x, p], 0)                                                     # [2B, h, w, E]
        for i, blocks in enumerate(self.stages):
            for j, block in enumerate(blocks):
                if i != a.stage:
                    z = block(z)
                    continue
                x, p = z[:b], z[b:]
                to_prompt = j in a.image_to_prompt
                fused = self.cross[j](p, x, self.valid) if to_prompt else self.cross[j](x, p, self.valid)
                z = block(z)
                zero = torch.zeros_like(fused)
                z = z + a.gamma * (torch.cat([zero, fused], 0) if to_prompt else torch.cat([fused, zero], 0))
            z = self.merges[i](z)
        logits = self.head(self.norm(z).mean(dim=(1, 2)))
        return logits[:b], logits[b:]


def swin_loss(logits, labels):
    """The authors' loss on the (image, prompt) logits: 0.8 CE(image) + 0.2 CE(prompt)."""
    image, prompt = logits
    return 0.8 * F.cross_entropy(image, labels) + 0.2 * F.cross_entropy(prompt, labels)


def check_local_attention():
    """The vectorised interaction equals the reference loop of tools/reference/sa2vp_reference.py (float64)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
    import sa2vp_reference as R
    torch.manual_seed(3)
    d, heads, h, w = 16, 2, 5, 7
    block = SwinTransformerBlock(d, heads, [4, 4], [0, 0]).double().eval()
    for p in block.parameters():
        p.data.normal_(0, 0.3)
    cross = LocalCrossAttention(block, d, heads, 3, 8, 0.0).double().eval()
    q, kv = torch.randn(2, h, w, d, dtype=torch.float64), torch.randn(2, h, w, d, dtype=torch.float64)
    valid = F.unfold(torch.ones(1, 1, h, w), 3, padding=1)[0].t().bool()
    got = cross(q, kv, valid)
    wq, wk, wv = block.attn.qkv.weight.split(d)
    bq, bk, bv = block.attn.qkv.bias.split(d)
    params = {"norm.weight": block.norm1.weight, "norm.bias": block.norm1.bias, "q.weight": wq, "q.bias": bq,
              "k.weight": wk, "k.bias": bk, "v.weight": wv, "v.bias": bv, "out.weight": block.attn.proj.weight,
              "out.bias": block.attn.proj.bias}
    z = R.cross_attention(q.reshape(2, h * w, d), kv.reshape(2, h * w, d), params, {
        "hiddenSize": d, "numHeads": heads, "windowSize": 3, "queryGrid": [h, w], "keyGrid": [h, w],
        "classToken": False, "mode": "local", "layerNormEps": 1e-6})
    adapter = {"norm.weight": cross.ffn_norm.weight, "norm.bias": cross.ffn_norm.bias, "fc1.weight": cross.fc1.weight,
               "fc1.bias": cross.fc1.bias, "fc2.weight": cross.fc2.weight, "fc2.bias": cross.fc2.bias}
    want = R.prompt_adapter(z, adapter, {"activation": "gelu", "layerNormEps": 1e-6}).reshape(2, h, w, d)
    error = ((got - want).abs().max() / want.abs().max()).item()
    print("vectorised interaction vs the reference loop: max relative error %.2e" % error)
    assert error < 1e-12, error


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--image", type=int, default=224)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--depths", type=ints, default=[2, 2, 18, 2])
    ap.add_argument("--heads", type=ints, default=[4, 8, 16, 32])
    ap.add_argument("--window", type=int, default=7)
    ap.add_argument("--stage", type=int, default=2)
    ap.add_argument("--image-to-prompt", type=ints, default=[0, 6, 12])
    ap.add_argument("--local-window", type=int, default=3)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--adapter", type=int, default=8)
    ap.add_argument("--gamma", type=float, default=0.5)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--drop-path", type=float, default=0.2)
    ap.add_argument("--check", action="store_true", help="only check the vectorised interaction against the "
                    "reference loop (float64) and exit")
    args = ap.parse_args()
    if args.check:
        check_local_attention()
        return

    torch.set_num_threads(args.threads)
    require_fast_blas()
    torch.manual_seed(0)
    model = Sa2vpSwin(args)
    model.train()
    trainable = model.trainable()
    opt = authors_adamw(trainable)
    frozen = [p for p in model.parameters() if not p.requires_grad]
    print("torch %s, threads %d" % (torch.__version__, torch.get_num_threads()))
    print("config: %s" % json.dumps(vars(args), sort_keys=True))
    print("trainable: %d tensors, %d values; frozen: %d tensors, %d values" % (
        len(trainable), sum(p.numel() for _, p in trainable), len(frozen), sum(p.numel() for p in frozen)))

    g = torch.Generator().manual_seed(2)
    x = torch.randn(args.batch, 3, args.image, args.image, generator=g)
    y = torch.randint(0, args.classes, (args.batch,), generator=g)

    time_steps(lambda: swin_loss(model(x), y), opt, args.steps, args.batch)


if __name__ == "__main__":
    main()
