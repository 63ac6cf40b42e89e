"""Networks written by real exporters (torch.onnx legacy and dynamo, skl2onnx) and
third-party files, each checked against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

import pyomo_nn as pnn
from conftest import DATA, assert_matches_onnxruntime
from pyomo_nn.bundled import DIGITS_NETWORKS, digits_test_set, load_digits_network


@pytest.mark.parametrize(
    "file",
    [
        "torch_norm_mlp_legacy.onnx",
        "torch_norm_mlp_dynamo.onnx",
        "torch_flatten_softmax_legacy.onnx",
        "torch_flatten_softmax_dynamo.onnx",
        "acasxu_test_sat.onnx",
        "vnncomp_test_small.onnx",
    ],
)
def test_exported_files_match_onnxruntime(file):
    net = pnn.load_onnx(DATA / file)
    assert_matches_onnxruntime(net, scale=2.0)


def test_torch_normalisation_folds_into_first_layer():
    net = pnn.load_onnx(DATA / "torch_norm_mlp_dynamo.onnx")
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "ReLU", "Dense"]


def test_torch_softmax_network_exposes_logits():
    net = pnn.load_onnx(DATA / "torch_flatten_softmax_legacy.onnx")
    assert net.output_activation == "softmax"
    assert net.input_shape == (1, 8, 8)
    x = np.random.default_rng(0).uniform(size=(3, 1, 8, 8))
    assert net.forward(x).shape == (3, 10)
    assert np.allclose(net.forward(x), net.forward(x.reshape(3, 64)))


@pytest.mark.parametrize("architecture", DIGITS_NETWORKS)
def test_bundled_digits_networks_are_accurate_and_match(architecture):
    net = load_digits_network(architecture)
    assert_matches_onnxruntime(net)
    images, labels = digits_test_set()
    accuracy = float(np.mean(net.predict(images) == labels))
    assert accuracy >= 0.95, f"accuracy {accuracy:.3f}"


def _sklearn_data(classes: int):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(200, 7)).astype(np.float32)
    y = (x[:, 0] * classes).astype(int).clip(0, classes - 1)
    return x, y


@pytest.mark.parametrize("classes", [2, 3])
def test_skl2onnx_mlp_classifier_uses_the_logit_path(tmp_path, classes):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.neural_network import MLPClassifier

    x, y = _sklearn_data(classes)
    model = MLPClassifier(hidden_layer_sizes=(8, 6), max_iter=300, random_state=0).fit(x, y)
    path = tmp_path / "clf.onnx"
    path.write_bytes(skl2onnx.to_onnx(model, x[:1]).SerializeToString())
    net = pnn.load_onnx(path)
    assert net.output_activation in ("softmax", "sigmoid")
    assert_matches_onnxruntime(net)
    predicted = net.predict(x) if classes > 2 else (net.forward(x)[:, 0] > 0).astype(int)
    assert np.mean(predicted == model.predict(x)) == 1.0


def test_skl2onnx_mlp_regressor(tmp_path):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.neural_network import MLPRegressor

    x, _ = _sklearn_data(3)
    model = MLPRegressor(hidden_layer_sizes=(9,), max_iter=300, random_state=0).fit(x, x[:, 0] - x[:, 1])
    path = tmp_path / "reg.onnx"
    path.write_bytes(skl2onnx.to_onnx(model, x[:1]).SerializeToString())
    net = pnn.load_onnx(path)
    assert_matches_onnxruntime(net)
    assert np.allclose(net.forward(x).ravel(), model.predict(x), atol=1e-4)
