"""The Rounder (thesis Alg. 2), ONNX export, and bounds save/load."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from conftest import assert_matches_onnxruntime
from pyomo_nn.bundled import digits_test_set, load_digits_network


@pytest.mark.parametrize("percent", [0, 25, 50, 90])
def test_percent_zeroes_that_share_of_weights(percent):
    net = load_digits_network("64-50-50-50-10")
    pruned = pnn.prune(net, percent=percent)
    zeros = sum(layer.zeros for layer in pnn.sparsity(pruned))
    total = sum(layer.total for layer in pnn.sparsity(pruned))
    assert zeros / total == pytest.approx(percent / 100, abs=1 / total)


def test_eps_zeroes_exactly_the_small_weights():
    net = load_digits_network()
    pruned = pnn.prune(net, eps=0.01)
    for before, after in zip(net.dense_layers, pruned.dense_layers, strict=True):
        small = np.abs(before.weight) <= 0.01
        assert np.all(after.weight[small] == 0)
        assert np.allclose(after.weight[~small], before.weight[~small], atol=1e-7)
        assert np.array_equal(after.bias, before.bias.astype(np.float32))


def test_pruned_network_is_rechecked_by_onnxruntime():
    net = load_digits_network()
    pruned = pnn.prune(net, percent=50)
    assert pruned.source is not None
    assert_matches_onnxruntime(pruned)
    images, labels = digits_test_set()
    assert np.mean(pruned.predict(images) == labels) >= 0.9
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(pruned, pnn.compute_bounds(pruned, pnn.LinfBall(images[0], 0.05, 0, 1)))
    model.obj = pyo.Objective(expr=model.nn.outputs[1], sense=pyo.maximize)
    result = pnn.solve(model, time_limit=30)
    assert result.blocks["nn"].reference == "onnxruntime" and result.verified


def test_prune_needs_exactly_one_amount():
    with pytest.raises(ValueError, match="exactly one"):
        pnn.prune(load_digits_network())


def test_exported_onnx_round_trips(tmp_path):
    net = pnn.load_onnx(__import__("conftest").DATA / "torch_flatten_softmax_legacy.onnx")
    path = tmp_path / "copy.onnx"
    pnn.save_onnx(net, path)
    copy = pnn.load_onnx(path)
    assert copy.input_shape == net.input_shape and copy.output_activation == "softmax"
    x = np.random.default_rng(0).uniform(size=(5, 64))
    assert np.allclose(copy.forward(x), net.forward(x), atol=1e-6)
    assert_matches_onnxruntime(copy)


def test_bounds_save_load_and_stale_refusal(tmp_path):
    net = load_digits_network()
    images, _ = digits_test_set()
    bounds = pnn.compute_bounds(net, pnn.LinfBall(images[0], 0.05, 0, 1), method="lp")
    path = tmp_path / "bounds.npz"
    bounds.save(path)
    loaded = pnn.Bounds.load(path, net)
    assert loaded.method == "lp" and loaded.layer_names == bounds.layer_names
    for k in range(len(bounds.lower)):
        assert np.array_equal(loaded.lower[k], bounds.lower[k]) and np.array_equal(
            loaded.upper[k], bounds.upper[k]
        )
    with pytest.raises(pnn.errors.StaleBoundsError, match="different network"):
        pnn.Bounds.load(path, pnn.prune(net, percent=10))
