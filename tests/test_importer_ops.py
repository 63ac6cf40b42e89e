"""Every supported ONNX op, in hand-made graphs, against onnxruntime on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

import pyomo_nn as pnn
from conftest import assert_matches_onnxruntime, make_onnx

rng = np.random.default_rng(42)
W = rng.normal(size=(6, 4)).astype(np.float32)  # (in, out) for MatMul
B = rng.normal(size=4).astype(np.float32)


def _node(op: str, inputs: list[str], outputs: list[str], **attrs: object):
    return helper.make_node(op, inputs, outputs, name=f"{op.lower()}_node", **attrs)


@pytest.mark.parametrize(
    ("trans_b", "alpha", "beta", "with_c"),
    [(0, 1.0, 1.0, True), (1, 1.0, 1.0, True), (1, 0.5, 2.0, True), (0, 2.0, 1.0, False)],
)
def test_gemm_variants(tmp_path, trans_b, alpha, beta, with_c):
    weight = W.T.copy() if trans_b else W
    inputs = ["x", "w", "c"] if with_c else ["x", "w"]
    nodes = [_node("Gemm", inputs, ["y"], transB=trans_b, alpha=alpha, beta=beta)]
    inits = {"w": weight, "c": B} if with_c else {"w": weight}
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, inits, ["N", 6]))
    assert_matches_onnxruntime(net)


def test_matmul_add_relu_chain(tmp_path):
    nodes = [
        _node("MatMul", ["x", "w"], ["h"]),
        _node("Add", ["h", "b"], ["a"]),
        helper.make_node("Relu", ["a"], ["r"], name="relu"),
        helper.make_node("MatMul", ["r", "w2"], ["y"], name="out"),
    ]
    inits = {"w": W, "b": B, "w2": rng.normal(size=(4, 3)).astype(np.float32)}
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, inits, ["N", 6]))
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "ReLU", "Dense"]
    assert_matches_onnxruntime(net)


def test_matmul_with_weights_on_the_left(tmp_path):
    nodes = [_node("MatMul", ["w", "x"], ["y"])]
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, {"w": W.T.copy()}, [6]))
    assert_matches_onnxruntime(net)


@pytest.mark.parametrize(
    ("op", "constant_first"),
    [
        ("Add", False),
        ("Add", True),
        ("Sub", False),
        ("Sub", True),
        ("Mul", False),
        ("Mul", True),
        ("Div", False),
    ],
)
def test_elementwise_with_constants_fold_into_first_layer(tmp_path, op, constant_first):
    constant = rng.uniform(0.5, 2.0, size=6).astype(np.float32)
    pair = ["k", "x"] if constant_first else ["x", "k"]
    nodes = [_node(op, pair, ["n"]), _node("Gemm", ["n", "w", "b"], ["y"])]
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, {"k": constant, "w": W, "b": B}, ["N", 6]))
    assert len(net.layers) == 1, "normalisation must fold into the first affine layer"
    assert_matches_onnxruntime(net)


def test_scalar_broadcast_and_constant_node(tmp_path):
    nodes = [
        helper.make_node("Constant", [], ["two"], value=helper.make_tensor("v", 1, [], [2.0])),
        _node("Mul", ["x", "two"], ["m"]),
        _node("Gemm", ["m", "w"], ["y"]),
    ]
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, {"w": W}, ["N", 6]))
    assert_matches_onnxruntime(net)


def test_flatten_reshape_identity_squeeze_unsqueeze(tmp_path):
    nodes = [
        _node("Flatten", ["x"], ["f"], axis=1),
        _node("Identity", ["f"], ["i"]),
        _node("Unsqueeze", ["i", "ax"], ["u"]),
        _node("Squeeze", ["u", "ax"], ["s"]),
        _node("Reshape", ["s", "shape"], ["r"]),
        _node("Gemm", ["r", "w", "b"], ["g"]),
        _node("Dropout", ["g"], ["y"]),
    ]
    inits = {"ax": np.array([1], dtype=np.int64), "shape": np.array([0, -1], dtype=np.int64), "w": W, "b": B}
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, inits, ["N", 1, 2, 3]))
    assert net.input_shape == (1, 2, 3)
    assert_matches_onnxruntime(net)


def test_cast_to_float_is_transparent(tmp_path):
    nodes = [_node("Cast", ["x"], ["c"], to=1), _node("Gemm", ["c", "w"], ["y"])]
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, {"w": W}, ["N", 6]))
    assert_matches_onnxruntime(net)


@pytest.mark.parametrize(("op", "marker"), [("Softmax", "softmax"), ("LogSoftmax", "log_softmax")])
def test_trailing_softmax_is_a_marker_and_blocks_expose_logits(tmp_path, op, marker):
    nodes = [_node("Gemm", ["x", "w", "b"], ["logits"]), _node(op, ["logits"], ["y"], axis=-1)]
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, {"w": W, "b": B}, ["N", 6]))
    assert net.output_activation == marker
    assert net.source.logits_name == "logits"
    assert_matches_onnxruntime(net)


def test_add_of_two_affine_functions_of_the_same_tensor(tmp_path):
    nodes = [
        _node("MatMul", ["x", "w"], ["p"]),
        helper.make_node("MatMul", ["x", "w2"], ["q"], name="second"),
        _node("Sub", ["p", "q"], ["y"]),
    ]
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, {"w": W, "w2": W * 0.5}, ["N", 6]))
    assert_matches_onnxruntime(net)


def test_relu_directly_on_the_input_and_at_the_end(tmp_path):
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="r0"),
        _node("Gemm", ["r", "w", "b"], ["g"]),
        helper.make_node("Relu", ["g"], ["y"], name="r1"),
    ]
    net = pnn.load_onnx(make_onnx(tmp_path, nodes, {"w": W, "b": B}, ["N", 6]))
    assert [type(layer).__name__ for layer in net.layers] == ["ReLU", "Dense", "ReLU"]
    assert_matches_onnxruntime(net)
