#!/usr/bin/python3
"""One SA2VP-ViT training step in PyTorch (float32, CPU), for benchmarking against the DL4J port.

    /usr/bin/python3 tools/bench/torch_sa2vp_step.py [--batch 8] [--steps 3] [--threads 2]
        [--width 768 --depth 12 --heads 12 --mlp 3072 --image 224 --patch 16 --rank 16 --adapter 16
         --classes 100] [--window 3] [--gamma 0.1] [--impl vectorised|loop]

The model is tools/reference/sa2vp/sa2vp_reference.py::SA2VPViT (the authors' ViT variant: image->prompt
at {0,4,8}, prompt->image elsewhere, deep prompt maps at {4,8}, clipped 3x3 local cross attention with a
global class query, GELU adapter without residual, shared head, loss 0.8*CE(img) + 0.2*CE(prm)), with the
local attention VECTORISED (one index_select of the c x c neighbours from the zero-padded grid, -inf mask).
The layer sets are the authors' defaults and are clipped to --depth.

Setup as in the authors' training: model.train() (dropout 0.1 in the embeddings, the frozen backbone MLPs,
the cross-attention output and the adapters), the frozen backbone and its cross-attention copies have
requires_grad False, torch.optim.AdamW (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-4 on the
ndim > 1 non-bias trainable tensors, 0 on the rest) over the trainable tensors only. Frozen weights are
random (seeded): PyTorch's default Linear/Conv init, LayerNorm 1/0, class token and position embedding
N(0, 0.02); trainable tensors get the authors' init. Input N(0, 1), random labels.

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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference", "sa2vp"))
import sa2vp_reference as R  # noqa: E402
sys.path.insert(0, HERE)
from torch_step_timing import authors_adamw, require_fast_blas, time_steps  # noqa: E402


def build(args):
    i2p = [i for i in (0, 4, 8) if i < args.depth]
    deep = [i for i in (4, 8) if i < args.depth]
    cfg = R.make_config(imageSize=args.image, patchSize=args.patch, hiddenSize=args.width, depth=args.depth,
                        numHeads=args.heads, mlpSize=args.mlp, promptRank=args.rank, adapterSize=args.adapter,
                        numClasses=args.classes, windowSize=args.window, gamma=args.gamma,
                        imageToPromptLayers=i2p, deepPromptLayers=deep)
    torch.manual_seed(0)
    model = R.SA2VPViT(cfg)                                  # float32; default Linear/Conv/LayerNorm init
    emb = model.vit_base.transformer.embeddings
    with torch.no_grad():
        emb.cls_token.normal_(0.0, 0.02)
        emb.position_embeddings.normal_(0.0, 0.02)
    model.init_authors(torch.Generator().manual_seed(1))
    model.set_attention_impl(args.impl)
    model.train()
    return cfg, model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--width", type=int, default=768)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--mlp", type=int, default=3072)
    ap.add_argument("--image", type=int, default=224)
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--adapter", type=int, default=16)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--window", type=int, default=3)
    ap.add_argument("--gamma", type=float, default=0.1)
    ap.add_argument("--impl", choices=("vectorised", "loop"), default="vectorised")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    require_fast_blas()
    cfg, model = build(args)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    frozen = [p for p in model.parameters() if not p.requires_grad]
    opt = authors_adamw(trainable)
    print("torch %s, threads %d, impl %s" % (torch.__version__, torch.get_num_threads(), args.impl))
    print("config: %s" % json.dumps(cfg, sort_keys=True))
    print("trainable: %d tensors, %d values; frozen: %d tensors, %d values" % (
        len(trainable), sum(p.numel() for _, p in trainable), len(frozen), sum(p.numel() for p in frozen)))

    g = torch.Generator().manual_seed(2)
    x = torch.randn(args.batch, 3, args.image, args.image, generator=g)
    y = torch.randint(0, args.classes, (args.batch,), generator=g)

    time_steps(lambda: model.loss(*model(x), y), opt, args.steps, args.batch)


if __name__ == "__main__":
    main()
