"""The formulations of the piecewise layers: each reaches Big-M's optimum on a
bundled digits adversarial problem with a solver it suits, says what it added, and is refused
before the solve by a solver that cannot take it."""

from __future__ import annotations

import pickle

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from pyomo_nn.blocks.encoding import ENCODINGS
from pyomo_nn.bundled import digits_test_set, load_digits_network
from pyomo_nn.errors import InvalidArgumentError, SolverCapabilityError
from pyomo_nn.solvers.checked_solve import LOCAL_OPTIMUM

#: Optima of one problem under two formulations (or solvers) agree to this (solver tolerances).
OPTIMUM_ATOL = 1e-5

#: The adversarial problem: image 0 of the bundled test set, this L-inf radius.
EPS = 0.05


def _have(solver: str) -> bool:
    return solver in pnn.available_solvers()


def _ipopt_usable() -> bool:
    """Ipopt through cyipopt (pyomo-nn's own adapter, solvers/ipopt_adapter.py)."""
    return "cyipopt" in pnn.available_solvers()


@pytest.fixture(scope="module")
def problem():
    net = load_digits_network("64-32-32-10")
    images, _ = digits_test_set()
    x0 = images[0]
    label = int(np.argmax(net.forward(x0)))
    target = (label + 3) % 10
    domain = pnn.LinfBall(x0, eps=EPS, lower=0.0, upper=1.0)
    return net, pnn.compute_bounds(net, domain, method="symbolic"), label, target


def _model(problem, formulation: str, **settings) -> pyo.ConcreteModel:
    net, bounds, label, target = problem
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds, formulation=formulation, **settings)
    model.obj = pyo.Objective(expr=model.nn.outputs[target] - model.nn.outputs[label], sense=pyo.maximize)
    return model


@pytest.fixture(scope="module")
def bigm_optimum(problem):
    result = pnn.solve(_model(problem, "bigm"), solver="highs", time_limit=120)
    assert result.status == "optimal" and result.verified
    return result.objective


@pytest.mark.parametrize(
    ("formulation", "solver", "settings"),
    [
        ("partition", "highs", {"partitions": 2}),
        ("partition", "highs", {"partitions": 4}),
        ("partition", "cbc", {"partitions": 2}),
        ("bigm", "glpk", {}),
        ("partition", "glpk", {"partitions": 2}),
        ("sos1", "cbc", {}),
        ("sos1", "scip_direct", {}),
        ("complementarity", "scip_direct", {}),
    ],
)
def test_each_formulation_reaches_the_bigm_optimum(problem, bigm_optimum, formulation, solver, settings):
    if not _have(solver):
        pytest.skip(f"{solver} is not installed")
    model = _model(problem, formulation, **settings)
    result = pnn.solve(model, solver=solver, time_limit=300)
    assert result.status == "optimal", result
    assert result.verified, result
    assert result.objective == pytest.approx(bigm_optimum, abs=OPTIMUM_ATOL)


@pytest.mark.skipif(
    not _ipopt_usable(), reason="Ipopt needs cyipopt (scripts/test.sh installs it where it can)"
)
def test_complementarity_on_ipopt_is_a_local_optimum_without_a_bound(problem, bigm_optimum):
    model = _model(problem, "complementarity")
    result = pnn.solve(model, solver="cyipopt", time_limit=120)
    assert LOCAL_OPTIMUM in result.message
    assert result.dual_bound is None
    assert result.verified, result
    # a local optimum in general; on this problem Ipopt (from the block's warm start) finds Big-M's
    assert result.objective == pytest.approx(bigm_optimum, abs=OPTIMUM_ATOL)


def test_stats_of_each_encoding(problem):
    stats = {}
    for formulation, settings in (
        ("bigm", {}),
        ("sos1", {}),
        ("complementarity", {}),
        ("partition", {"partitions": 2}),
        ("partition", {"partitions": 4}),
    ):
        block = _model(problem, formulation, **settings).nn
        relu = [s for s in block.stats if s.kind == "relu"]
        stats[formulation, settings.get("partitions")] = (
            sum(s.split for s in relu),
            sum(s.binaries for s in relu),
            sum(s.variables for s in relu),
            sum(s.constraints for s in relu),
            block.requirements(),
        )
    split, binaries, variables, constraints, needs = stats["bigm", None]
    assert split > 0 and binaries == split and needs == {"binaries"}
    assert stats["sos1", None][1] == 0 and stats["sos1", None][4] == {"sos1"}
    assert stats["complementarity", None][1] == 0 and stats["complementarity", None][4] == {"nonlinear"}
    # sos1 and complementarity: h and hbar, no z; one pair row per split neuron
    assert stats["sos1", None][2] == variables - split
    for parts in (2, 4):
        _, part_binaries, part_variables, part_constraints, part_needs = stats["partition", parts]
        assert part_binaries == binaries and part_needs == {"binaries"}
        assert part_variables > variables and part_constraints > constraints
    assert stats["partition", 4][2] > stats["partition", 2][2]


def _lp_bound(model: pyo.ConcreteModel) -> float:
    relaxed = model.clone()
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(relaxed)
    return pnn.solve(relaxed, solver="highs", time_limit=60).objective


def test_partition_relaxation_is_between_bigm_and_the_optimum(problem, bigm_optimum):
    """The point of the partition formulation: a tighter LP relaxation than Big-M's."""
    bigm = _lp_bound(_model(problem, "bigm"))
    two = _lp_bound(_model(problem, "partition", partitions=2))
    many = _lp_bound(_model(problem, "partition", partitions=64))
    assert bigm + OPTIMUM_ATOL >= two >= many - OPTIMUM_ATOL >= bigm_optimum - 2 * OPTIMUM_ATOL
    assert many < bigm - OPTIMUM_ATOL


@pytest.mark.parametrize(
    ("formulation", "solver"),
    [
        ("sos1", "highs"),
        ("sos1", "glpk"),
        ("complementarity", "highs"),
        ("complementarity", "cbc"),
        ("bigm", "cyipopt"),
        ("sos1", "ipopt"),
    ],
)
def test_a_solver_that_cannot_take_the_formulation_is_refused_before_the_solve(problem, formulation, solver):
    model = _model(problem, formulation)
    with pytest.raises(SolverCapabilityError) as error:
        pnn.solve(model, solver=solver)
    message = str(error.value)
    assert repr(formulation) in message and repr(solver) in message and "solvers that take them" in message
    assert all(var.value is None for var in model.nn.input_vars())  # refused before the warm start


def test_formulations_lists_every_encoding():
    listed = pnn.formulations()
    assert [info.name for info in listed] == list(ENCODINGS)
    assert all(info.solver_kinds and info.solvers and info.description for info in listed)


def test_partitions_is_checked(problem):
    net, bounds, _, _ = problem
    for bad in (0, -1, 2.5, True, "2"):
        with pytest.raises(InvalidArgumentError):
            pnn.NetworkBlock(net, bounds, formulation="partition", partitions=bad)
    with pytest.raises(InvalidArgumentError, match="partitions"):
        pnn.NetworkBlock(net, bounds, formulation="bigm", partitions=2)
    assert pnn.NetworkBlock(net, bounds, formulation="partition").partitions == 2


@pytest.mark.parametrize("formulation", ["sos1", "partition", "complementarity"])
def test_models_pickle_and_clone(problem, formulation):
    model = _model(problem, formulation)
    for copy in (pickle.loads(pickle.dumps(model)), model.clone()):
        assert copy.nn.formulation == formulation
        assert len(list(copy.component_data_objects(pyo.Var))) == len(
            list(model.component_data_objects(pyo.Var))
        )


def test_activation_state_needs_a_binary(problem):
    block = _model(problem, "sos1").nn
    relu = next(s for s in block.stats if s.kind == "relu" and s.split)
    lower, upper = block.pre_activation_bounds(relu.name)
    j = int(np.flatnonzero((lower < 0) & (upper > 0))[0])
    with pytest.raises(InvalidArgumentError, match="binary"):
        block.activation_state(relu.name, j)
    partition = _model(problem, "partition").nn
    assert isinstance(
        partition.activation_state(relu.name, j), pyo.Var | type(partition.layers[relu.name].z[j])
    )


@pytest.mark.skipif(
    not _ipopt_usable(), reason="Ipopt needs cyipopt (scripts/test.sh installs it where it can)"
)
def test_ipopt_takes_no_mip_gap(problem):
    from pyomo_nn.errors import SolverConfigError

    with pytest.raises(SolverConfigError, match="mip_gap"):
        pnn.solve(_model(problem, "complementarity"), solver="cyipopt", mip_gap=0.01)
