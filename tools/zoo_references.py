#!/usr/bin/python3
"""Reproduces the reference MACs/params that the zoo tests check (models/zoo/*.cpp `Reference`).

Run with Debian's interpreter (python3-torch, python3-torchvision): /usr/bin/python3 tools/zoo_references.py
MACs are multiply-accumulates of Conv2d and Linear layers, counted with forward hooks
(output elements x in_channels/groups x kh x kw; output elements x in_features); params are
sum(p.numel()) over the model's parameters, as torchvision's documentation counts them.

Models without a torchvision implementation:
- efficientnet_lite0: torchvision's efficientnet_b0 with its squeeze-excite layers removed (the same
  convolutions as timm's tf_efficientnet_lite0 at width 1.0; lite's ReLU6 does not change counts).
- efficientnet_edgetpu_s: a replica of timm's efficientnet_es (_gen_efficientnet_edge); its param
  count equals timm's published 5,438,392.
"""
import math

import torch
import torchvision
import torchvision.models as M
from torch import nn
from torchvision.models import segmentation as S


def count(model, res=224):
    macs = [0]

    def hook(m, i, o):
        if isinstance(m, nn.Conv2d):
            macs[0] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            macs[0] += o.numel() * m.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, res, res))
    for h in hs:
        h.remove()
    return macs[0], sum(p.numel() for p in model.parameters())


def strip_se(module):
    for name, child in module.named_children():
        if isinstance(child, torchvision.ops.SqueezeExcitation):
            setattr(module, name, nn.Identity())
        else:
            strip_se(child)
    return module


def make_divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


def cba(i, o, k, s=1, g=1, act=True):
    layers = [nn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), nn.BatchNorm2d(o)]
    if act:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class EdgeResidual(nn.Module):  # fused-IBN: KxK full conv, 1x1 project
    def __init__(self, i, o, k, s, e, force_in=0, noskip=False):
        super().__init__()
        mid = make_divisible((force_in or i) * e)
        self.skip = i == o and s == 1 and not noskip
        self.b = nn.Sequential(cba(i, mid, k, s), cba(mid, o, 1, act=False))

    def forward(self, x):
        return self.b(x) + x if self.skip else self.b(x)


class InvertedResidual(nn.Module):  # IBN: 1x1 expand, KxK depthwise, 1x1 project
    def __init__(self, i, o, k, s, e):
        super().__init__()
        mid = make_divisible(i * e)
        self.skip = i == o and s == 1
        self.b = nn.Sequential(cba(i, mid, 1), cba(mid, mid, k, s, mid), cba(mid, o, 1, act=False))

    def forward(self, x):
        return self.b(x) + x if self.skip else self.b(x)


def efficientnet_es(classes=1000):
    # timm arch_def: er_r1_k3_s1_e4_c24_fc24_noskip, er_r2_k3_s2_e8_c32, er_r4_k3_s2_e8_c48,
    # ir_r5_k5_s2_e8_c96, ir_r4_k5_s1_e8_c144, ir_r2_k5_s2_e8_c192; stem 32, head 1280, ReLU.
    rows = [("er", 3, 1, 4, 24, 1), ("er", 3, 2, 8, 32, 2), ("er", 3, 2, 8, 48, 4),
            ("ir", 5, 2, 8, 96, 5), ("ir", 5, 1, 8, 144, 4), ("ir", 5, 2, 8, 192, 2)]
    layers, i = [cba(3, 32, 3, 2)], 32
    for si, (t, k, s, e, c, n) in enumerate(rows):
        for b in range(n):
            st = s if b == 0 else 1
            if t == "er":
                layers.append(EdgeResidual(i, c, k, st, e, 24 if si == 0 else 0, si == 0))
            else:
                layers.append(InvertedResidual(i, c, k, st, e))
            i = c
    layers.append(cba(i, 1280, 1))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, classes))


def main():
    rows = [
        ("mobilenet_v2", M.mobilenet_v2(weights=None), 224),
        ("mobilenet_v3_large", M.mobilenet_v3_large(weights=None), 224),
        ("mobilenet_v3_small", M.mobilenet_v3_small(weights=None), 224),
        ("efficientnet_b0", M.efficientnet_b0(weights=None), 224),
        ("efficientnet_lite0", strip_se(M.efficientnet_b0(weights=None)), 224),
        ("efficientnet_edgetpu_s", efficientnet_es(), 224),
        ("mnasnet1_0", M.mnasnet1_0(weights=None), 224),
        ("resnet18", M.resnet18(weights=None), 224),
        ("resnet50", M.resnet50(weights=None), 224),
        ("lraspp_mobilenet_v3_large", S.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None), 512),
        ("deeplabv3_mobilenet_v3_large",
         S.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False), 512),
    ]
    print(f"{'model':30} {'res':>4} {'MACs':>15} {'params':>12}")
    for name, model, res in rows:
        macs, params = count(model, res)
        print(f"{name:30} {res:>4} {macs:>15,} {params:>12,}")


if __name__ == "__main__":
    main()
