"""Bound methods through conv, pooling, residual and concat layers: no sampled input ever
leaves the bounds (docs/design.md, rule 1), tighter methods stay tighter, memory stays bounded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyomo_nn as pnn
from conftest import DATA, random_cnn
from pyomo_nn.bounds import symbolic
from pyomo_nn.bounds.executors import InlineExecutor
from pyomo_nn.ir import INPUT, Conv2d, Dense, MaxPool2d, Network, ReLU

#: Every method but alpha, which takes Dense/ReLU chains only (tested to refuse CNNs below).
METHODS = [method for method in pnn.bounds.METHODS if method != "alpha"]
FIXTURES = ["torch_cnn_legacy.onnx", "torch_residual_dynamo.onnx"]


def assert_contains_samples(net: pnn.Network, bounds: pnn.Bounds, seed: int, count: int = 300) -> None:
    """Uniform points and box corners: every affine layer's values stay inside its bounds."""
    rng = np.random.default_rng(seed)
    lower, upper = bounds.input_lower, bounds.input_upper
    points = np.vstack(
        [
            rng.uniform(lower, upper, size=(count, lower.size)),
            np.where(rng.random((count, lower.size)) < 0.5, lower, upper),
        ]
    )
    values = net.activations(points)
    for k, layer in enumerate(net.affine_layers):
        below = values[layer.name] < bounds.lower[k]
        above = values[layer.name] > bounds.upper[k]
        assert not below.any() and not above.any(), f"{bounds.method}: {layer.name} leaves its bounds"


def _ball(net: pnn.Network, seed: int, eps: float) -> pnn.LinfBall:
    centre = np.random.default_rng(seed).uniform(0, 1, net.input_size)
    return pnn.LinfBall(centre, eps=eps, lower=0, upper=1)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    eps=st.floats(0.01, 1.0),
    method=st.sampled_from(["naive", "interval", "symbolic"]),
)
def test_propagated_bounds_hold_on_random_cnns(seed, eps, method):
    net = random_cnn(seed)
    bounds = pnn.compute_bounds(net, _ball(net, seed, eps), method=method)
    assert bounds.layer_names == tuple(layer.name for layer in net.affine_layers)
    assert_contains_samples(net, bounds, seed)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("file", FIXTURES)
def test_every_method_holds_on_torch_cnns(file, method):
    net = pnn.load_onnx(DATA / file)
    bounds = pnn.compute_bounds(
        net, _ball(net, 1, 0.05), method=method, time_limit=5, executor=InlineExecutor()
    )
    assert_contains_samples(net, bounds, seed=1, count=1000)


def test_lp_and_milp_bounds_hold_on_a_random_cnn():
    net = random_cnn(4)
    for method in ("lp", "milp"):
        bounds = pnn.compute_bounds(
            net, _ball(net, 4, 0.1), method=method, time_limit=5, executor=InlineExecutor()
        )
        assert_contains_samples(net, bounds, seed=4, count=1000)


def test_each_method_is_at_least_as_tight_as_the_cheaper_one():
    net = pnn.load_onnx(DATA / "torch_residual_legacy.onnx")
    domain = _ball(net, 2, 0.05)
    previous = None
    for method in ("interval", "symbolic", "lp"):
        bounds = pnn.compute_bounds(net, domain, method=method, executor=InlineExecutor())
        if previous is not None:
            for k in range(len(net.affine_layers)):
                assert np.all(bounds.lower[k] >= previous.lower[k] - 1e-9), (method, k)
                assert np.all(bounds.upper[k] <= previous.upper[k] + 1e-9), (method, k)
        previous = bounds
    interval = pnn.compute_bounds(net, domain, method="interval")
    symbolic_bounds = pnn.compute_bounds(net, domain, method="symbolic")
    width = [float(np.mean(b.upper[-1] - b.lower[-1])) for b in (interval, symbolic_bounds)]
    assert width[1] < 0.5 * width[0], "back-substitution through the residual block must pay"


def test_symbolic_chunks_give_the_same_bounds(monkeypatch):
    net = random_cnn(5)
    domain = _ball(net, 5, 0.2)
    whole = pnn.compute_bounds(net, domain, method="symbolic")
    monkeypatch.setattr(symbolic, "CHUNK_COEFFICIENTS", 300)  # a few neurons per chunk
    chunked = pnn.compute_bounds(net, domain, method="symbolic")
    for k in range(len(net.affine_layers)):
        assert np.allclose(whole.lower[k], chunked.lower[k], rtol=0, atol=1e-12)
        assert np.allclose(whole.upper[k], chunked.upper[k], rtol=0, atol=1e-12)


def test_max_pool_relaxation_is_exact_for_decided_windows():
    """A pool whose bounds decide each window passes the winner through exactly."""
    conv = Conv2d("conv", INPUT, np.ones((1, 1, 1, 1)), np.zeros(1), (1, 2, 2))
    layers = (
        conv,
        MaxPool2d("pool", "conv", (1, 2, 2), (2, 2)),
        Dense("out", "pool", np.ones((1, 1)), np.zeros(1)),
    )
    net = Network(layers, (1, 2, 2))
    domain = pnn.Box([2.0, 0.0, 0.0, 1.0], [3.0, 1.0, 2.0, 2.0])
    bounds = pnn.compute_bounds(net, domain, method="symbolic")
    assert bounds.of("out")[0][0] == pytest.approx(2.0) and bounds.of("out")[1][0] == pytest.approx(3.0)


def test_tightening_skips_layers_that_are_exact_already():
    net = Network(
        (
            Conv2d("conv", INPUT, np.ones((1, 1, 2, 2)), np.zeros(1), (1, 3, 3)),
            ReLU("relu", "conv"),
            Dense("out", "relu", np.array([[1.0, -1.0, 1.0, -1.0]]), np.zeros(1)),
        ),
        (1, 3, 3),
    )
    bounds = pnn.compute_bounds(net, pnn.Box(-1, 1), method="lp", executor=InlineExecutor())
    assert bounds.layer_seconds[0] == 0.0
    assert_contains_samples(net, bounds, seed=0)


def test_alpha_refuses_a_cnn_with_a_clear_error():
    net = random_cnn(1)
    with pytest.raises(pnn.errors.UnsupportedNetworkError, match=r"alpha.*Dense and ReLU.*symbolic"):
        pnn.compute_bounds(net, _ball(net, 1, 0.05), method="alpha")
