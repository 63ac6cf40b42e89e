"""The objective cut-off: neurons decided over the inputs at least as good as an incumbent
(bounds/cutoff.py), fixed for one solve by pnn.solve (solvers/objective_cutoff.py)."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from conftest import digits_margin_model, random_mlp
from pyomo_nn.bounds.cutoff import decide_neurons
from pyomo_nn.ir import INPUT


def _margin_model(sense=pyo.maximize, eps: float = 0.2):
    return digits_margin_model("maximize" if sense == pyo.maximize else "minimize", eps)


def _binaries(m):
    return [v for v in m.component_data_objects(pyo.Var) if v.is_binary()]


def _near_the_best(net, lower, upper, value, seed):
    """20,000 uniform samples of the box and 20,000 around the best of them; their values."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(lower, upper, (20_000, lower.size))
    best = points[int(np.argmax(value(points)))]
    near = np.clip(best + rng.uniform(-0.05, 0.05, (20_000, lower.size)), lower, upper)
    points = np.vstack([points, near])
    return points, value(points)


def _assert_phases_hold(net, decided, points):
    activations = net.activations(points)
    relu_input = {layer.name: layer.inputs[0] for layer in net.layers if type(layer).__name__ == "ReLU"}
    for layer, neurons in decided.dead.items():
        assert np.all(activations[relu_input[layer]][:, neurons] <= 1e-9)
    for layer, neurons in decided.active.items():
        assert np.all(activations[relu_input[layer]][:, neurons] >= -1e-9)


@pytest.mark.parametrize(("sizes", "seed"), [([3, 20, 20, 1], 0), ([3, 20, 20, 1], 1), ([4, 16, 16, 2], 2)])
def test_decided_phases_hold_at_every_sampled_input_that_beats_the_threshold(sizes, seed):
    net = random_mlp(sizes, seed=seed)
    lower, upper = np.zeros(sizes[0]), np.ones(sizes[0])
    bounds = pnn.compute_bounds(net, pnn.Box(lower, upper), method="interval")
    c = np.linspace(1.0, -1.0, sizes[-1])
    points, values = _near_the_best(net, lower, upper, lambda x: net.forward(x) @ c, seed)
    threshold = float(np.quantile(values, 0.99))
    incumbent = points[int(np.argmax(values))]
    zeros = np.zeros(sizes[0])
    # with the incumbent, and without one (nothing refuted in advance): both decisions hold
    for start in (incumbent, None):
        decided = decide_neurons(
            net,
            bounds.tensor_boxes(net),
            output_coefs=c,
            input_coefs=zeros,
            threshold=threshold,
            incumbent=start,
            seconds=30.0,
        )
        assert decided.decided > 0 and decided.lps > 0
        _assert_phases_hold(net, decided, points[values >= threshold])


def test_input_coefficients_and_a_box_that_is_not_the_bounds_box_are_honoured():
    net = random_mlp([3, 20, 20, 2], seed=5)
    bounds = pnn.compute_bounds(net, pnn.Box(-np.ones(3), np.ones(3)), method="interval")
    boxes = bounds.tensor_boxes(net)
    lower, upper = np.zeros(3), np.ones(3)
    boxes[INPUT] = (lower, upper)  # the region is the inner box
    c, cx = np.array([1.0, -0.5]), np.array([0.3, -0.2, 0.1])
    points, values = _near_the_best(net, lower, upper, lambda x: net.forward(x) @ c + x @ cx, 5)
    threshold = float(np.quantile(values, 0.99))
    incumbent = points[int(np.argmax(values))]
    decided = decide_neurons(
        net, boxes, output_coefs=c, input_coefs=cx, threshold=threshold, incumbent=incumbent, seconds=30.0
    )
    assert decided.lps > 0
    _assert_phases_hold(net, decided, points[values >= threshold])


@pytest.mark.parametrize("sense", [pyo.maximize, pyo.minimize])
def test_solve_with_the_cutoff_proves_the_same_optimum_and_leaves_the_model_as_it_was(sense):
    m, net, rival, label = _margin_model(sense)
    result = pnn.solve(m, mip_gap=0.0)
    assert result.cutoff.startswith("objective cut-off:") and "cut-off" in str(result)
    decided = int(result.cutoff.split(": ")[1].split(" of ")[0])
    assert decided > 0
    assert not any(v.fixed for v in _binaries(m))  # released after the solve
    plain, *_ = _margin_model(sense)
    reference = pnn.solve(plain, mip_gap=0.0, objective_cutoff=False)
    assert reference.cutoff == ""
    assert result.status == reference.status == "optimal" and result.verified
    assert result.objective == pytest.approx(reference.objective, abs=1e-6)
    assert result.dual_bound == pytest.approx(reference.dual_bound, abs=1e-6)
    y = net.forward(result.x)
    assert float(y[rival] - y[label]) == pytest.approx(result.objective, abs=1e-5)


def test_cutoff_stays_out_where_it_could_change_the_answer_or_would_not_pay():
    # a constraint of the user's that the search's point violates (its margin is 10.2)
    m, _, rival, label = _margin_model()
    m.cap = pyo.Constraint(expr=m.nn.outputs[rival] - m.nn.outputs[label] <= 5.0)
    assert pnn.solve(m).cutoff == ""
    # two network blocks in the objective
    m, net, rival, label = _margin_model()
    m.other = pnn.NetworkBlock(net, m.nn.bounds, inputs=m.nn.input_vars())
    m.obj.deactivate()
    m.diff = pyo.Objective(expr=m.nn.outputs[rival] - m.other.outputs[label], sense=pyo.maximize)
    assert pnn.solve(m).cutoff == ""
    # no split neuron at all
    m, *_ = _margin_model(eps=0.001)
    assert pnn.solve(m).cutoff == ""
    # no search start, no cut-off
    m, *_ = _margin_model()
    assert pnn.solve(m, search_start=False).cutoff == ""


def test_a_constant_and_input_terms_in_the_objective_keep_the_optimum():
    m, *_ = _margin_model()
    m.obj.expr = m.obj.expr + 3.0 - 0.5 * m.nn.inputs[10] + 0.25 * m.nn.inputs[20]
    result = pnn.solve(m, mip_gap=0.0)
    assert result.cutoff.startswith("objective cut-off:")
    plain, *_ = _margin_model()
    plain.obj.expr = plain.obj.expr + 3.0 - 0.5 * plain.nn.inputs[10] + 0.25 * plain.nn.inputs[20]
    reference = pnn.solve(plain, mip_gap=0.0, objective_cutoff=False)
    assert result.objective == pytest.approx(reference.objective, abs=1e-6)
    assert result.dual_bound == pytest.approx(reference.dual_bound, abs=1e-6)


def test_bounds_set_on_the_block_variables_are_the_question_asked():
    # the unconstrained optimum (10.2) is out of reach once the user bounds the variables
    # themselves: an input's upper bound narrows the search, an output's bound refuses its point
    for restrict in ("input", "output"):
        models = []
        for _ in range(2):
            m, _, rival, _ = _margin_model()
            if restrict == "input":
                for i in range(0, 64, 2):
                    m.nn.inputs[i].setub(max(m.nn.inputs[i].lb, 0.3))
            else:
                m.nn.outputs[rival].setub(0.0)
            models.append(m)
        result = pnn.solve(models[0], mip_gap=0.0)
        reference = pnn.solve(models[1], mip_gap=0.0, objective_cutoff=False, search_start=False)
        assert result.status == reference.status == "optimal"
        assert result.objective == pytest.approx(reference.objective, abs=1e-6), restrict
        assert result.dual_bound == pytest.approx(reference.dual_bound, abs=1e-6), restrict
        if restrict == "output":
            assert result.start == "" and result.cutoff == ""


@pytest.mark.parametrize("solver", ["cbc", "glpk"])
def test_other_solvers_get_the_fixed_binaries_and_the_same_optimum(solver):
    if solver not in pnn.available_solvers():
        pytest.skip(f"{solver} is not installed")
    m, *_ = _margin_model()
    result = pnn.solve(m, solver=solver, time_limit=120)
    # GLPK solves these models faster than the cut-off's LPs cost (CUTOFF_SKIPPED_SOLVERS)
    assert result.cutoff.startswith("objective cut-off:") == (solver != "glpk")
    assert not any(v.fixed for v in _binaries(m))
    plain, *_ = _margin_model()
    reference = pnn.solve(plain, mip_gap=0.0, objective_cutoff=False)
    assert result.status == "optimal" and result.verified
    assert result.objective == pytest.approx(reference.objective, abs=1e-5)


def _restricted(case: str):
    """The eps-0.2 margin model with one restriction the search's point may violate (a review
    found each of them giving a wrong optimum or a false 'infeasible' before the start was
    checked against the whole model)."""
    m, net, rival, _ = _margin_model()
    if case == "hidden row":
        m.cap = pyo.Constraint(expr=m.nn.layers["relu_1"].h[3] <= 0)
    elif case == "other block":
        m.other = pnn.NetworkBlock(net, m.nn.bounds, inputs=m.nn.input_vars())
        m.cap = pyo.Constraint(expr=m.other.outputs[rival] <= -2)
    elif case == "row inside the block":
        m.nn.user_cap = pyo.Constraint(expr=m.nn.outputs[rival] <= -2)
    elif case == "fixed inner variable":
        m.nn.layers["relu_1"].h[3].fix(0)
    elif case == "deactivated row":
        next(iter(m.nn.component_data_objects(pyo.Constraint, active=True))).deactivate()
    return m


@pytest.mark.parametrize(
    "case", ["hidden row", "other block", "row inside the block", "fixed inner variable", "deactivated row"]
)
def test_a_start_that_breaks_any_part_of_the_model_keeps_the_cutoff_out(case):
    result = pnn.solve(_restricted(case), mip_gap=0.0)
    reference = pnn.solve(_restricted(case), mip_gap=0.0, objective_cutoff=False)
    assert result.status == reference.status
    assert result.objective == pytest.approx(reference.objective, abs=1e-6)
    assert result.dual_bound == pytest.approx(reference.dual_bound, abs=1e-6)


def test_a_start_that_satisfies_a_users_constraint_keeps_the_cutoff():
    m, _, rival, _ = _margin_model()
    m.cap = pyo.Constraint(expr=m.nn.outputs[rival] <= 100.0)
    result = pnn.solve(m, mip_gap=0.0)
    assert result.cutoff.startswith("objective cut-off:")
