"""The CNN layers of the IR: sparse matrices equal the numpy forward pass, intervals are exact,
BatchNorm folding, ONNX export round trips, pruning of conv kernels, clear shape errors."""

from __future__ import annotations

import numpy as np
import pytest

import pyomo_nn as pnn
from conftest import DATA, assert_matches_onnxruntime, random_cnn
from pyomo_nn.ir import INPUT, AvgPool2d, Conv2d, Dense, Elementwise, MaxPool2d, Network, ReLU
from pyomo_nn.ir.fold import fold_elementwise

rng = np.random.default_rng(3)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"strides": (2, 1), "pads": (1, 0, 2, 1)},
        {"dilations": (2, 2), "pads": (2, 2, 2, 2)},
        {"groups": 2},
    ],
)
def test_conv_matrix_holds_only_the_real_terms_and_equals_forward(settings):
    groups = settings.get("groups", 1)
    weight = rng.normal(size=(4, 4 // groups, 3, 3))
    weight[0, 0, 0, 0] = 0.0
    conv = Conv2d("conv", INPUT, weight, rng.normal(size=4), (4, 5, 6), **settings)
    x = rng.normal(size=(3, conv.matrix.shape[1]))
    assert np.allclose(x @ conv.matrix.to_dense().T + conv.offset, conv.forward(x))
    inside = conv.window.spatial_indices >= 0
    expected = sum(
        np.count_nonzero(weight[o].reshape(weight.shape[1], -1)[:, None, :] * inside[None]) for o in range(4)
    )
    assert conv.matrix.nnz == expected, "zero weights and padding must not be stored"


def test_avg_pool_matrix_and_intervals_are_exact():
    for include_pad in (False, True):
        pool = AvgPool2d(
            "pool", INPUT, (2, 4, 4), (3, 3), (1, 1), (1, 1, 1, 1), count_include_pad=include_pad
        )
        x = rng.normal(size=(5, 32))
        assert np.allclose(x @ pool.matrix.to_dense().T, pool.forward(x))
    lower, upper = -rng.random(32), rng.random(32)
    for layer in (pool, MaxPool2d("max", INPUT, (2, 4, 4), (2, 2), (1, 1))):
        lo, hi = layer.interval(lower, upper)
        assert np.allclose(lo, layer.forward(lower[None])[0]) and np.allclose(
            hi, layer.forward(upper[None])[0]
        )


def test_conv_interval_contains_samples_and_is_attained():
    conv = Conv2d(
        "conv", INPUT, rng.normal(size=(3, 2, 2, 2)), rng.normal(size=3), (2, 3, 3), pads=(1, 1, 0, 0)
    )
    lower, upper = -rng.random(18), rng.random(18)
    lo, hi = conv.interval(lower, upper)
    corners = np.where(rng.random((4000, 18)) < 0.5, lower, upper)
    values = conv.forward(corners)
    assert np.all(values >= lo - 1e-12) and np.all(values <= hi + 1e-12)
    best = np.where(conv.matrix.to_dense() > 0, upper, lower)  # the maximising corner, row by row
    assert np.allclose(np.sum(conv.matrix.to_dense() * best, axis=1) + conv.offset, hi)


def test_max_pool_candidates_and_decided_windows():
    pool = MaxPool2d("pool", INPUT, (1, 2, 2), (2, 2))
    decided = pool.candidates(np.array([2.0, 0.0, 0.0, 1.0]), np.array([3.0, 1.0, 2.0, 2.0]))
    assert decided.decided.tolist() == [True] and decided.leader.tolist() == [0]
    open_window = pool.candidates(np.array([1.0, 0.0, -1.0, 0.5]), np.array([3.0, 0.5, 2.0, 1.0]))
    assert not open_window.decided[0]
    assert open_window.candidate[0].tolist() == [True, False, True, False]
    assert open_window.upper.tolist() == [3.0]


def test_batch_norm_like_scaling_folds_into_conv_and_dense():
    conv = Conv2d("conv", INPUT, rng.normal(size=(2, 1, 2, 2)), rng.normal(size=2), (1, 3, 3))
    per_channel = Elementwise("bn", "conv", np.repeat([2.0, -0.5], 4), np.repeat([0.1, 0.3], 4))
    dense = Dense("dense", "bn", rng.normal(size=(3, 8)), rng.normal(size=3))
    scale = Elementwise("scale", "dense", rng.normal(size=3), rng.normal(size=3))
    net = Network((conv, per_channel, dense, scale), (1, 3, 3))
    folded = fold_elementwise(net)
    assert [layer.name for layer in folded.layers] == ["conv", "dense"]
    assert folded.layers[1].input == "conv"
    x = rng.normal(size=(4, 9))
    assert np.allclose(folded.forward(x), net.forward(x))


def test_per_value_scaling_or_a_shared_producer_does_not_fold():
    conv = Conv2d("conv", INPUT, rng.normal(size=(2, 1, 2, 2)), rng.normal(size=2), (1, 3, 3))
    uneven = Elementwise("scale", "conv", np.arange(1.0, 9.0), np.zeros(8))
    net = Network((conv, uneven, Dense("out", "scale", np.ones((1, 8)), np.zeros(1))), (1, 3, 3))
    assert fold_elementwise(net) is net
    shared = Network(
        (conv, Elementwise("bn", "conv", np.full(8, 2.0), np.zeros(8)), ReLU("relu", "conv")),
        (1, 3, 3),
    )
    assert fold_elementwise(shared) is shared


@pytest.mark.parametrize("seed", [0, 1])
def test_export_round_trip_of_every_layer_type(seed):
    net = random_cnn(seed)
    again = pnn.importers.load_onnx_bytes(pnn.exporters.to_onnx(net).SerializeToString())
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in net.layers]
    x = rng.uniform(-1, 1, size=(6, net.input_size))
    assert np.allclose(again.forward(x), net.forward(x), atol=1e-5)
    assert_matches_onnxruntime(again)


def test_export_keeps_an_unfoldable_elementwise_layer():
    layers = (
        Elementwise("norm", INPUT, np.full(18, 2.0), np.full(18, -1.0)),
        Conv2d("conv", "norm", rng.normal(size=(2, 2, 2, 2)), np.zeros(2), (2, 3, 3), pads=(1, 1, 1, 1)),
    )
    net = Network(layers, (2, 3, 3))
    again = pnn.importers.load_onnx_bytes(pnn.exporters.to_onnx(net).SerializeToString())
    assert [type(layer).__name__ for layer in again.layers] == ["Elementwise", "Conv2d"]
    assert_matches_onnxruntime(again)


def test_pruning_zeroes_conv_kernels_and_rechecks_with_onnxruntime():
    net = pnn.load_onnx(DATA / "torch_residual_legacy.onnx")
    pruned = pnn.prune(net, percent=60)
    sparsity = {layer.name: layer for layer in pnn.sparsity(pruned)}
    assert {"conv_0", "conv_4", "dense_0"} <= set(sparsity)
    zeros = sum(layer.zeros for layer in sparsity.values())
    total = sum(layer.total for layer in sparsity.values())
    assert zeros / total == pytest.approx(0.6, abs=0.01)
    assert_matches_onnxruntime(pruned)


def test_fingerprint_covers_conv_settings():
    weight, bias = rng.normal(size=(2, 1, 2, 2)), np.zeros(2)
    plain = Network((Conv2d("conv", INPUT, weight, bias, (1, 4, 4)),), (1, 4, 4))
    strided = Network((Conv2d("conv", INPUT, weight, bias, (1, 4, 4), strides=(2, 2)),), (1, 4, 4))
    assert plain.fingerprint() != strided.fingerprint()


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: Conv2d("c", INPUT, np.ones((2, 3, 3, 3)), np.zeros(2), (2, 5, 5)),
            pnn.errors.ShapeMismatchError,
            "groups",
        ),
        (
            lambda: Conv2d("c", INPUT, np.ones((2, 1, 3)), np.zeros(2), (1, 5, 5)),
            pnn.errors.ShapeMismatchError,
            "4-D",
        ),
        (
            lambda: Conv2d("c", INPUT, np.ones((2, 1, 7, 7)), np.zeros(2), (1, 5, 5)),
            pnn.errors.ShapeMismatchError,
            "fit",
        ),
        (
            lambda: Conv2d("c", INPUT, np.full((1, 1, 1, 1), np.nan), np.zeros(1), (1, 2, 2)),
            pnn.errors.InvalidWeightsError,
            "NaN",
        ),
        (
            lambda: MaxPool2d("p", INPUT, (1, 4, 4), (2, 2), pads=(2, 2, 2, 2)),
            pnn.errors.ShapeMismatchError,
            "entirely in the padding",
        ),
        (
            lambda: MaxPool2d("p", INPUT, (1, 4, 4), (2, 2), strides=(0, 1)),
            pnn.errors.ShapeMismatchError,
            "strides",
        ),
    ],
)
def test_bad_layer_settings_are_named(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_network_refuses_a_conv_on_a_tensor_of_the_wrong_size():
    conv = Conv2d("conv", INPUT, np.ones((1, 1, 2, 2)), np.zeros(1), (1, 4, 4))
    with pytest.raises(pnn.errors.ShapeMismatchError, match="expects 16 inputs"):
        Network((conv,), (1, 3, 3))
