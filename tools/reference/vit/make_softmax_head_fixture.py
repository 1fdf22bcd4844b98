#!/usr/bin/env python3
"""An ONNX export of the tiny torchvision ViT fixture with a softmax after its head: what a user exports to get
probabilities. Its weights are make_vit_fixtures.py's (same seed), so it attaches to the same backbone as
torchvision_opset13.onnx (OnnxAttachTest). Debian python3-torch 1.13; deterministic.

  /usr/bin/python3 tools/reference/vit/make_softmax_head_fixture.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_vit_fixtures as fixtures  # noqa: E402

OUT = os.path.join(fixtures.DEFAULT_OUT, "torchvision_softmax_opset13.onnx")

class WithProbabilities(torch.nn.Module):
    """The ViT's own modules under their own names, softmax after the head."""

    def __init__(self, vit):
        super().__init__()
        self.__dict__["_modules"] = vit._modules
        self.__dict__["_parameters"] = vit._parameters
        self.vit_forward = vit.forward

    def forward(self, x):
        return torch.softmax(self.vit_forward(x), dim=-1)


model = WithProbabilities(fixtures.make_torchvision()).eval()
x = torch.zeros(1, 3, fixtures.IMAGE, fixtures.IMAGE)
fixtures.export_onnx(model, x, OUT, 13)
print(OUT, os.path.getsize(OUT), "bytes")
