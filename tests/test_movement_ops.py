"""Transpose, Pad and Slice from ONNX files: hand-made graphs (onnx.helper) in every variant the
importer reads and torch exports (``tests/data/make_movement_fixtures.py``), each checked
against onnxruntime; and a MILP over a network full of them, re-checked at its solution.
Every stage of the three kinds is walked by ``tests/test_layer_contract.py``."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from onnx import helper

import pyomo_nn as pnn
from conftest import DATA, assert_matches_onnxruntime, make_onnx


def _w(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape)).normal(size=shape).astype(np.float32)


_node = helper.make_node

#: (id, nodes, initializers, input shape, opset, IR layer kinds the file becomes).
GRAPHS = [
    (
        "tf2onnx-conv",  # NHWC input to NCHW around a conv, and back before the dense head
        [
            _node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
            _node("Conv", ["t", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
            _node("Relu", ["c"], ["r"]),
            _node("Transpose", ["r"], ["u"], perm=[0, 2, 3, 1]),
            _node("Reshape", ["u", "shape"], ["f"]),
            _node("MatMul", ["f", "m"], ["y"]),
        ],
        {"w": _w(3, 2, 3, 3), "b": _w(3), "shape": np.array([-1, 75]), "m": _w(75, 4)},
        ["N", 5, 5, 2],
        13,
        ["Transpose", "Conv2d", "ReLU", "Transpose", "Dense"],
    ),
    (
        "normalised-then-transposed",  # a diagonal map: the layer reads the input, the scale follows
        [
            _node("Mul", ["x", "s"], ["m"]),
            _node("Add", ["m", "o"], ["a"]),
            _node("Transpose", ["a"], ["t"], perm=[0, 3, 1, 2]),
            _node("Conv", ["t", "w"], ["y"]),
        ],
        {"s": _w(2), "o": _w(2), "w": _w(3, 2, 2, 2)},
        ["N", 4, 4, 2],
        17,
        ["Transpose", "Elementwise", "Conv2d"],
    ),
    (
        "transposed-dense-map",  # a dense affine map: its rows are re-laid, no layer
        [
            _node("Gemm", ["x", "w"], ["g"], transB=1),
            _node("Reshape", ["g", "shape"], ["r"]),
            _node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
            _node("Relu", ["t"], ["y"]),
        ],
        {"w": _w(6, 5), "shape": np.array([1, 2, 3])},
        [1, 5],
        17,
        ["Dense", "ReLU"],
    ),
    (
        "transposed-weights",  # tf2onnx's MatMul by transposed weights: a constant, folded
        [_node("Transpose", ["w"], ["wt"], perm=[1, 0]), _node("MatMul", ["x", "wt"], ["y"])],
        {"w": _w(3, 5)},
        ["N", 5],
        17,
        ["Dense"],
    ),
    (
        "batch-of-one-axis-moves",  # a file with a fixed batch of 1 may move that axis
        [_node("Transpose", ["x"], ["t"], perm=[1, 0, 2]), _node("Relu", ["t"], ["y"])],
        {},
        [1, 3, 4],
        17,
        ["Transpose", "ReLU"],
    ),
    (
        "pad-before-conv-and-pool",
        [
            _node("Conv", ["x", "w"], ["c"]),
            _node("Relu", ["c"], ["r"]),
            _node("Pad", ["r", "pads", "v"], ["p"], mode="constant"),
            _node("MaxPool", ["p"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
            _node("Pad", ["m", "reflect"], ["q"], mode="reflect"),
            _node("Conv", ["q", "w2"], ["y"]),
        ],
        {
            "w": _w(2, 1, 2, 2),
            "pads": np.array([0, 0, 1, 0, 0, 0, 0, 1]),
            "v": np.array(-0.5, dtype=np.float32),
            "reflect": np.array([0, 0, 1, 1, 0, 0, 0, 1]),
            "w2": _w(1, 2, 2, 2),
        },
        ["N", 1, 5, 5],
        17,
        ["Conv2d", "ReLU", "Pad", "MaxPool2d", "Pad", "Conv2d"],
    ),
    (
        "pad-edge-opset-11",
        [_node("Pad", ["x", "pads"], ["p"], mode="edge"), _node("Conv", ["p", "w"], ["y"])],
        {"pads": np.array([0, 0, 2, 1, 0, 0, 0, 1]), "w": _w(1, 1, 3, 3)},
        ["N", 1, 3, 3],
        11,
        ["Pad", "Conv2d"],
    ),
    (
        "pad-attributes-opset-10",
        [_node("Pad", ["x"], ["p"], pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.25), _node("Relu", ["p"], ["y"])],
        {},
        ["N", 1, 3, 3],
        10,
        ["Pad", "ReLU"],
    ),
    (
        "pad-axes-opset-18",
        [_node("Pad", ["x", "pads", "", "axes"], ["p"]), _node("Relu", ["p"], ["y"])],
        {"pads": np.array([1, 2]), "axes": np.array([-1])},
        ["N", 2, 3, 3],
        18,
        ["Pad", "ReLU"],
    ),
    (
        "pad-negative-crops",
        [_node("Pad", ["x", "pads"], ["p"]), _node("Relu", ["p"], ["y"])],
        {"pads": np.array([0, 0, -1, 1, 0, 0, 1, -1])},
        ["N", 2, 3, 3],
        17,
        ["Pad", "ReLU"],
    ),
    (
        "slice-steps-and-negative-ranges",
        [
            _node("Conv", ["x", "w"], ["c"]),
            _node("Relu", ["c"], ["r"]),
            _node("Slice", ["r", "starts", "ends", "axes", "steps"], ["s"]),
            _node("Flatten", ["s"], ["f"]),
            _node("Gemm", ["f", "g"], ["y"], transB=1),
        ],
        {
            "w": _w(3, 1, 2, 2),
            "starts": np.array([1, -1]),
            "ends": np.array([3, -100]),
            "axes": np.array([1, 3]),
            "steps": np.array([1, -2]),
            "g": _w(2, 16),
        },
        ["N", 1, 5, 5],
        13,
        ["Conv2d", "ReLU", "Slice", "Dense"],
    ),
    (
        "slice-attributes-opset-9",
        [_node("Slice", ["x"], ["s"], starts=[0, 1], ends=[10, 3], axes=[0, 1]), _node("Relu", ["s"], ["y"])],
        {},
        ["N", 4],
        9,
        ["Slice", "ReLU"],
    ),
    (
        "sliced-dense-map",
        [
            _node("Gemm", ["x", "w"], ["g"], transB=1),
            _node("Slice", ["g", "starts", "ends"], ["s"]),
            _node("Relu", ["s"], ["y"]),
        ],
        {"w": _w(6, 5), "starts": np.array([0, 2]), "ends": np.array([1, 5])},
        [1, 5],
        17,
        ["Dense", "ReLU"],
    ),
]


@pytest.mark.parametrize(
    ("nodes", "inits", "shape", "opset", "kinds"), [g[1:] for g in GRAPHS], ids=[g[0] for g in GRAPHS]
)
def test_graphs_match_onnxruntime(tmp_path, nodes, inits, shape, opset, kinds):
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, inits, shape, opset=opset))
    assert [type(layer).__name__ for layer in net.layers] == kinds
    assert_matches_onnxruntime(net)


def test_pad_mode_wrap_is_refused_with_its_name(tmp_path):
    nodes = [_node("Pad", ["x", "pads"], ["p"], mode="wrap"), _node("Relu", ["p"], ["y"])]
    path = make_onnx(tmp_path, nodes, {"pads": np.array([0, 0, 1, 0, 0, 1])}, ["N", 2, 3], opset=19)
    with pytest.raises(pnn.errors.UnsupportedOperatorError, match="Pad mode 'wrap'"):
        pnn.load_onnx(path)


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_torch_exports_with_transposes_pads_and_slices(exporter):
    net = pnn.load_onnx(DATA / f"torch_movement_{exporter}.onnx")
    kinds = {type(layer).__name__ for layer in net.layers}
    assert {"Transpose", "Pad", "Slice", "Conv2d", "MaxPool2d"} <= kinds
    assert_matches_onnxruntime(net)


def test_milp_over_transposes_pads_and_slices_is_re_checked_at_its_solution():
    net = pnn.load_onnx(DATA / "torch_movement_legacy.onnx")
    x0 = np.random.default_rng(0).uniform(0, 1, net.input_size)
    domain = pnn.LinfBall(x0, 0.05, lower=0.0, upper=1.0)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, domain, method="symbolic"), domain)
    model.obj = pyo.Objective(expr=model.nn.outputs[0] - model.nn.outputs[1], sense=pyo.maximize)
    result = pnn.solve(model, time_limit=60)
    assert result.status == "optimal" and result.verified, result
    assert not any(
        layer.name in {s.name for s in model.nn.stats} for layer in net.layers if "transpose" in layer.name
    )
