"""pnn.solve's MIP start from a gradient search on the objective (solvers/gradient_start.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from conftest import digits_margin_model, random_mlp
from pyomo_nn import objectives
from pyomo_nn.solvers.gradient_start import search_start


def _margin_model(sense=pyo.maximize, eps: float = 0.1):
    return digits_margin_model("maximize" if sense == pyo.maximize else "minimize", eps)


def _objective_at(net, x, rival, label) -> float:
    y = net.forward(x)
    return float(y[rival] - y[label])


@pytest.mark.parametrize("sense", [pyo.maximize, pyo.minimize])
def test_start_is_an_incumbent_no_worse_than_the_centre_and_the_optimum_is_unchanged(sense):
    m, net, rival, label = _margin_model(sense)
    result = pnn.solve(m, mip_gap=0.0)
    assert result.status == "optimal" and result.verified
    assert result.start.startswith("gradient search")
    searched = float(result.start.split("objective ")[1].split(" ")[0])
    centre = float(result.start.split("box centre ")[1].split(")")[0])
    sign = 1.0 if sense == pyo.maximize else -1.0
    assert sign * searched >= sign * centre
    # HiGHS accepted the start: its final incumbent is at least as good
    assert sign * result.objective >= sign * searched - 1e-5
    plain, *_ = _margin_model(sense)
    reference = pnn.solve(plain, mip_gap=0.0, search_start=False)
    assert reference.start == ""
    assert result.objective == pytest.approx(reference.objective, abs=1e-6)
    assert _objective_at(net, result.x, rival, label) == pytest.approx(result.objective, abs=1e-5)


def test_start_point_is_in_the_box_and_scores_what_it_reports():
    m, net, rival, label = _margin_model()
    found = search_start(m, [m.nn], time_limit=10).summary
    assert found is not None and found.evaluations > 1
    x = m.nn.input_values()
    lower, upper = m.nn.input_box()
    assert np.all(x >= lower) and np.all(x <= upper)
    assert _objective_at(net, x, rival, label) == pytest.approx(found.objective, abs=1e-9)
    assert found.objective >= found.centre_objective


def test_search_does_not_apply_where_its_point_could_mislead():
    # a user constraint on the outputs that the search's point violates (the centre's margin
    # is -2.3, the search reaches 4.5): the inputs are left without values
    m, *_ = _margin_model()
    m.cap = pyo.Constraint(expr=m.obj.expr <= -2.0)
    assert search_start(m, [m.nn], time_limit=10) is None
    assert all(var.value is None for var in m.nn.input_vars())
    # ... one that reads a variable of the user's own (without a value)
    m, *_ = _margin_model()
    m.w = pyo.Var(bounds=(0, 200))
    m.cap = pyo.Constraint(expr=m.nn.outputs[0] <= m.w)
    assert search_start(m, [m.nn], time_limit=10) is None
    # inputs holding values: the user's start (or a previous solution) is kept
    m, *_ = _margin_model()
    m.nn.warm_start()
    before = m.nn.input_values()
    assert search_start(m, [m.nn], time_limit=10) is None
    assert np.array_equal(m.nn.input_values(), before)
    # a variable of the user's own in the objective
    m, *_ = _margin_model()
    m.z = pyo.Var(bounds=(0, 1))
    m.obj.expr = m.obj.expr + m.z
    assert search_start(m, [m.nn], time_limit=10) is None
    # integer inputs: a point of the continuous search would not be a start
    net = random_mlp([2, 6, 1], seed=6)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(0, 3), domain=pyo.Integers)
    m.nn = pnn.NetworkBlock(net, inputs=m.x)
    m.obj = pyo.Objective(expr=m.nn.outputs[0], sense=pyo.maximize)
    assert search_start(m, [m.nn], time_limit=10) is None
    assert pnn.solve(m).status == "optimal"
    # switched off
    m, *_ = _margin_model()
    assert pnn.solve(m, search_start=False).start == ""


def test_two_networks_reading_the_same_inputs_share_one_search():
    net_a, net_b = random_mlp([3, 12, 12, 2], seed=1), random_mlp([3, 10, 2], seed=2)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(3), bounds=(-1, 1))
    m.a = pnn.NetworkBlock(net_a, inputs=m.x, domain=pnn.Box(-1, 1))
    m.b = pnn.NetworkBlock(net_b, inputs=m.x, domain=pnn.Box(-1, 1))
    m.obj = pyo.Objective(expr=m.a.outputs[0] - m.b.outputs[0] + 0.5 * m.x[2], sense=pyo.maximize)
    result = pnn.solve(m, mip_gap=0.0)
    assert result.status == "optimal" and result.verified
    assert result.start.startswith("gradient search")
    x = m.a.input_values()
    value = net_a.forward(x)[0] - net_b.forward(x)[0] + 0.5 * x[2]
    assert value == pytest.approx(result.objective, abs=1e-6)
    assert pickle.loads(pickle.dumps(result)).start == result.start


def test_threads_given_as_a_highs_option_reach_the_scheduler():
    # options={"threads": 1} after a default solve failed with "Not Set" (HiGHS' one scheduler
    # per process): the option now goes through the same scheduler switch as threads=1
    m, *_ = _margin_model(eps=0.05)
    assert pnn.solve(m).status == "optimal"
    m, *_ = _margin_model(eps=0.05)
    assert pnn.solve(m, options={"threads": 1}).status == "optimal"


# -- the search in Problem.solve (objectives with a search score) ----------------------------------
def _pair_comparison():
    net_a, net_b = random_mlp([4, 16, 16, 3], seed=3), random_mlp([4, 12, 3], seed=4)
    return pnn.Comparison(net_a, net_b, pnn.LinfBall(np.full(4, 0.5), eps=0.3, lower=0.0, upper=1.0))


def test_maxdiff_starts_from_the_search_and_keeps_its_optimum():
    result = _pair_comparison().solve(objectives.MaxDiff("logits"), mip_gap=0.0)
    assert result.status == "optimal" and result.verified
    start = result.solve_result.start
    assert start.startswith("gradient search") and "start" in result.to_dict()
    searched = float(start.split("objective ")[1].split(" ")[0])
    assert result.objective >= searched - 1e-6
    plain = _pair_comparison().solve(objectives.MaxDiff("logits"), mip_gap=0.0, search_start=False)
    assert plain.solve_result.start == ""
    assert result.objective == pytest.approx(plain.objective, abs=1e-6)


def test_no_search_when_the_user_added_constraints_or_gave_a_start():
    problem = _pair_comparison().build(objectives.MaxDiff("logits"))
    problem.model.mine = pyo.Constraint(expr=problem.x[0] <= 0.6)
    assert problem.solve().solve_result.start == ""
    given = _pair_comparison().solve(objectives.MaxDiff("logits"), start=np.full(4, 0.4))
    assert given.solve_result.start == ""
    # objectives without a search score start from the centre
    no_score = _pair_comparison().solve(objectives.MaxOut(0, 1))
    assert no_score.solve_result.start == ""


@pytest.mark.parametrize("space", ["logits", "probabilities"])
def test_search_scores_have_the_gradient_of_their_values(space):
    """Central differences on the logits against the analytic gradient (MaxDiff of two
    networks and Verify), away from the L1 kinks."""
    problem = _pair_comparison().build(objectives.MaxDiff(space))
    rng = np.random.default_rng(5)
    logits = [rng.normal(size=(3, 3)), rng.normal(size=(3, 3))]
    verify = objectives.Verify(np.full(4, 0.5), space=space)
    cases = [(objectives.MaxDiff(space), logits), (verify, logits[:1])]
    for objective, batch in cases:
        score = objective.search_score(problem, batch)
        for i, array in enumerate(batch):
            for k in range(array.shape[1]):
                step = np.zeros_like(array)
                step[:, k] = 1e-6
                up = [b + step if j == i else b for j, b in enumerate(batch)]
                down = [b - step if j == i else b for j, b in enumerate(batch)]
                numeric = (
                    objective.search_score(problem, up).values - objective.search_score(problem, down).values
                ) / 2e-6
                assert np.allclose(numeric, score.logit_gradients[i][:, k], atol=1e-5)


def test_user_constraints_that_hold_at_the_point_keep_the_search():
    m, *_ = _margin_model()
    m.cap = pyo.Constraint(expr=m.nn.outputs[0] <= 100.0)
    found = search_start(m, [m.nn], time_limit=10).summary
    assert found is not None and found.objective > found.centre_objective
    m, *_ = _margin_model()
    m.cap = pyo.Constraint(expr=m.nn.outputs[0] <= 100.0)
    result = pnn.solve(m)
    assert result.status == "optimal" and result.start.startswith("gradient search")
