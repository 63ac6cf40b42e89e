"""Precomputed bounds against the declared domain: bounds over a wider box are used but the
inputs keep the domain's box; bounds over a narrower box are refused, never silently used."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from pyomo_nn import objectives as obj
from pyomo_nn.bundled import digits_test_set, load_digits_network
from pyomo_nn.tolerances import DOMAIN_COVER_ATOL

#: Radius of the question's L-infinity ball around the digit.
EPS = 0.01


@pytest.fixture(scope="module")
def net() -> pnn.Network:
    return load_digits_network("64-32-32-10")


@pytest.fixture(scope="module")
def x0() -> np.ndarray:
    return digits_test_set()[0][0]


def linear(weights: list[list[float]], bias: list[float]) -> pnn.Network:
    """A network with no hidden layer: logits = W x + b."""
    return pnn.Network.mlp([np.array(weights, dtype=float)], [np.array(bias, dtype=float)])


def test_verification_with_bounds_over_a_wider_box_answers_within_the_domain(net, x0):
    """The issue's reproduction: bounds over Box(0, 1), question over a ball of 0.01."""
    domain = pnn.LinfBall(x0, EPS, 0, 1)
    wide = pnn.compute_bounds(net, pnn.Box(0, 1))
    result = pnn.Verification(net, domain, bounds=wide).solve(obj.Verify(x0), time_limit=60)
    assert result.status == "optimal" and result.verified
    assert np.max(np.abs(result.x - x0)) <= EPS + 1e-9
    exact = pnn.Verification(net, domain).solve(obj.Verify(x0), time_limit=60)
    assert result.objective == pytest.approx(exact.objective, rel=1e-4)


def test_problem_inputs_get_the_domains_box_not_the_bounds_box(net, x0):
    domain = pnn.LinfBall(x0, EPS, 0, 1)
    problem = pnn.Verification(net, domain, bounds=pnn.compute_bounds(net, pnn.Box(0, 1))).build(
        obj.Verify(x0)
    )
    lower, upper = domain.box(net.input_size)
    assert [problem.x[i].bounds for i in range(net.input_size)] == list(zip(lower, upper, strict=True))
    assert np.array_equal(problem.input_box()[0], lower) and np.array_equal(problem.input_box()[1], upper)


def test_adversarial_with_wider_bounds_stays_in_the_domain():
    """The inputs and the distance from x0 are bounded by the domain, not the bounds' box."""
    network = linear([[1.0], [0.0]], [0, 0])
    domain = pnn.Box(-1.5, 1.5)
    wide = pnn.compute_bounds(network, pnn.Box(-3, 3))
    problem = pnn.Verification(network, domain, bounds=wide).build(obj.Adversarial([-1.0], target=0))
    assert problem.x[0].bounds == (-1.5, 1.5)
    assert problem.block.distance[0].ub == pytest.approx(2.5)


def test_verification_refuses_bounds_over_a_narrower_box(net, x0):
    narrow = pnn.compute_bounds(net, pnn.LinfBall(x0, EPS / 2, 0, 1))
    verification = pnn.Verification(net, pnn.LinfBall(x0, EPS, 0, 1), bounds=narrow)
    with pytest.raises(pnn.errors.StaleBoundsError, match=r"input \d+.*compute_bounds\(network, domain\)"):
        verification.solve(obj.Verify(x0), time_limit=60)


def test_comparison_refuses_bounds_over_a_narrower_box(net, x0):
    domain = pnn.LinfBall(x0, EPS, 0, 1)
    narrow = pnn.compute_bounds(net, pnn.LinfBall(x0, EPS / 2, 0, 1))
    comparison = pnn.Comparison(net, net, domain, bounds=[pnn.compute_bounds(net, domain), narrow])
    with pytest.raises(pnn.errors.StaleBoundsError, match="does not contain the domain"):
        comparison.solve(obj.MaxDiff(), time_limit=60)
    with pytest.raises(pnn.errors.StaleBoundsError):
        comparison.bounds  # noqa: B018 - a refused request stays refused


def test_mineps_refuses_bounds_over_a_narrower_ball():
    """With bounds over eps = 0.3 the MILP would "certify" eps = 0.9, where the networks do
    disagree at distance (1 + m) / 2 (see test_objectives' closed form)."""
    n1 = linear([[1.0, 1.0], [0.0, 0.0]], [0, 0])
    n2 = linear([[1.0, 1.0], [0.0, 0.0]], [-1, 0])
    narrow = pnn.LinfBall([1.0, 1.0], eps=0.3, lower=-1, upper=2)
    bounds = [pnn.compute_bounds(n, narrow) for n in (n1, n2)]
    comparison = pnn.Comparison(n1, n2, pnn.LinfBall([1.0, 1.0], eps=0.9, lower=-1, upper=2), bounds=bounds)
    with pytest.raises(pnn.errors.StaleBoundsError, match="input 0"):
        comparison.solve(obj.MinEps(true_class=0), time_limit=30)


def test_check_matches_refuses_bounds_for_another_network():
    a, b = linear([[1.0], [0.0]], [0, 0]), linear([[2.0], [0.0]], [0, 0])
    with pytest.raises(pnn.errors.StaleBoundsError, match="different network"):
        pnn.compute_bounds(a, pnn.Box(0, 1)).check_matches(b, pnn.Box(0, 1))


def test_check_matches_refuses_a_domain_outside_the_bounds_box():
    network = linear([[1.0, 1.0], [0.0, 0.0]], [0, 0])
    bounds = pnn.compute_bounds(network, pnn.Box([0, 0], [1, 1]))
    bounds.check_matches(network, pnn.Box([0, 0.2], [1, 0.8]))
    bounds.check_matches(network, pnn.Box(0 - DOMAIN_COVER_ATOL / 2, 1 + DOMAIN_COVER_ATOL / 2))
    with pytest.raises(
        pnn.errors.StaleBoundsError, match=r"first: input 1, domain \[0, 1.5\], bounds \[0, 1\]"
    ):
        bounds.check_matches(network, pnn.Box([0, 0], [1, 1.5]))
    with pytest.raises(pnn.errors.StaleBoundsError, match="input 0"):
        bounds.check_covers(np.array([-1e-6, 0.0]), np.array([1.0, 1.0]))


def test_block_without_a_domain_keeps_the_bounds_box_and_with_one_takes_the_domains():
    network = linear([[1.0, 1.0], [0.0, 0.0]], [0, 0])
    bounds = pnn.compute_bounds(network, pnn.Box(-1, 1))
    model = pyo.ConcreteModel()
    model.alone = pnn.NetworkBlock(network, bounds)
    model.inside = pnn.NetworkBlock(network, bounds, pnn.Box(0, 0.5))
    assert model.alone.inputs[0].bounds == (-1.0, 1.0)
    assert model.inside.inputs[1].bounds == (0.0, 0.5)
    with pytest.raises(pnn.errors.StaleBoundsError, match="input 0"):
        pnn.NetworkBlock(network, bounds, pnn.Box(-2, 0))
