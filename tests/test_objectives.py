"""Every objective on tiny hand-made networks whose optimum is known in closed form."""

from __future__ import annotations

import warnings

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from conftest import random_mlp
from pyomo_nn import objectives as obj
from pyomo_nn.objectives.encoding import add_softmax
from pyomo_nn.tolerances import CLASS_MARGIN

needs_scip = pytest.mark.skipif(
    "scip_direct" not in pnn.available_solvers(),
    reason="pyscipopt is not installed (pip install 'pyomo-nn[minlp]'); the softmax MINLP needs SCIP",
)


def linear(weights: list[list[float]], bias: list[float]) -> pnn.Network:
    """A network with no hidden layer: logits = W x + b."""
    return pnn.Network.mlp([np.array(weights, dtype=float)], [np.array(bias, dtype=float)])


# -- MaxDiff ---------------------------------------------------------------------------
def test_maxdiff_logits_closed_form():
    # h = (relu(x), relu(-x)); A: y = (2 h1 - h2, h2); B: y = (h1, 0.5 - h1). On [-1, 2]
    # ||yA - yB||_1 = x + |x - 0.5| for x >= 0 and -x + |x + 0.5| for x < 0: max 3.5 at x = 2.
    hidden = np.array([[1.0], [-1.0]])
    a = pnn.Network.mlp([hidden, np.array([[2.0, -1.0], [0.0, 1.0]])], [np.zeros(2), np.zeros(2)])
    b = pnn.Network.mlp([hidden, np.array([[1.0, 0.0], [-1.0, 0.0]])], [np.zeros(2), np.array([0.0, 0.5])])
    result = pnn.Comparison(a, b, pnn.Box(-1, 2)).solve(obj.MaxDiff(), time_limit=30)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(3.5, abs=1e-6)
    assert result.x == pytest.approx([2.0])
    assert result.details["logit_l1_difference"] == pytest.approx(3.5)
    assert result.verified


def test_maxdiff_sums_over_all_pairs_of_three_networks():
    # y = (x, 0), (0, 0), (-x, 0): pair distances |x| + |2x| + |x| = 4|x|, max 8 at x = 2.
    nets = [linear([[1.0], [0.0]], [0, 0]), linear([[0.0], [0.0]], [0, 0]), linear([[-1.0], [0.0]], [0, 0])]
    result = pnn.Comparison(*nets, pnn.Box(-1, 2)).solve(obj.MaxDiff(), time_limit=30)
    assert result.objective == pytest.approx(8.0, abs=1e-6)
    assert [net.name for net in result.networks] == ["net1", "net2", "net3"]
    assert result.verified


@needs_scip
def test_maxdiff_probabilities_closed_form_with_scip():
    # two classes: ||softmax(x, 0) - (1/2, 1/2)||_1 = 2 |sigmoid(x) - 1/2| = tanh(|x| / 2),
    # largest at x = 2: tanh(1).
    a, b = linear([[1.0], [0.0]], [0, 0]), linear([[0.0], [0.0]], [0, 0])
    objective = obj.MaxDiff(space="probabilities")
    assert objective.nonlinear and objective.default_solver == "scip_direct"
    result = pnn.Comparison(a, b, pnn.Box(-1, 2)).solve(objective, time_limit=30)
    assert result.solver == "scip_direct" and result.status == "optimal"
    assert result.objective == pytest.approx(np.tanh(1.0), abs=1e-5)
    assert result.details["probability_l1_difference"] == pytest.approx(np.tanh(1.0), abs=1e-6)
    assert result.verified


def test_minlp_objective_refuses_a_milp_solver():
    a, b = linear([[1.0], [0.0]], [0, 0]), linear([[0.0], [0.0]], [0, 0])
    with pytest.raises(pnn.errors.SolverCapabilityError, match="exp"):
        pnn.Comparison(a, b, pnn.Box(-1, 2)).solve(obj.MaxDiff(space="probabilities"), "highs")


def test_maxdiff_stopped_early_returns_a_reproducible_incumbent():
    a, b = random_mlp([10, 30, 30, 3], seed=1), random_mlp([10, 30, 30, 3], seed=2)
    comparison = pnn.Comparison(a, b, pnn.Box(0, 1), bounds="interval")
    result = comparison.solve(obj.MaxDiff(), time_limit=600, options={"mip_max_nodes": 2})
    assert result.status == "other_limit"
    assert result.has_solution, "the objective's warm start must leave HiGHS an incumbent"
    assert result.dual_bound >= result.objective - 1e-6
    assert result.objective_reproduced and result.verified


# -- MaxOut ----------------------------------------------------------------------------
def test_maxout_closed_form():
    # A: y = (x, 0) must choose class 0 (x >= tol); B: y = (x - 1, 0) must choose class 1
    # (x <= 1 - tol); maximise x + 0 -> 1 - tol.
    a, b = linear([[1.0], [0.0]], [0, 0]), linear([[1.0], [0.0]], [-1, 0])
    result = pnn.Comparison(a, b, pnn.Box(-1, 2)).solve(obj.MaxOut(0, 1, tolerance=1e-3), time_limit=30)
    assert result.objective == pytest.approx(0.999, abs=1e-6)
    assert [net.predicted_class for net in result.networks] == [0, 1]
    assert result.verified


def test_maxout_infeasible_is_a_result_that_says_what_was_proved():
    a, b = linear([[1.0], [0.0]], [0, 0]), linear([[1.0], [0.0]], [0, 0])
    result = pnn.Comparison(a, b, pnn.Box(-1, 2)).solve(obj.MaxOut(0, 1), time_limit=30)
    assert result.status == "infeasible" and not result.has_solution
    assert "net1 class 0, net2 class 1" in result.meaning
    assert not result.verified


def test_maxout_settings_are_checked():
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="C1 != C2"):
        obj.MaxOut(3, 3)
    a = linear([[1.0], [0.0]], [0, 0])
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="not a class"):
        pnn.Comparison(a, a, pnn.Box(0, 1)).solve(obj.MaxOut(0, 5))
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="one class per network"):
        pnn.Comparison(a, a, a, pnn.Box(0, 1)).solve(obj.MaxOut(0, 1))


# -- MaxFlip ---------------------------------------------------------------------------
def test_maxflip_counts_only_real_flips_despite_ties():
    # Neurons 0-2 have the same pre-activation (x, x, 2x) in both networks: they never flip,
    # but at x = 0 all three are ties that a Big-M model without margin could count as flips.
    # Neuron 3 is x - 0.5 in A and 0.5 - x in B: a real flip everywhere except x = 0.5.
    first = np.array([[1.0], [1.0], [2.0], [1.0]])
    second = np.array([[1.0], [1.0], [2.0], [-1.0]])
    a = pnn.Network.mlp([first, np.ones((1, 4))], [np.array([0, 0, 0, -0.5]), np.zeros(1)])
    b = pnn.Network.mlp([second, np.ones((1, 4))], [np.array([0, 0, 0, 0.5]), np.zeros(1)])
    result = pnn.Comparison(a, b, pnn.Box(-1, 1)).solve(obj.MaxFlip(), time_limit=30)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(1.0)
    assert result.details["flips_at_x"] == 1
    assert result.verified


def test_maxflip_counts_stable_neurons_with_constant_states():
    # On [1, 2] neuron 0 is stable active in A (x) and dead in B (-x): always a flip, no binary
    # in either block; neuron 1 is split in A (x - 1.5) and stable active in B (x).
    a = pnn.Network.mlp([np.array([[1.0], [1.0]]), np.ones((1, 2))], [np.array([0.0, -1.5]), np.zeros(1)])
    b = pnn.Network.mlp([np.array([[-1.0], [1.0]]), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    result = pnn.Comparison(a, b, pnn.Box(1, 2)).solve(obj.MaxFlip(), time_limit=30)
    assert result.objective == pytest.approx(2.0)
    assert result.x[0] < 1.5 and result.details["flips_at_x"] == 2


def test_maxflip_refuses_different_architectures():
    a = random_mlp([3, 4, 2], seed=0)
    b = random_mlp([3, 5, 2], seed=0)
    with pytest.raises(pnn.errors.IncompatibleNetworksError, match="same architecture"):
        pnn.Comparison(a, b, pnn.Box(0, 1)).solve(obj.MaxFlip())


# -- MinEps ----------------------------------------------------------------------------
def test_mineps_closed_form_in_the_linf_ball():
    # N1 chooses class 0 iff x1 + x2 > 0; N2 iff x1 + x2 > 1. From x0 = (1, 1), N2 errs once
    # x1 + x2 <= 1 - m: the L-inf distance is (1 + m) / 2 (an L1 step would need 1 + m).
    n1 = linear([[1.0, 1.0], [0.0, 0.0]], [0, 0])
    n2 = linear([[1.0, 1.0], [0.0, 0.0]], [-1, 0])
    comparison = pnn.Comparison(n1, n2, pnn.LinfBall([1.0, 1.0], eps=0.9, lower=-1, upper=2))
    result = comparison.solve(obj.MinEps(true_class=0), time_limit=30)
    assert result.status == "optimal"
    assert result.objective == pytest.approx((1 + CLASS_MARGIN) / 2, abs=1e-6)
    assert result.x == pytest.approx([(1 - CLASS_MARGIN) / 2] * 2, abs=1e-6)
    assert result.details["net1_class"] == 0 and result.details["net2_class"] == 1
    assert result.verified


def test_mineps_certifies_a_ball_without_separating_input():
    n1 = linear([[1.0, 1.0], [0.0, 0.0]], [0, 0])
    n2 = linear([[1.0, 1.0], [0.0, 0.0]], [-1, 0])
    comparison = pnn.Comparison(n1, n2, pnn.LinfBall([1.0, 1.0], eps=0.3, lower=-1, upper=2))
    result = comparison.solve(obj.MinEps(), time_limit=30)
    assert result.status == "infeasible"
    assert result.meaning.startswith("proved infeasible: certified: no input within eps = 0.3")


def test_mineps_needs_an_linf_ball():
    n1 = linear([[1.0, 1.0], [0.0, 0.0]], [0, 0])
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="L-infinity ball"):
        pnn.Comparison(n1, n1, pnn.Box(0, 1)).solve(obj.MinEps())


# -- Verify ----------------------------------------------------------------------------
def test_verify_logits_closed_form():
    # h = relu(x) on [-1, 1]^2, y = (h1 - h2, 2 h2), x0 = 0: ||y||_1 = |h1 - h2| + 2 h2, max 3.
    net = pnn.Network.mlp([np.eye(2), np.array([[1.0, -1.0], [0.0, 2.0]])], [np.zeros(2), np.zeros(2)])
    result = pnn.Verification(net, pnn.Box(-1, 1)).solve(obj.Verify([0.0, 0.0]), time_limit=30)
    assert result.objective == pytest.approx(3.0, abs=1e-6)
    assert result.x[0] <= 1e-9 and result.x[1] == pytest.approx(1.0)
    assert result.verified


@needs_scip
def test_verify_probabilities_closed_form_with_scip():
    # y = (x, 0), x0 = 1: 2 |sigmoid(x) - sigmoid(1)| on [-1, 2] peaks at x = -1: 2 tanh(1/2).
    net = linear([[1.0], [0.0]], [0, 0])
    result = pnn.Verification(net, pnn.Box(-1, 2)).solve(obj.Verify([1.0], space="probabilities"))
    assert result.objective == pytest.approx(2 * np.tanh(0.5), abs=1e-5)
    assert result.x == pytest.approx([-1.0])
    assert result.verified


# -- Adversarial -----------------------------------------------------------------------
@pytest.mark.parametrize(("norm", "distance"), [("l1", 1.2), ("linf", 0.6)])
def test_adversarial_closed_form(norm, distance):
    # class 1 needs 0 >= x1 + x2 + 0.2; from x0 = (0.5, 0.5) that is a total step of 1.2 (L1)
    # or 0.6 on both coordinates (L-inf).
    net = linear([[1.0, 1.0], [0.0, 0.0]], [0, 0])
    objective = obj.Adversarial([0.5, 0.5], target=1, margin=0.2, norm=norm)
    result = pnn.Verification(net, pnn.Box(-1, 1)).solve(objective, time_limit=30)
    assert result.objective == pytest.approx(distance, abs=1e-6)
    assert result.details["class_at_x"] == 1
    assert result.details["target_margin_at_x"] == pytest.approx(0.2, abs=1e-6)
    assert result.verified


def test_adversarial_settings_are_checked():
    net = linear([[1.0, 1.0], [0.0, 0.0]], [0, 0])
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="norm"):
        obj.Adversarial([0.5, 0.5], target=1, norm="l2")
    with pytest.raises(pnn.errors.ShapeMismatchError, match="3 values"):
        pnn.Verification(net, pnn.Box(0, 1)).solve(obj.Adversarial([0, 0, 0], target=1))


# -- Feature ---------------------------------------------------------------------------
def feature_net() -> pnn.Network:
    # hidden: relu(x1 - 2 x2 + 0.5) (max 1.5 at (1, 0)) and relu(-x1 - x2 - 3) (dead on [0, 1]^2)
    return pnn.Network.mlp(
        [np.array([[1.0, -2.0], [-1.0, -1.0]]), np.array([[1.0, 1.0]])], [np.array([0.5, -3.0]), np.zeros(1)]
    )


@pytest.mark.parametrize(
    ("layer", "neuron", "best"), [(1, 0, 1.5), ("relu_0", 0, 1.5), (1, 1, 0.0), (2, 0, 1.5)]
)
def test_feature_closed_form(layer, neuron, best):
    result = pnn.Verification(feature_net(), pnn.Box(0, 1)).solve(obj.Feature(layer, neuron), time_limit=30)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best, abs=1e-6)
    assert result.details["activation_at_x"] == pytest.approx(best, abs=1e-6)
    assert result.verified


@pytest.mark.parametrize(
    ("layer", "neuron", "message"), [(3, 0, "does not exist"), (1, 2, "2 neurons"), ("x", 0, "choose")]
)
def test_feature_refuses_missing_neurons(layer, neuron, message):
    with pytest.raises(pnn.errors.ObjectiveConfigError, match=message):
        pnn.Verification(feature_net(), pnn.Box(0, 1)).solve(obj.Feature(layer, neuron))


# -- the protocol ----------------------------------------------------------------------
def test_objectives_check_how_many_networks_they_compare():
    net = linear([[1.0], [0.0]], [0, 0])
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="at least 2"):
        pnn.Verification(net, pnn.Box(0, 1)).solve(obj.MaxDiff())
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="exactly 1"):
        pnn.Comparison(net, net, pnn.Box(0, 1)).solve(obj.Verify([0.0]))
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="input domain"):
        pnn.Comparison(net, net)


def test_networks_with_different_inputs_are_refused():
    with pytest.raises(pnn.errors.IncompatibleNetworksError, match="same number of inputs"):
        pnn.Comparison(random_mlp([2, 3, 2]), random_mlp([3, 3, 2]), pnn.Box(0, 1)).solve(obj.MaxDiff())


def test_users_may_add_constraints_before_solving():
    a, b = linear([[1.0], [0.0]], [0, 0]), linear([[0.0], [0.0]], [0, 0])
    problem = pnn.Comparison(a, b, pnn.Box(-1, 2)).build(obj.MaxDiff())
    problem.model.cap = pyo.Constraint(expr=problem.x[0] <= 0.5)
    result = problem.solve(time_limit=30)
    assert result.objective == pytest.approx(1.0, abs=1e-6)  # |x| at x = -1
    assert result.x == pytest.approx([-1.0])


def test_result_serialises_to_json_types():
    import json

    a, b = linear([[1.0], [0.0]], [0, 0]), linear([[0.0], [0.0]], [0, 0])
    result = pnn.Comparison(a, b, pnn.Box(-1, 2)).solve(obj.MaxDiff(), time_limit=30)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["objective"] == "maxdiff" and data["verified"] is True
    assert data["networks"][0]["predicted_class"] == 0 and data["x"] == pytest.approx([2.0])


def test_bounds_are_computed_once_or_taken_as_given():
    a, b = linear([[1.0], [0.0]], [0, 0]), linear([[0.0], [0.0]], [0, 0])
    comparison = pnn.Comparison(a, b, pnn.Box(-1, 2), bounds="naive")
    first = comparison.bounds
    comparison.solve(obj.MaxDiff(), time_limit=30)
    assert comparison.bounds is first and first[0].method == "naive"
    given = pnn.compute_bounds(a, pnn.Box(-1, 2), method="interval")
    result = pnn.Verification(a, pnn.Box(-1, 2), bounds=given).solve(obj.Feature(1, 0), time_limit=30)
    assert result.bounds_method == "interval" and result.objective == pytest.approx(2.0, abs=1e-6)
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="1 Bounds objects given for 2 networks"):
        pnn.Comparison(a, b, pnn.Box(-1, 2), bounds=[given]).solve(obj.MaxDiff())


def test_softmax_bounds_of_wide_logits_do_not_overflow():
    """Logit bounds of hundreds (deep nets over the box [0, 1]^784) give probability bounds
    without an overflow warning: an upper bound above the partition's is 1."""
    block = pyo.ConcreteModel()
    block.y = pyo.Var(range(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        soft = add_softmax(block, "out", block.y, np.array([-900.0, 0.0]), np.array([900.0, 1.0]))
    assert soft.p[0].ub == 1.0 and soft.p[1].ub == 1.0
    assert soft.p[0].lb == 0.0 and soft.p[1].lb >= 0.0
