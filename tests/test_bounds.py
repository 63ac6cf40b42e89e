"""Bound methods are valid: no sampled input ever leaves them (docs/design.md, rule 1)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyomo_nn as pnn
from conftest import random_mlp
from pyomo_nn.bounds.executors import InlineExecutor
from pyomo_nn.bundled import digits_test_set, load_digits_network

METHODS = list(pnn.bounds.METHODS)


def _samples(lower: np.ndarray, upper: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform points plus box corners (where ReLU networks take their extremes most often)."""
    uniform = rng.uniform(lower, upper, size=(count, lower.size))
    corners = np.where(rng.random((count, lower.size)) < 0.5, lower, upper)
    return np.vstack([uniform, corners, lower[None], upper[None]])


def assert_contains_samples(net: pnn.Network, bounds: pnn.Bounds, seed: int, count: int = 400) -> None:
    rng = np.random.default_rng(seed)
    values = net.activations(_samples(bounds.input_lower, bounds.input_upper, count, rng))
    for k, layer in enumerate(net.dense_layers):
        pre = values[layer.name]
        below = pre < bounds.lower[k]
        above = pre > bounds.upper[k]
        assert not below.any() and not above.any(), (
            f"{bounds.method}: layer {layer.name} has sampled values outside its bounds "
            f"(worst excess {max(np.max(bounds.lower[k] - pre), np.max(pre - bounds.upper[k])):.3e})"
        )


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=2, max_size=5),
    seed=st.integers(0, 10_000),
    radius=st.floats(0.01, 2.0),
    method=st.sampled_from(METHODS),
)
def test_sampled_inputs_never_leave_the_bounds(sizes, seed, radius, method):
    net = random_mlp(sizes, seed=seed)
    centre = np.random.default_rng(seed).normal(size=sizes[0])
    domain = pnn.LinfBall(centre, eps=radius)
    bounds = pnn.compute_bounds(net, domain, method=method, time_limit=5, executor=InlineExecutor())
    assert_contains_samples(net, bounds, seed)


@pytest.mark.parametrize("method", METHODS)
def test_bounds_hold_on_the_bundled_network(method):
    net = load_digits_network("64-50-50-50-10")
    images, _ = digits_test_set()
    domain = pnn.LinfBall(images[3], eps=0.1, lower=0, upper=1)
    bounds = pnn.compute_bounds(net, domain, method=method, time_limit=5)
    assert_contains_samples(net, bounds, seed=3, count=2000)


def test_interval_is_never_looser_than_naive():
    net = random_mlp([8, 16, 16, 4], seed=5)
    domain = pnn.Box(-1, 1)
    naive = pnn.compute_bounds(net, domain, method="naive")
    interval = pnn.compute_bounds(net, domain, method="interval")
    for k in range(len(net.dense_layers)):
        assert np.all(interval.lower[k] >= naive.lower[k])
        assert np.all(interval.upper[k] <= naive.upper[k])


def test_naive_bound_is_the_thesis_norm_product():
    """Prop. 2.1 for a 2-layer net: |a1| <= ||W0|| ||x|| + ||b0||, then Prop. 2.2."""
    w0, b0 = np.array([[1.0, -2.0], [0.5, 0.5]]), np.array([0.1, -0.3])
    w1, b1 = np.array([[2.0, 1.0]]), np.array([0.4])
    net = pnn.Network.mlp([w0, w1], [b0, b1])
    bounds = pnn.compute_bounds(net, pnn.Box(-2, 1), method="naive")
    first = 3.0 * 2.0 + 0.3
    assert np.allclose(bounds.upper[0], first) and np.allclose(bounds.lower[0], -first)
    assert np.allclose(bounds.upper[1], 3.0 * first + 0.4)


def test_interval_is_exact_for_one_affine_layer():
    w, b = np.array([[1.0, -2.0]]), np.array([0.5])
    net = pnn.Network.mlp([w], [b])
    bounds = pnn.compute_bounds(net, pnn.Box([0, -1], [1, 1]))
    assert np.allclose([bounds.lower[0][0], bounds.upper[0][0]], [-1.5, 3.5])


def test_summary_counts_stable_neurons():
    net = load_digits_network()
    images, _ = digits_test_set()
    bounds = pnn.compute_bounds(net, pnn.LinfBall(images[0], eps=0.05, lower=0, upper=1))
    active, dead, split = bounds.stability(0)
    assert active + dead + split == 32
    assert "dense_0" in bounds.summary()


def _mean_widths(bounds: pnn.Bounds) -> list[float]:
    return [float(np.mean(hi - lo)) for lo, hi in zip(bounds.lower, bounds.upper, strict=True)]


def test_each_method_is_at_least_as_tight_as_the_cheaper_one():
    net = load_digits_network("64-50-50-50-10")
    images, _ = digits_test_set()
    domain = pnn.LinfBall(images[7], eps=0.08, lower=0, upper=1)
    previous = None
    for method in ("interval", "symbolic", "alpha", "lp", "milp"):
        bounds = pnn.compute_bounds(net, domain, method=method, time_limit=5)
        if previous is not None:
            for k in range(len(net.dense_layers)):
                assert np.all(bounds.lower[k] >= previous.lower[k] - 1e-9), (method, k)
                assert np.all(bounds.upper[k] <= previous.upper[k] + 1e-9), (method, k)
        previous = bounds
    interval = pnn.compute_bounds(net, domain, method="interval")
    symbolic = pnn.compute_bounds(net, domain, method="symbolic")
    assert _mean_widths(symbolic)[-1] < 0.8 * _mean_widths(interval)[-1]


def test_tightening_with_no_time_keeps_the_starting_bounds():
    net = load_digits_network("64-50-50-50-10")
    images, _ = digits_test_set()
    domain = pnn.LinfBall(images[7], eps=0.08, lower=0, upper=1)
    alpha = pnn.compute_bounds(net, domain, method="alpha")
    rushed = pnn.compute_bounds(net, domain, method="lp", time_limit=1e-6)
    for k in range(len(net.dense_layers)):
        assert np.array_equal(rushed.lower[k], alpha.lower[k])
        assert np.array_equal(rushed.upper[k], alpha.upper[k])


def test_alpha_reaches_the_lp_bound_of_one_hidden_layer():
    """With one hidden layer the best slopes give exactly the LP (triangle) bound of the
    output: alpha may not beat it (that would be unsound) and should close most of the
    gap that symbolic bounds leave."""
    net = random_mlp([8, 60, 4], seed=5, bias_scale=0.3)
    domain = pnn.Box(-1, 1)
    symbolic, alpha, lp = (
        pnn.compute_bounds(net, domain, method=m, executor=InlineExecutor())
        for m in ("symbolic", "alpha", "lp")
    )
    assert np.all(alpha.lower[1] <= lp.lower[1] + 1e-7) and np.all(alpha.upper[1] >= lp.upper[1] - 1e-7)
    gap = (lp.lower[1] - symbolic.lower[1]) + (symbolic.upper[1] - lp.upper[1])
    closed = (alpha.lower[1] - symbolic.lower[1]) + (symbolic.upper[1] - alpha.upper[1])
    assert gap.sum() > 0.1, "the example must leave symbolic bounds a gap to close"
    assert closed.sum() >= 0.9 * gap.sum()


def test_lp_bounds_in_worker_processes_equal_inline_ones():
    net = random_mlp([6, 40, 40, 3], seed=2, bias_scale=0.1)
    domain = pnn.Box(-1, 1)
    pooled = pnn.compute_bounds(net, domain, method="lp")
    inline = pnn.compute_bounds(net, domain, method="lp", executor=InlineExecutor())
    assert pooled.stability(1)[2] >= 32, "the layer must be large enough to use the pool"
    for k in range(3):
        assert np.allclose(pooled.lower[k], inline.lower[k]) and np.allclose(pooled.upper[k], inline.upper[k])
    assert_contains_samples(net, pooled, seed=2)


@pytest.mark.slow
def test_lp_bounds_on_a_dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    net = random_mlp([6, 40, 40, 3], seed=2, bias_scale=0.1)
    domain = pnn.Box(-1, 1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = pnn.compute_bounds(net, domain, method="lp", executor=client.get_executor())
    inline = pnn.compute_bounds(net, domain, method="lp", executor=InlineExecutor())
    for k in range(3):
        assert np.allclose(on_dask.lower[k], inline.lower[k]) and np.allclose(
            on_dask.upper[k], inline.upper[k]
        )


def test_lp_bounds_are_certified_from_the_duals_in_both_directions():
    """The backend's LP bound is the weak-duality bound of HiGHS' duals: equal to the LP
    optimum up to rounding, on the safe side of it, for maximisation and minimisation."""
    from pyomo_nn.bounds.backends import HighsBackend
    from pyomo_nn.bounds.relaxation import layer_problem
    from pyomo_nn.bounds.tightening import _boxes

    net = random_mlp([6, 30, 30, 3], seed=4, bias_scale=0.1)
    lower, upper = -np.ones(6), np.ones(6)
    symbolic = pnn.compute_bounds(net, pnn.Box(-1, 1), method="symbolic")
    boxes = _boxes(net, lower, upper, list(zip(symbolic.lower, symbolic.upper, strict=True)))
    problem = layer_problem(net, boxes, net.affine_layers[2], integer=False)
    backend = HighsBackend(problem)
    for neuron in range(3):
        for maximise in (True, False):
            certified = backend.bound(neuron, maximise, time_limit=None)
            optimum = backend.highs.getInfo().objective_function_value + problem.objective_offsets[neuron]
            assert certified == pytest.approx(optimum, abs=1e-7)
            assert certified >= optimum - 1e-12 if maximise else certified <= optimum + 1e-12
