"""solve(): any Pyomo solver, time limits with partial results, config files, re-checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from conftest import random_mlp
from pyomo_nn.bundled import digits_test_set

ROOT = Path(__file__).resolve().parents[1]


def _adversarial_model(net: pnn.Network, image: int, eps: float) -> tuple[pyo.ConcreteModel, int]:
    images, labels = digits_test_set()
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.LinfBall(images[image], eps, 0, 1)))
    true_class = int(labels[image])
    wrong = (true_class + 1) % 10
    model.obj = pyo.Objective(expr=model.nn.outputs[wrong] - model.nn.outputs[true_class], sense=pyo.maximize)
    return model, true_class


def test_adversarial_on_bundled_net_is_verified_by_onnxruntime(digits_net):
    model, true_class = _adversarial_model(digits_net, image=5, eps=0.05)
    result = pnn.solve(model, "highs", time_limit=60)
    assert result.status == "optimal"
    assert result.gap is not None and result.gap <= 1e-4
    check = result.blocks["nn"]
    assert check.reference == "onnxruntime"
    assert check.matches, f"max |MILP - onnxruntime| = {check.max_abs_diff:.2e}"
    wrong = (true_class + 1) % 10
    margin = check.reference_outputs[wrong] - check.reference_outputs[true_class]
    assert margin == pytest.approx(result.objective, abs=1e-3)
    images, _ = digits_test_set()
    assert np.max(np.abs(result.x - images[5])) <= 0.05 + 1e-7
    samples = np.clip(images[5] + np.random.default_rng(0).uniform(-0.05, 0.05, size=(3000, 64)), 0, 1)
    logits = digits_net.forward(samples)
    assert result.objective >= np.max(logits[:, wrong] - logits[:, true_class]) - 1e-6


@pytest.mark.parametrize("solver", ["cbc", "glpk"])
def test_second_solver_finds_the_same_optimum(digits_net, solver):
    if solver not in pnn.available_solvers():
        pytest.skip(f"{solver} is not installed (scripts/test.sh installs it with apt-get on Debian)")
    model, _ = _adversarial_model(digits_net, image=2, eps=0.03)
    reference = pnn.solve(model, "highs", time_limit=60)
    other = pnn.solve(model, solver, time_limit=60)
    assert other.status == reference.status == "optimal"
    assert other.objective == pytest.approx(reference.objective, abs=1e-5)
    assert other.verified


def test_highs_dual_bound_is_not_cut_by_presolve(digits_net):
    """Regression: with HiGHS' default tolerances its presolve reported 1.15946941 as optimal
    here, below the 1.15947613 a forward pass confirms (see HIGHS_FEASIBILITY_TOLERANCE)."""
    images, _ = digits_test_set()
    logits = digits_net.forward(images[0])
    best, runner_up = int(np.argmax(logits)), int(np.argsort(logits)[-2])
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(
        digits_net, pnn.compute_bounds(digits_net, pnn.LinfBall(images[0], 0.05, 0, 1))
    )
    model.obj = pyo.Objective(expr=model.nn.outputs[runner_up] - model.nn.outputs[best], sense=pyo.maximize)
    reference = pnn.solve(model, "highs", time_limit=60, mip_gap=1e-6, options={"presolve": "off"})
    default = pnn.solve(model, "highs", time_limit=60, mip_gap=1e-6)
    reachable = digits_net.forward(reference.x)
    assert default.dual_bound >= reachable[runner_up] - reachable[best] - 1e-9


def test_appsi_highs_alias(digits_net):
    model, _ = _adversarial_model(digits_net, image=2, eps=0.03)
    assert pnn.solve(model, "appsi_highs", time_limit=60).status == "optimal"


def _hard_model() -> pyo.ConcreteModel:
    """180 split neurons over a wide box: far beyond a one-second solve."""
    net = random_mlp([40, 60, 60, 60, 5], seed=11, bias_scale=0.05)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(0, 1)))
    model.obj = pyo.Objective(expr=model.nn.outputs[0] - model.nn.outputs[1], sense=pyo.maximize)
    return model


def test_a_stopped_solve_returns_incumbent_and_dual_bound():
    """A node limit stops the solve deterministically (a time limit would depend on the
    machine's speed); time and node limits leave the same partial result."""
    net = random_mlp([10, 30, 30, 3], seed=11, bias_scale=0.05)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(0, 1)))
    model.obj = pyo.Objective(expr=model.nn.outputs[0] - model.nn.outputs[1], sense=pyo.maximize)
    result = pnn.solve(model, "highs", time_limit=600, options={"mip_max_nodes": 2})
    assert result.status == "other_limit"
    assert result.has_solution, "the warm start must leave HiGHS an incumbent"
    assert result.dual_bound is not None and result.dual_bound >= result.objective - 1e-6
    assert result.gap is not None and result.gap > 0
    assert result.verified
    assert "other_limit" in str(result)


def test_time_limit_is_reported_as_such():
    result = pnn.solve(_hard_model(), "highs", time_limit=0.5)
    assert result.status in ("time_limit", "optimal")
    if result.status == "time_limit":
        assert result.has_solution and result.dual_bound is not None


def test_classic_solver_at_time_limit_never_reports_an_impossible_bound():
    if "cbc" not in pnn.available_solvers():
        pytest.skip("cbc is not installed (scripts/test.sh installs it with apt-get on Debian)")
    result = pnn.solve(_hard_model(), "cbc", time_limit=1.0)
    assert result.status in ("time_limit", "optimal")
    if result.has_solution and result.dual_bound is not None:
        assert result.dual_bound >= result.objective - 1e-6


def test_warm_start_is_a_feasible_point():
    model = _hard_model()
    model.nn.warm_start()
    for constraint in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(constraint.body)
        assert constraint.lower is None or body >= pyo.value(constraint.lower) - 1e-9, constraint.name
        assert constraint.upper is None or body <= pyo.value(constraint.upper) + 1e-9, constraint.name
    for var in model.component_data_objects(pyo.Var):
        assert var.value is not None, var.name


def test_solver_config_file(tmp_path, digits_net):
    path = tmp_path / "solver.toml"
    path.write_text(
        '[solver]\nname = "highs"\ntime_limit = 30\nmip_gap = 1e-6\n[solver.options]\npresolve = "on"\n'
    )
    config = pnn.SolverConfig.from_file(path)
    assert config == pnn.SolverConfig("highs", 30, 1e-6, None, {"presolve": "on"})
    model, _ = _adversarial_model(digits_net, image=2, eps=0.03)
    assert pnn.solve(model, config).status == "optimal"


def test_network_built_in_code_is_rechecked_with_numpy():
    net = random_mlp([3, 5, 2], seed=2)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(-1, 1)))
    model.obj = pyo.Objective(expr=model.nn.outputs[1], sense=pyo.maximize)
    result = pnn.solve(model, time_limit=10)
    assert result.blocks["nn"].reference == "numpy"
    assert result.verified


def test_main_example_runs():
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "adversarial_digits.py"), "--time-limit", "60"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "status      optimal" in completed.stdout
    assert "(match)" in completed.stdout
