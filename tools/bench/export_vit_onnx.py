#!/usr/bin/python3
"""Exports a full-size torchvision ViT with random weights to ONNX, for benchmarking the Java ONNX loader.

    /usr/bin/python3 tools/bench/export_vit_onnx.py --model vit_b_16 --out FILE [--opset 17] [--seed 0]
        [--check]

The model is torchvision.models.<model>() (no pretrained weights, nothing is downloaded) with torchvision's
own random initialisation under torch.manual_seed(seed). torchvision zero-initialises the classification
head, so the head weight is redrawn as N(0, 0.02) (bias stays zero) to make the logits non-zero.
The export uses input name `input` [batch, 3, 224, 224], output name `logits` [batch, 1000], a dynamic batch
axis, export_params=True and do_constant_folding=True. vit_b_16 gives a file of about 346 MB.

--check runs the exported graph at batch 1 with the small numpy ONNX interpreter of
tools/reference/vit/make_vit_fixtures.py and compares it with PyTorch (vit_b_16: about 4 s extra).
Only vit_b_16 has been tried (export about 7 s on 2 cores, 2.1 GB peak RSS with --check); vit_h_14 would
exceed protobuf's 2 GB limit.
"""
import argparse
import os
import sys
import time

import torch
import torchvision

MODELS = ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="vit_b_16", choices=MODELS)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    t0 = time.time()
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.model)(weights=None)
    with torch.no_grad():
        model.heads.head.weight.normal_(0.0, 0.02)
    model.eval()
    size = model.image_size
    x = torch.randn(1, 3, size, size)
    t1 = time.time()
    torch.onnx.export(model, (x,), args.out, export_params=True, do_constant_folding=True,
                      opset_version=args.opset, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    t2 = time.time()
    with torch.no_grad():
        logits = model(x)
    print("%s: %d parameters, image %d, logits std %.4f" % (
        args.model, sum(p.numel() for p in model.parameters()), size, logits.std().item()))
    print("wrote %s (%d bytes, opset %d); build %.1f s, export %.1f s" % (
        args.out, os.path.getsize(args.out), args.opset, t1 - t0, t2 - t1))

    if args.check:
        import numpy as np
        import onnx
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference", "vit"))
        from make_vit_fixtures import onnx_run  # noqa: E402
        proto = onnx.load(args.out)
        onnx.checker.check_model(args.out)  # by path, so that large models are checked too
        got = onnx_run(proto, x.numpy())
        diff = float(np.abs(got - logits.numpy()).max())
        print("numpy-interpreted ONNX vs PyTorch: max|logits diff| %.3g" % diff)
        assert diff < 1e-3, diff
    return 0


if __name__ == "__main__":
    sys.exit(main())
