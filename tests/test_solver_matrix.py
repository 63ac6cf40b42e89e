"""The solver promise: every installed Pyomo MILP solver, open or commercial (with its free
size-limited licence), reaches HiGHS' optimum on one digits adversarial problem, with the
Big-M and (where the solver takes SOS constraints) the SOS1 formulation."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_test_set, load_digits_network

#: MILP solvers of the matrix: (Pyomo name, whether it takes SOS1 constraints).
MILP_SOLVERS = [
    ("highs", False),
    ("cbc", True),
    ("glpk", False),
    ("scip_direct", True),
    ("gurobi_direct", False),
    ("gurobi", True),
    ("cplex_direct", True),
    ("xpress", True),
]


def _model(formulation: str) -> tuple[pyo.ConcreteModel, pnn.Network]:
    net = load_digits_network()
    images, labels = digits_test_set()
    x0, true_class = images[2], int(labels[2])
    logits = net.forward(x0)
    logits[true_class] = -np.inf
    runner_up = int(np.argmax(logits))
    bounds = pnn.compute_bounds(net, pnn.LinfBall(x0, 0.03, 0, 1))
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds, formulation=formulation)
    margin = model.nn.outputs[runner_up] - model.nn.outputs[true_class]
    model.obj = pyo.Objective(expr=margin, sense=pyo.maximize)
    return model, net


@pytest.fixture(scope="module")
def reference() -> float:
    model, _ = _model("bigm")
    return pnn.solve(model, "highs", time_limit=60, mip_gap=1e-9).objective


@pytest.mark.parametrize(("solver", "takes_sos"), MILP_SOLVERS)
@pytest.mark.parametrize("formulation", ["bigm", "sos1"])
def test_every_installed_milp_solver_reaches_the_same_optimum(solver, takes_sos, formulation, reference):
    if solver not in pnn.available_solvers():
        pytest.skip(f"{solver} is not installed here (scripts/test.sh installs what it can)")
    model, _ = _model(formulation)
    if formulation == "sos1" and not takes_sos:
        with pytest.raises(pnn.errors.SolverCapabilityError, match="sos1"):
            pnn.solve(model, solver, time_limit=60)
        return
    result = pnn.solve(model, solver, time_limit=60, mip_gap=1e-9)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(reference, abs=1e-5)
    assert result.verified
