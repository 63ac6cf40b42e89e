"""Issue 14, item 3: the ideal ReLU inequalities separated over the LP relaxation (add_ideal_cuts).

Valid inequalities: none may cut off an input of the domain (checked on sampled inputs, every
variable of the block at its value there, binaries at the neurons' states), the LP bound only
falls, and the MILP with them reaches the same optimum (under a node limit, not a time).
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from margin_support import holds_at, make_setting, margin_model, sampled_inputs

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_test_set, load_digits_network
from pyomo_nn.errors import InvalidArgumentError
from pyomo_nn.solvers import add_ideal_cuts

setting = pytest.fixture(scope="module", name="setting")(make_setting)


def test_ideal_cuts_are_valid_tighten_the_lp_and_keep_the_optimum(setting):
    optimum = pnn.solve(margin_model(setting)).objective
    m = margin_model(setting)
    report = add_ideal_cuts(m, rounds=3)
    assert report.neurons > 0 and report.total_cuts > 0
    assert all(b >= a - 1e-7 for a, b in zip(report.lp_bounds[1:], report.lp_bounds[:-1], strict=False))
    assert report.lp_bounds[-1] < report.lp_bounds[0] - 1e-6  # the cuts move the LP bound
    assert report.lp_bounds[-1] >= optimum - 1e-7
    cuts = list(m.nn.ideal_cuts.values())
    assert len(cuts) == report.total_cuts
    for x in sampled_inputs(setting):
        m.nn.warm_start(x)
        assert all(holds_at(cut) for cut in cuts)
    result = pnn.solve(m, options={"mip_max_nodes": 1000})
    assert result.status == "optimal"
    assert result.objective == pytest.approx(optimum, abs=1e-6)
    assert "ideal cuts" in str(report)


def test_ideal_cuts_refuse_bad_rounds(setting):
    with pytest.raises(InvalidArgumentError):
        add_ideal_cuts(margin_model(setting), rounds=0)


def test_cut_loop_survives_the_degenerate_lp_of_an_objective_bound():
    """With the objective's bound as a row, HiGHS' dual simplex cycled from the previous basis
    on this instance; the loop then re-solves from scratch and goes on."""
    from pyomo_nn.blocks import bound_objective

    net = load_digits_network("64-50-50-50-10")
    images, _ = digits_test_set()
    domain = pnn.LinfBall(images[0], eps=0.05, lower=0.0, upper=1.0)
    m = pyo.ConcreteModel()
    m.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, domain, method="symbolic"))
    m.obj = pyo.Objective(expr=m.nn.outputs[3] - m.nn.outputs[2], sense=pyo.maximize)
    bound_objective(m, method="alpha")
    report = add_ideal_cuts(m, rounds=3, time_limit=60)
    assert not report.stopped and report.total_cuts > 0
    assert report.lp_bounds[-1] < report.lp_bounds[0] - 1e-3


@pytest.mark.parametrize("formulation", ["partition", "sos1"])
def test_ideal_cuts_on_other_formulations(setting, formulation):
    """Partition's ReLUs have the same h and binary z: cut, validly; SOS1 has no binary: skipped."""
    net, _, bounds = setting
    m = pyo.ConcreteModel()
    m.nn = pnn.NetworkBlock(net, bounds, formulation=formulation)
    m.obj = pyo.Objective(expr=m.nn.outputs[3] - m.nn.outputs[2], sense=pyo.maximize)
    report = add_ideal_cuts(m, rounds=2)
    if formulation == "sos1":
        assert report.neurons == 0 and m.nn.component("ideal_cuts") is None
        return
    assert report.neurons > 0
    for x in sampled_inputs(setting, 50):
        m.nn.warm_start(x)
        assert all(holds_at(cut) for cut in m.nn.ideal_cuts.values())
