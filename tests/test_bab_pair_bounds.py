"""pnn.bab.side_by_side_bounds: a pair's bounds from each network's own (bab/pair.py)."""

from __future__ import annotations

import numpy as np
import pytest

import pyomo_nn as pnn
from conftest import random_mlp
from pyomo_nn.errors import EmptyDomainError, StaleBoundsError


def _pair_setting():
    deep, shallow = random_mlp([5, 12, 10, 8, 3], seed=11), random_mlp([5, 20, 3], seed=12)
    domain = pnn.LinfBall(np.full(5, 0.5), eps=0.4, lower=0.0, upper=1.0)
    return deep, shallow, domain


@pytest.mark.parametrize("order", ["deep first", "shallow first"])
def test_pair_bounds_hold_on_samples_and_match_each_network(order):
    deep, shallow, domain = _pair_setting()
    first, second = (deep, shallow) if order == "deep first" else (shallow, deep)
    first_bounds, second_bounds = (pnn.compute_bounds(n, domain, method="symbolic") for n in (first, second))
    pair = pnn.bab.side_by_side(first, second)
    bounds = pnn.bab.side_by_side_bounds(first, second, first_bounds, second_bounds)
    bounds.check_matches(pair, domain)
    lower, upper = domain.box(5)
    x = np.random.default_rng(0).uniform(lower, upper, size=(4000, 5))
    values = pair.activations(x)
    for name in bounds.layer_names:
        low, high = bounds.of(name)
        assert np.all(values[name] >= low - 1e-9) and np.all(values[name] <= high + 1e-9)
    # the first network's hidden layers and outputs keep exactly their own bounds
    assert np.array_equal(bounds.lower[0][: first_bounds.lower[0].size], first_bounds.lower[0])
    assert np.array_equal(bounds.upper[-1][:3], first_bounds.upper[-1])
    assert np.array_equal(bounds.upper[-1][3:], second_bounds.upper[-1])


def test_branch_and_bound_on_the_pair_bounds_closes_where_the_pair_own_bounds_do_not():
    """Each network's bounds know that a padded identity layer reads h >= 0; bounds computed on
    the pair relax those neurons again, so the pair's own bounds leave more to branch on."""
    deep, shallow, domain = _pair_setting()
    pair = pnn.bab.side_by_side(deep, shallow)
    y = pnn.bab.outputs(pair)
    objective = y[0] - y[3]
    given = pnn.bab.side_by_side_bounds(
        deep, shallow, pnn.compute_bounds(deep, domain), pnn.compute_bounds(shallow, domain)
    )
    with_given = pnn.branch_and_bound(pair, domain, objective, bounds=given, max_branches=10000)
    computed = pnn.branch_and_bound(pair, domain, objective, max_branches=10000)
    assert with_given.status == "optimal" and computed.status == "branch_limit"
    assert computed.lower - 1e-6 <= with_given.upper <= computed.upper + 1e-6
    x = with_given.point
    assert deep.forward(x)[0] - shallow.forward(x)[0] == pytest.approx(with_given.objective, abs=1e-6)
    lower, upper = domain.box(5)
    samples = np.random.default_rng(1).uniform(lower, upper, size=(5000, 5))
    assert np.max(deep.forward(samples)[:, 0] - shallow.forward(samples)[:, 0]) <= with_given.upper + 1e-9


def test_pair_bounds_refuse_stale_or_disjoint_bounds():
    deep, shallow, domain = _pair_setting()
    deep_bounds = pnn.compute_bounds(deep, domain)
    with pytest.raises(StaleBoundsError):
        pnn.bab.side_by_side_bounds(deep, shallow, deep_bounds, deep_bounds)
    far = pnn.compute_bounds(shallow, pnn.Box(np.full(5, 2.0), np.full(5, 3.0)))
    with pytest.raises(EmptyDomainError):
        pnn.bab.side_by_side_bounds(deep, shallow, deep_bounds, far)
