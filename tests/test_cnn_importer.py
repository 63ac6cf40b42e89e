"""Convolutional ops in hand-made graphs and torch exports, against onnxruntime on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

import pyomo_nn as pnn
from conftest import DATA, assert_matches_onnxruntime, make_onnx

rng = np.random.default_rng(7)


def _weights(*shape: int) -> np.ndarray:
    return rng.normal(size=shape).astype(np.float32)


def _node(op: str, inputs: list[str], output: str, **attrs: object):
    return helper.make_node(op, inputs, [output], name=f"{op.lower()}_{output}", **attrs)


def _head(source: str, size: int) -> tuple[list, dict]:
    """Flatten + Gemm to 3 outputs, so every graph ends in logits."""
    nodes = [_node("Flatten", [source], "flat", axis=1), _node("Gemm", ["flat", "head_w"], "y", transB=1)]
    return nodes, {"head_w": _weights(3, size)}


def _load(
    tmp_path, nodes: list, inits: dict, shape: list, out: str, size: int, opset: int = 17
) -> pnn.Network:
    head, head_inits = _head(out, size)
    net = pnn.load_onnx(make_onnx(tmp_path, nodes + head, {**inits, **head_inits}, shape, opset=opset))
    assert_matches_onnxruntime(net, scale=2.0)
    return net


@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {"strides": [2, 2]},
        {"pads": [1, 2, 0, 1]},
        {"dilations": [2, 1], "pads": [2, 1, 2, 1]},
        {"group": 2},
        {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
        {"auto_pad": "SAME_LOWER", "strides": [2, 1]},
        {"auto_pad": "VALID"},
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_variants(tmp_path, attrs, bias):
    weight = _weights(4, 2 // attrs.get("group", 1), 3, 3)
    inputs = ["x", "w", "b"] if bias else ["x", "w"]
    nodes = [_node("Conv", inputs, "c", **attrs)]
    inits = {"w": weight, "b": _weights(4)} if bias else {"w": weight}
    probe = pnn.load_onnx(make_onnx(tmp_path, nodes, inits, ["N", 2, 7, 6], output="c", name="probe.onnx"))
    net = _load(tmp_path, nodes, inits, ["N", 2, 7, 6], "c", probe.output_size)
    assert [type(layer).__name__ for layer in net.layers] == ["Conv2d", "Dense"]


def test_depthwise_conv(tmp_path):
    nodes = [_node("Conv", ["x", "w", "b"], "c", group=3, pads=[1, 1, 1, 1])]
    _load(tmp_path, nodes, {"w": _weights(6, 1, 3, 3), "b": _weights(6)}, ["N", 3, 5, 5], "c", 150)


def test_conv_1d(tmp_path):
    nodes = [_node("Conv", ["x", "w", "b"], "c", pads=[1, 0], strides=[2])]
    _load(tmp_path, nodes, {"w": _weights(4, 2, 3), "b": _weights(4)}, ["N", 2, 9], "c", 16)


@pytest.mark.parametrize(
    ("op", "attrs", "size"),
    [
        ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2]}, 2 * 3 * 3),
        ("MaxPool", {"kernel_shape": [3, 2], "strides": [1, 2], "pads": [1, 0, 1, 0]}, 2 * 6 * 3),
        ("MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2]}, 2 * 4 * 4),
        ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, 2 * 3 * 3),
        ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2]}, 2 * 3 * 3),
        ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, 2 * 6 * 6),
        ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}, 2 * 6 * 6),
        ("GlobalAveragePool", {}, 2),
        ("GlobalMaxPool", {}, 2),
    ],
)
def test_pooling_variants(tmp_path, op, attrs, size):
    nodes = [_node(op, ["x"], "p", **attrs)]
    net = _load(tmp_path, nodes, {}, ["N", 2, 6, 6], "p", size)
    assert net.layers[0].name.startswith("maxpool" if "Max" in op else "avgpool")


@pytest.mark.parametrize(("axes", "keepdims"), [([2, 3], 1), ([-1, -2], 0)])
def test_reduce_mean_over_space_is_a_global_average_pool(tmp_path, axes, keepdims):
    nodes = [_node("ReduceMean", ["x", "axes"], "m", keepdims=keepdims)]
    inits = {"axes": np.array(axes, dtype=np.int64)}
    net = _load(tmp_path, nodes, inits, ["N", 3, 4, 4], "m", 3, opset=18)
    assert type(net.layers[0]).__name__ == "AvgPool2d"


def test_batch_norm_after_conv_folds_into_it(tmp_path):
    nodes = [
        _node("Conv", ["x", "w", "b"], "c", pads=[1, 1, 1, 1]),
        _node("BatchNormalization", ["c", "s", "bb", "m", "v"], "n", epsilon=1e-3),
        _node("Relu", ["n"], "r"),
    ]
    inits = {
        "w": _weights(3, 2, 3, 3),
        "b": _weights(3),
        "s": _weights(3),
        "bb": _weights(3),
        "m": _weights(3),
        "v": np.abs(_weights(3)) + 0.5,
    }
    net = _load(tmp_path, nodes, inits, ["N", 2, 5, 5], "r", 75)
    assert [type(layer).__name__ for layer in net.layers] == ["Conv2d", "ReLU", "Dense"]


def test_normalisation_and_batch_norm_before_a_conv_stay_element_wise(tmp_path):
    nodes = [
        _node("Sub", ["x", "mean"], "centred"),
        _node("Div", ["centred", "std"], "scaled"),
        _node("BatchNormalization", ["scaled", "s", "bb", "m", "v"], "n"),
        _node("Conv", ["n", "w"], "c"),
    ]
    inits = {
        "mean": np.full((1, 2, 1, 1), 0.3, np.float32),
        "std": np.full((1, 2, 1, 1), 0.2, np.float32),
        "s": _weights(2),
        "bb": _weights(2),
        "m": _weights(2),
        "v": np.abs(_weights(2)) + 0.5,
        "w": _weights(3, 2, 3, 3),
    }
    net = _load(tmp_path, nodes, inits, ["N", 2, 5, 5], "c", 27)
    assert [type(layer).__name__ for layer in net.layers] == ["Elementwise", "Conv2d", "Dense"]


def test_residual_add_sub_and_channel_concat(tmp_path):
    nodes = [
        _node("Conv", ["x", "w0"], "a", pads=[1, 1, 1, 1]),
        _node("Relu", ["a"], "ra"),
        _node("Conv", ["ra", "w1"], "b", pads=[1, 1, 1, 1]),
        _node("Add", ["ra", "b"], "sum"),
        _node("Sub", ["sum", "ra"], "diff"),
        _node("Relu", ["diff"], "rd"),
        _node("Concat", ["rd", "ra", "b"], "cat", axis=1),
    ]
    inits = {"w0": _weights(2, 2, 3, 3), "w1": _weights(2, 2, 3, 3)}
    net = _load(tmp_path, nodes, inits, ["N", 2, 4, 4], "cat", 96)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds.count("Add") == 2 and "Concat" in kinds


@pytest.mark.parametrize(
    "file",
    [
        "torch_cnn_legacy.onnx",
        "torch_cnn_dynamo.onnx",
        "torch_cnn_batchnorm.onnx",
        "torch_residual_legacy.onnx",
        "torch_residual_dynamo.onnx",
    ],
)
def test_torch_cnn_exports_match_onnxruntime(file):
    net = pnn.load_onnx(DATA / file)
    assert_matches_onnxruntime(net, scale=2.0, samples=32)
    assert "Elementwise" not in {type(layer).__name__ for layer in net.layers}, (
        "BatchNorm must fold into Conv"
    )


def test_bundled_digits_cnn_is_accurate_and_matches():
    from pyomo_nn.bundled import digits_test_set, load_digits_cnn

    net = load_digits_cnn()
    assert net.input_shape == (1, 8, 8)
    assert_matches_onnxruntime(net)
    images, labels = digits_test_set()
    assert float(np.mean(net.predict(images) == labels)) >= 0.95


@pytest.mark.parametrize(
    ("nodes", "inits", "message"),
    [
        (
            [_node("MaxPool", ["x"], "y", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)],
            {},
            "ceil_mode=1 adds a partial window",
        ),
        (
            [helper.make_node("MaxPool", ["x"], ["y", "where"], name="indices", kernel_shape=[2, 2])],
            {},
            "Indices output",
        ),
        (
            [_node("ReduceMean", ["x", "axes"], "y", keepdims=1)],
            {"axes": np.array([1], dtype=np.int64)},
            "only the spatial axes",
        ),
        (
            [_node("Concat", ["x", "x"], "y", axis=2)],
            {},
            "only\\s+the channel axis",
        ),
        (
            [_node("Conv", ["x", "w"], "c"), _node("Add", ["x", "c"], "y")],
            {"w": _weights(2, 2, 1, 1)},
            None,
        ),
    ],
)
def test_unsupported_variants_are_named(tmp_path, nodes, inits, message):
    path = make_onnx(tmp_path, nodes, inits, ["N", 2, 5, 5], opset=18)
    if message is None:  # a 1x1 conv keeps the shape: this Add of two branches is fine
        assert_matches_onnxruntime(pnn.load_onnx(path))
        return
    with pytest.raises(pnn.errors.UnsupportedOperatorError, match=message):
        pnn.load_onnx(path)


def test_a_constant_broadcasts_but_two_branches_must_have_one_shape(tmp_path):
    nodes = [_node("Conv", ["x", "w"], "c", strides=[2, 2]), _node("Add", ["c", "bias"], "y")]
    path = make_onnx(tmp_path, nodes, {"w": _weights(2, 2, 1, 1), "bias": _weights(2, 1, 1)}, ["N", 2, 4, 4])
    assert_matches_onnxruntime(pnn.load_onnx(path))
    nodes = [_node("GlobalAveragePool", ["x"], "g"), _node("Add", ["x", "g"], "y")]
    with pytest.raises(pnn.errors.UnsupportedOperatorError, match="would broadcast"):
        pnn.load_onnx(make_onnx(tmp_path, nodes, {}, ["N", 2, 4, 4], name="bad.onnx"))


def test_batch_norm_in_training_mode_is_refused(tmp_path):
    nodes = [
        helper.make_node(
            "BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "mean", "var"], name="bn", training_mode=1
        )
    ]
    inits = {"s": _weights(2), "b": _weights(2), "m": _weights(2), "v": np.ones(2, np.float32)}
    path = make_onnx(tmp_path, nodes, inits, ["N", 2, 3, 3])
    with pytest.raises(pnn.errors.UnsupportedOperatorError, match="eval mode"):
        pnn.load_onnx(path)
