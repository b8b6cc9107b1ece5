#!/usr/bin/python3
"""Generates the ONNX test fixtures in tests/fixtures/onnx/ (run with Debian's /usr/bin/python3,
which has python3-torch, python3-torchvision and python3-onnx; the `python3` first on PATH cannot
see them).

    /usr/bin/python3 tools/gen_onnx_fixtures.py [--out tests/fixtures/onnx]

Every fixture is *shape-only* unless its name says otherwise: weight initializers (tensors that
feed only weight slots: Conv W/B, Gemm B/C, MatMul B, BatchNormalization scale/B/mean/var, through
Identity chains) are moved into graph.input as value-infos with their dims, and graph.initializer
keeps only the small tensors whose *values* matter (shapes, axes, Clip bounds, Resize scales). The
ONNX checker passes on every file. Output is deterministic: fixed seeds, fixed names, no doc
strings, so re-running the script reproduces the committed files byte for byte.

Fixtures:
  mobilenet_v2, mobilenet_v3_large, efficientnet_b0, resnet18
      torchvision, weights=None, eval, 1x3x224x224, opset 13
  clip_relu6            Conv -> ReLU6 (Clip with Constant min/max) -> Conv -> Hardtanh(-1, 1)
  hardswish_se          hardswish as HardSigmoid+Mul (opset 13) and an SE block gated by
                        HardSigmoid (must stay HardSigmoid + Mul)
  silu_se               SiLU as Sigmoid+Mul and an SE block gated by Sigmoid (stays Sigmoid+Mul)
  reduce_mean           ReduceMean over H,W with keepdims 1 and 0 (global pooling)
  batchnorm_unfolded    onnx.helper graph: Conv+BN (foldable), Conv+BN where the conv output has
                        a second consumer (not foldable), BN on a graph input, Identity, Dropout
  resize_shape          Resize whose sizes come from Shape/Slice/Concat, and a scale_factor Resize
  misc_ops              pooling (ceil_mode, count_include_pad), Pad, LeakyRelu, Tanh, Softmax,
                        Transpose, Reshape, Concat, MatMul+Add linear, constant operands
  ordinary_initializers a small network exported normally (weights stored as initializers)
  multi_opset11, multi_opset17
                        the same small network at opset 11 and at opset 17 (HardSwish op, dynamic
                        batch dimension)
  unsupported_einsum    a model with an Einsum node
"""

import argparse
import io
import os
import sys

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import TensorProto, helper

TORCHVISION = ["mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "resnet18"]

# Input slots of each op type that hold weights (their data never matters for nax).
WEIGHT_SLOTS = {
    "Conv": {1, 2},
    "ConvTranspose": {1, 2},
    "Gemm": {1, 2},
    "MatMul": {1},
    "BatchNormalization": {1, 2, 3, 4},
}


def export(model, args, opset, dynamic_batch=False, input_names=("input",), **kw):
    model.eval()
    f = io.BytesIO()
    dyn = None
    if dynamic_batch:
        dyn = {n: {0: "batch"} for n in list(input_names) + ["output"]}
    with torch.no_grad():
        torch.onnx.export(model, args, f, opset_version=opset, input_names=list(input_names),
                          output_names=["output"], dynamic_axes=dyn, **kw)
    return onnx.load_from_string(f.getvalue())


def weight_only_initializers(graph):
    """Names of initializers consumed only through weight slots (following Identity chains)."""
    consumers = {}
    for node in graph.node:
        for slot, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, slot))

    def only_weight_slots(name, depth=0):
        uses = consumers.get(name, [])
        if not uses or depth > 16:
            return False
        for node, slot in uses:
            if node.op_type == "Identity":
                if not only_weight_slots(node.output[0], depth + 1):
                    return False
            elif slot not in WEIGHT_SLOTS.get(node.op_type, ()):
                return False
        return True

    return {init.name for init in graph.initializer if only_weight_slots(init.name)}


def make_shape_only(model):
    """Moves weight initializers into graph.input as value-infos and drops their data."""
    g = model.graph
    strip = weight_only_initializers(g)
    declared = {i.name for i in g.input}
    keep = []
    for init in g.initializer:
        if init.name in strip:
            if init.name not in declared:
                g.input.append(helper.make_tensor_value_info(init.name, init.data_type,
                                                             list(init.dims)))
        else:
            keep.append(init)
    del g.initializer[:]
    g.initializer.extend(keep)
    return model


def finalize(model, name, shape_only=True):
    if shape_only:
        make_shape_only(model)
    model.graph.name = name
    model.doc_string = ""
    model.graph.doc_string = ""
    for node in model.graph.node:
        node.doc_string = ""
    onnx.checker.check_model(model)
    return model


# ---- synthetic models -------------------------------------------------------------------------


class ClipRelu6(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)

    def forward(self, x):
        return F.hardtanh(self.c2(F.relu6(self.c1(x))), -1.0, 1.0)


class HardSwishSE(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.act = nn.Hardswish()
        self.fc1 = nn.Conv2d(16, 8, 1)
        self.fc2 = nn.Conv2d(8, 16, 1)

    def forward(self, x):
        y = self.act(self.c1(x))
        s = F.adaptive_avg_pool2d(y, 1)
        s = F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))
        return y * s


class SiluSE(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.fc1 = nn.Conv2d(16, 4, 1)
        self.fc2 = nn.Conv2d(4, 16, 1)

    def forward(self, x):
        y = F.silu(self.c1(x))
        s = F.adaptive_avg_pool2d(y, 1)
        s = torch.sigmoid(self.fc2(F.silu(self.fc1(s))))
        return y * s


class ReduceMeanHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        y = self.c1(x)
        y = y * y.mean((2, 3), keepdim=True)
        return self.fc(y.mean((2, 3)))


class ResizeShape(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.lat = nn.Conv2d(3, 8, 1)
        self.down2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        lat = self.lat(x)
        d = self.down(x)
        up = F.interpolate(d, size=lat.shape[2:], mode="nearest")
        d2 = self.down2(d)
        up2 = F.interpolate(d2, scale_factor=2.0, mode="bilinear", align_corners=False)
        return torch.cat([lat + up, F.interpolate(d + up2, size=lat.shape[2:])], 1)


class MiscOps(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3)
        self.c2 = nn.Conv2d(8, 8, 3, bias=False)
        self.lin = nn.Linear(8, 12)

    def forward(self, x):
        y = F.leaky_relu(self.c1(x), 0.1)                                         # 8x30x30
        y = F.max_pool2d(y, 3, stride=2, ceil_mode=True)                          # 8x15x15
        y = F.avg_pool2d(y, 3, stride=2, padding=1, count_include_pad=False)      # 8x8x8
        y = F.pad(y, (1, 2, 0, 1))                                                # 8x9x11
        y = torch.tanh(self.c2(y))                                                # 8x7x9
        y = torch.cat([y, (y - 0.5) / 2.0], 1)                                    # 16x7x9
        t = y.reshape(1, 2, 8, 63).transpose(2, 3)                                # 1x2x63x8
        t = self.lin(t)                                                           # 1x2x63x12
        return torch.softmax(t, -1)


class SmallNet(nn.Module):
    """Exported at opsets 11 and 17, and with its weights as an ordinary file."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 16, 1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        y = F.relu6(self.bn(self.stem(x)))
        y = F.hardswish(self.dw(y))
        y = self.pw(y)
        y = y + F.interpolate(F.max_pool2d(y, 2), scale_factor=2.0)
        y = F.adaptive_avg_pool2d(y, 1).flatten(1)
        return self.fc(y)


class EinsumNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        y = self.c1(x)
        return torch.einsum("nchw,nchw->nhw", y, y)


def batchnorm_graph():
    """Hand-built: BN folded, BN not foldable, BN on a graph input, Identity and Dropout."""
    def vi(name, dims):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)

    inits = []

    def weight(name, dims):
        count = 1
        for d in dims:
            count *= d
        inits.append(helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * count))
        return name

    def bn_params(prefix, c):
        return [weight(f"{prefix}.{p}", [c]) for p in ("scale", "bias", "mean", "var")]

    nodes = [
        helper.make_node("BatchNormalization", ["input"] + bn_params("bn0", 3), ["bn0_out"],
                         name="bn0", epsilon=1e-5),
        helper.make_node("Conv", ["bn0_out", weight("c1.w", [8, 3, 3, 3])], ["c1_out"], name="c1",
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1_out"] + bn_params("bn1", 8), ["bn1_out"],
                         name="bn1"),
        helper.make_node("Relu", ["bn1_out"], ["r1"], name="r1"),
        helper.make_node("Identity", ["r1"], ["r1_alias"], name="alias"),
        helper.make_node("Conv", ["r1_alias", weight("c2.w", [8, 8, 1, 1]), weight("c2.b", [8])],
                         ["c2_out"], name="c2"),
        helper.make_node("BatchNormalization", ["c2_out"] + bn_params("bn2", 8), ["bn2_out"],
                         name="bn2"),
        helper.make_node("Add", ["c2_out", "bn2_out"], ["sum"], name="add"),
        helper.make_node("Dropout", ["sum"], ["output"], name="drop"),
    ]
    graph = helper.make_graph(nodes, "batchnorm_unfolded", [vi("input", [1, 3, 16, 16])],
                              [vi("output", [1, 8, 8, 8])], initializer=inits)
    model = helper.make_model(graph, producer_name="nax gen_onnx_fixtures",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model


# ---- main -------------------------------------------------------------------------------------


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_out = os.path.normpath(os.path.join(here, "..", "tests", "fixtures", "onnx"))
    ap.add_argument("--out", default=default_out)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    x224 = torch.zeros(1, 3, 224, 224)
    x32 = torch.zeros(1, 3, 32, 32)

    fixtures = {}
    for name in TORCHVISION:
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None)
        fixtures[name] = finalize(export(model, x224, 13), name)

    def synthetic(name, module, x, opset=13, shape_only=True, **kw):
        torch.manual_seed(0)
        fixtures[name] = finalize(export(module, x, opset, **kw), name, shape_only)

    synthetic("clip_relu6", ClipRelu6(), x32)
    synthetic("hardswish_se", HardSwishSE(), x32)
    synthetic("silu_se", SiluSE(), x32)
    synthetic("reduce_mean", ReduceMeanHead(), x32)
    synthetic("resize_shape", ResizeShape(), x32)
    synthetic("misc_ops", MiscOps(), x32)
    synthetic("ordinary_initializers", SmallNet(), x32, shape_only=False)
    synthetic("multi_opset11", SmallNet(), x32, opset=11)
    synthetic("multi_opset17", SmallNet(), x32, opset=17, dynamic_batch=True)
    synthetic("unsupported_einsum", EinsumNet(), x32)
    fixtures["batchnorm_unfolded"] = finalize(batchnorm_graph(), "batchnorm_unfolded")

    for name, model in fixtures.items():
        path = os.path.join(args.out, name + ".onnx")
        data = model.SerializeToString()
        with open(path, "wb") as f:
            f.write(data)
        print(f"{path}: {len(data)} bytes, {len(model.graph.node)} nodes, "
              f"opset {model.opset_import[0].version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
