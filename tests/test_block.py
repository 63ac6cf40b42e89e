"""NetworkBlock: the Big-M encoding computes the network exactly, names are stable,
stable neurons get no binary, and blocks compose in one model."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from conftest import random_mlp
from pyomo_nn.bundled import digits_test_set, load_digits_network


def _fix_inputs_and_solve(model: pyo.ConcreteModel, block: pnn.NetworkBlock, x: np.ndarray) -> pnn.Result:
    for i, value in enumerate(x):
        block.inputs[i].fix(float(value))
    return pnn.solve(model, time_limit=30)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixed_input_gives_the_forward_pass(seed):
    net = random_mlp([5, 8, 8, 3], seed=seed)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(-1, 1)))
    model.obj = pyo.Objective(expr=sum(model.nn.outputs[k] for k in range(3)))
    x = np.random.default_rng(seed).uniform(-1, 1, size=5)
    result = _fix_inputs_and_solve(model, model.nn, x)
    assert result.status == "optimal"
    assert np.allclose(model.nn.output_values(), net.forward(x), atol=1e-6)
    assert result.verified


def test_closed_form_optimum_of_absolute_difference():
    """|x0 - x1| = relu(x0 - x1) + relu(x1 - x0): max over [0,1]^2 is 1, min is 0."""
    net = pnn.Network.mlp(
        [np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([[1.0, 1.0]])], [np.zeros(2), np.zeros(1)]
    )
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(0, 1)))
    model.obj = pyo.Objective(expr=model.nn.outputs[0], sense=pyo.maximize)
    best = pnn.solve(model, time_limit=10)
    assert best.objective == pytest.approx(1.0, abs=1e-7)
    assert abs(best.x[0] - best.x[1]) == pytest.approx(1.0, abs=1e-7)
    model.obj.sense = pyo.minimize
    assert pnn.solve(model, time_limit=10).objective == pytest.approx(0.0, abs=1e-7)


def test_stable_neurons_get_no_binary():
    net = load_digits_network()
    images, _ = digits_test_set()
    bounds = pnn.compute_bounds(net, pnn.LinfBall(images[0], eps=0.02, lower=0, upper=1))
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    binaries = sum(1 for v in model.component_data_objects(pyo.Var) if v.is_binary())
    split = sum(bounds.stability(k)[2] for k in range(len(net.dense_layers) - 1))
    assert binaries == split == sum(s.split for s in model.nn.stats)
    assert binaries < 64, "a small ball must leave most neurons stable"
    dead = [j for j in range(32) if bounds.upper[0][j] <= 0]
    assert all(model.nn.layers["relu_0"].h[j].fixed for j in dead)


def test_component_names_are_deterministic():
    def names() -> list[str]:
        net = random_mlp([3, 4, 2], seed=7)
        model = pyo.ConcreteModel()
        model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(-1, 1)))
        return sorted(c.name for c in model.component_objects(descend_into=True))

    first = names()
    assert first == names()
    assert "nn.inputs" in first and "nn.outputs" in first and "nn.layers[relu_0].h" in first


def test_two_blocks_share_an_input_in_one_model():
    """Two networks on one input: the largest output gap found is re-checked on both."""
    net_a, net_b = random_mlp([4, 6, 2], seed=3), random_mlp([4, 6, 2], seed=4)
    domain = pnn.Box(-1, 1)
    model = pyo.ConcreteModel()
    model.a = pnn.NetworkBlock(net_a, pnn.compute_bounds(net_a, domain))
    model.b = pnn.NetworkBlock(net_b, pnn.compute_bounds(net_b, domain))
    model.same_input = pyo.Constraint(range(4), rule=lambda m, i: m.a.inputs[i] == m.b.inputs[i])
    model.obj = pyo.Objective(expr=model.a.outputs[0] - model.b.outputs[0], sense=pyo.maximize)
    result = pnn.solve(model, time_limit=30)
    assert set(result.blocks) == {"a", "b"}
    assert result.verified
    x = result.blocks["a"].x
    assert np.allclose(x, result.blocks["b"].x, atol=1e-7)
    assert result.objective == pytest.approx(net_a.forward(x)[0] - net_b.forward(x)[0], abs=1e-6)
    grid = np.random.default_rng(0).uniform(-1, 1, size=(5000, 4))
    sampled_best = np.max(net_a.forward(grid)[:, 0] - net_b.forward(grid)[:, 0])
    assert result.objective >= sampled_best - 1e-6


def test_user_constraints_tie_into_the_block(digits_net):
    images, _ = digits_test_set()
    domain = pnn.LinfBall(images[1], eps=0.1, lower=0, upper=1)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(digits_net, pnn.compute_bounds(digits_net, domain))
    model.keep_pixel = pyo.Constraint(expr=model.nn.inputs[10] == float(images[1][10]))
    model.obj = pyo.Objective(expr=model.nn.outputs[0], sense=pyo.maximize)
    result = pnn.solve(model, time_limit=30)
    assert result.x[10] == pytest.approx(images[1][10], abs=1e-7)
    assert result.verified


def test_summary_reports_each_layer(digits_net):
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(digits_net, pnn.compute_bounds(digits_net, pnn.Box(0, 1)))
    text = model.nn.summary()
    assert "relu_0" in text and "relu_1" in text and "binaries" in text
