"""NetworkBlock on convolutional networks: it computes the network exactly, max-pool binaries
are skipped where the bounds decide the window, only non-zero conv terms are written, warm
starts are feasible, and a residual model answers an adversarial question end to end."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn import generate_standard_repn

import pyomo_nn as pnn
from conftest import DATA, random_cnn
from pyomo_nn import objectives as obj
from pyomo_nn.ir import INPUT, Conv2d, Dense, MaxPool2d, Network, ReLU


def _fixed_input_outputs(
    net: pnn.Network, bounds: pnn.Bounds, x: np.ndarray
) -> tuple[np.ndarray, pnn.Result]:
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    for i, value in enumerate(x):
        model.nn.inputs[i].fix(float(value))
    model.obj = pyo.Objective(expr=model.nn.outputs[0])
    result = pnn.solve(model, time_limit=60)
    return model.nn.output_values(), result


@pytest.mark.parametrize("source", ["torch_cnn_legacy.onnx", "torch_residual_dynamo.onnx", 0, 1])
def test_fixed_input_gives_the_forward_pass(source):
    net = pnn.load_onnx(DATA / source) if isinstance(source, str) else random_cnn(source)
    rng = np.random.default_rng(11)
    x = rng.uniform(0, 1, net.input_size)
    bounds = pnn.compute_bounds(net, pnn.LinfBall(x, eps=0.2, lower=0, upper=1), method="symbolic")
    outputs, result = _fixed_input_outputs(net, bounds, rng.uniform(bounds.input_lower, bounds.input_upper))
    assert result.status == "optimal" and result.verified
    assert np.allclose(outputs, net.forward(result.x), atol=1e-6)


def _pool_network() -> Network:
    """One 1x1 conv (identity), a 2x2 max pool over a 2x4 image, a dense output."""
    layers = (
        Conv2d("conv", INPUT, np.ones((1, 1, 1, 1)), np.zeros(1), (1, 2, 4)),
        MaxPool2d("pool", "conv", (1, 2, 4), (2, 2), (2, 2)),
        Dense("out", "pool", np.array([[1.0, -1.0]]), np.zeros(1)),
    )
    return Network(layers, (1, 2, 4))


def test_max_pool_binaries_are_skipped_when_the_bounds_decide():
    # window 0 reads inputs (0, 1, 4, 5): input 0 >= 2 beats the others (<= 1): decided.
    # window 1 reads inputs (2, 3, 6, 7): 2 and 3 overlap, 6 and 7 can never be the max.
    lower = np.array([2.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0])
    upper = np.array([3.0, 1.0, 2.0, 1.5, 1.0, 1.0, 0.4, 0.45])
    net = _pool_network()
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(lower, upper)))
    pool = model.nn.layers["pool"]
    assert sorted(pool.d.keys()) == [(1, 2), (1, 3)]
    assert list(pool.decided.keys()) == [0] and list(pool.one_max.keys()) == [1]
    stats = {s.name: s for s in model.nn.stats}["pool"]
    assert (stats.active, stats.split, stats.binaries) == (1, 1, 2)
    assert sum(1 for v in model.component_data_objects(pyo.Var) if v.is_binary()) == 2
    assert "maxpool" in model.nn.summary() and "binaries: 2" in model.nn.summary()
    model.obj = pyo.Objective(expr=model.nn.outputs[0], sense=pyo.minimize)
    result = pnn.solve(model, time_limit=30)
    assert result.objective == pytest.approx(2.0 - 2.0)  # max(window 0) >= 2, max(window 1) <= 2
    assert result.verified


def test_warm_start_is_feasible_and_sets_the_max_pool_binaries():
    net = random_cnn(2)
    x = np.random.default_rng(2).uniform(0, 1, net.input_size)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.LinfBall(x, 0.3, 0, 1), method="symbolic"))
    model.nn.warm_start(x)
    assert all(v.value is not None for v in model.component_data_objects(pyo.Var))
    for constraint in model.component_data_objects(pyo.Constraint):
        body = pyo.value(constraint.body)
        assert constraint.lower is None or body >= pyo.value(constraint.lower) - 1e-9, constraint.name
        assert constraint.upper is None or body <= pyo.value(constraint.upper) + 1e-9, constraint.name
    pool = model.nn.layers["maxpool_0"]
    chosen = {}
    for (k, _), var in pool.d.items():
        chosen[k] = chosen.get(k, 0) + var.value
    assert set(chosen.values()) <= {1.0}


def test_conv_constraints_hold_only_the_non_zero_terms():
    net = pnn.load_onnx(DATA / "torch_cnn_legacy.onnx")
    bounds = pnn.compute_bounds(net, pnn.Box(0, 1))
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    relu = model.nn.layers["relu_1"]
    conv = net.layers[3]
    for name in ("linear", "pre_activation"):
        for j, constraint in getattr(relu, name).items():
            terms = generate_standard_repn(constraint.body).linear_vars
            expected = np.diff(conv.matrix.indptr)[j] + (2 if name == "pre_activation" else 1)
            assert len(terms) == expected


@pytest.mark.slow
def test_component_names_are_deterministic_for_cnns():
    def names() -> list[str]:
        model = pyo.ConcreteModel()
        net = random_cnn(3)
        model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(0, 1)))
        return sorted(c.name for c in model.component_objects(descend_into=True))

    first = names()
    assert first == names()
    for name in (
        "nn.layers[maxpool_0].y",
        "nn.layers[relu_1].h",
        "nn.conv_2_values.y",
        "nn.avgpool_0_values.affine",
    ):
        assert name in first


def test_pre_activation_of_a_relu_after_a_conv():
    net = pnn.load_onnx(DATA / "torch_cnn_legacy.onnx")
    x = np.random.default_rng(4).uniform(0, 1, net.input_size)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.LinfBall(x, 0.05, 0, 1), method="symbolic"))
    model.nn.warm_start(x)
    pre = net.activations(x)["conv_1"][0]
    values = [pyo.value(model.nn.pre_activation("relu_1", j)) for j in range(pre.size)]
    assert np.allclose(values, pre, atol=1e-9)


def test_residual_model_end_to_end():
    """Worst logit gap in a ball around an image of the residual model, re-checked by onnxruntime,
    and never beaten by sampling."""
    net = pnn.load_onnx(DATA / "torch_residual_dynamo.onnx")
    rng = np.random.default_rng(5)
    x0 = rng.uniform(0, 1, net.input_size)
    domain = pnn.LinfBall(x0, eps=0.005, lower=0, upper=1)
    bounds = pnn.compute_bounds(net, domain, method="symbolic")
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    model.obj = pyo.Objective(expr=model.nn.outputs[1] - model.nn.outputs[0], sense=pyo.maximize)
    result = pnn.solve(model, time_limit=120)
    assert result.status == "optimal" and result.verified
    check = result.blocks["nn"]
    assert check.reference == "onnxruntime"
    assert np.max(np.abs(check.x - x0)) <= 0.005 + 1e-9
    samples = rng.uniform(bounds.input_lower, bounds.input_upper, size=(3000, net.input_size))
    sampled = net.forward(samples)
    assert result.objective >= np.max(sampled[:, 1] - sampled[:, 0]) - 1e-6


def test_an_objective_plug_in_runs_on_a_cnn():
    net = pnn.load_onnx(DATA / "torch_cnn_dynamo.onnx")
    x0 = np.random.default_rng(6).uniform(0, 1, net.input_size)
    result = pnn.Verification(net, pnn.LinfBall(x0, 0.02, 0, 1)).solve(obj.Verify(x0), time_limit=60)
    assert result.has_solution and result.verified


def test_lp_bounds_model_solves_the_same():
    net = random_cnn(6)
    x0 = np.random.default_rng(6).uniform(0, 1, net.input_size)
    domain = pnn.LinfBall(x0, 0.005, 0, 1)
    objectives = []
    for method in ("symbolic", "lp"):
        model = pyo.ConcreteModel()
        model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, domain, method=method))
        model.obj = pyo.Objective(expr=model.nn.outputs[2] - model.nn.outputs[0], sense=pyo.maximize)
        result = pnn.solve(model, time_limit=60, mip_gap=0.0)  # optima compared to 1e-6
        assert result.status == "optimal" and result.verified
        objectives.append(result.objective)
    assert objectives[0] == pytest.approx(objectives[1], abs=1e-6)


def test_a_network_ending_in_relu_max_pool_copies_to_outputs():
    layers = (
        Conv2d("conv", INPUT, np.array([[[[1.0]]], [[[-1.0]]]]), np.zeros(2), (1, 2, 2)),
        ReLU("relu", "conv"),
        MaxPool2d("pool", "relu", (2, 2, 2), (2, 2)),
    )
    net = Network(layers, (1, 2, 2))
    x = np.array([0.3, -0.7, 0.1, 0.2])
    outputs, result = _fixed_input_outputs(net, pnn.compute_bounds(net, pnn.Box(-1, 1)), x)
    assert result.verified and np.allclose(outputs, [0.3, 0.7])
