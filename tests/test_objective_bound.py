"""Issue 14, item 2: the objective's bound by back-substitution, as a constraint (bound_objective).

A valid inequality: it may never cut off an input of the domain (checked on sampled inputs,
every variable of the block at its value there), and the MILP with it reaches the same optimum.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from margin_support import holds_at, make_setting, margin_model, sampled_inputs

import pyomo_nn as pnn
from pyomo_nn.blocks import bound_objective
from pyomo_nn.errors import InvalidArgumentError

setting = pytest.fixture(scope="module", name="setting")(make_setting)


@pytest.mark.parametrize("sense", [pyo.maximize, pyo.minimize])
def test_objective_bound_is_valid_and_keeps_the_optimum(setting, sense):
    plain = margin_model(setting, sense)
    optimum = pnn.solve(plain, mip_gap=0.0).objective  # optima compared to 1e-6
    m = margin_model(setting, sense)
    found = bound_objective(m)
    assert found is not None and m.objective_bound is found.constraint
    assert (found.bound >= optimum - 1e-9) if sense == pyo.maximize else (found.bound <= optimum + 1e-9)
    for x in sampled_inputs(setting, 50):
        m.nn.warm_start(x)
        assert holds_at(m.objective_bound)
    assert pnn.solve(m, mip_gap=0.0).objective == pytest.approx(optimum, abs=1e-6)


def test_objective_bound_skips_objectives_not_linear_in_outputs(setting):
    m = margin_model(setting)
    m.obj.deactivate()
    m.other = pyo.Objective(expr=m.nn.inputs[0] + m.nn.outputs[1], sense=pyo.maximize)
    assert bound_objective(m) is None
    assert m.component("objective_bound") is None
    with pytest.raises(InvalidArgumentError):
        bound_objective(m, method="lp")


def test_objective_over_two_networks_adds_their_bounds(setting):
    net, _, bounds = setting
    m = pyo.ConcreteModel()
    m.a = pnn.NetworkBlock(net, bounds)
    m.b = pnn.NetworkBlock(net, bounds)
    m.tie = pyo.Constraint(range(net.input_size), rule=lambda m, i: m.a.inputs[i] == m.b.inputs[i])
    m.obj = pyo.Objective(expr=m.a.outputs[3] + 2 * m.b.outputs[4], sense=pyo.maximize)
    found = bound_objective(m, method="symbolic")
    single = pyo.ConcreteModel()
    single.nn = pnn.NetworkBlock(net, bounds)
    single.obj = pyo.Objective(expr=single.nn.outputs[3], sense=pyo.maximize)
    single_bound = bound_objective(single, method="symbolic", add=False).bound
    assert found.blocks == (m.a, m.b)
    assert found.bound <= single_bound + 2 * bounds.upper[-1][4] + 1e-6  # each part bounded on its own
    assert found.bound >= pnn.solve(m).objective - 1e-9
