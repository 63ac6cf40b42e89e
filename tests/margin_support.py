"""Shared by the tests of the model strengthenings (objective bound, ideal cuts): a digits
margin model over an L-inf ball, sampled inputs of that ball, and a constraint check."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_test_set, load_digits_network

EPS = 0.1


def make_setting():
    """(network, domain, symbolic bounds): the fixture ``setting`` of both test files."""
    net = load_digits_network("64-32-32-10")
    images, _ = digits_test_set()
    domain = pnn.LinfBall(images[0], eps=EPS, lower=0.0, upper=1.0)
    return net, domain, pnn.compute_bounds(net, domain, method="symbolic")


def margin_model(setting, sense=pyo.maximize):
    net, _, bounds = setting
    m = pyo.ConcreteModel()
    m.nn = pnn.NetworkBlock(net, bounds)
    m.obj = pyo.Objective(expr=m.nn.outputs[3] - m.nn.outputs[2] + 1.0, sense=sense)
    return m


def sampled_inputs(setting, count=200):
    net, domain, _ = setting
    lower, upper = domain.box(net.input_size)
    rng = np.random.default_rng(0)
    corners = rng.integers(0, 2, (count // 2, lower.size)).astype(float)
    uniform = rng.random((count - count // 2, lower.size))
    return lower + np.vstack([corners, uniform]) * (upper - lower)


def holds_at(constraint_data, tolerance=1e-7) -> bool:
    body = pyo.value(constraint_data.body)
    lower, upper = constraint_data.lower, constraint_data.upper
    return (lower is None or body >= pyo.value(lower) - tolerance) and (
        upper is None or body <= pyo.value(upper) + tolerance
    )
