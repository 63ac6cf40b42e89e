"""method="auto", the default: what it chooses, that it says so, and that it stays sound."""

from __future__ import annotations

import numpy as np
import pytest
from test_bounds import assert_contains_samples

import pyomo_nn as pnn
from conftest import random_mlp
from pyomo_nn.bounds import auto
from pyomo_nn.bundled import digits_test_set, load_digits_cnn, load_digits_network
from pyomo_nn.errors import InvalidArgumentError


def test_auto_is_the_default_and_takes_alpha_on_a_small_mlp():
    net = load_digits_network()
    images, _ = digits_test_set()
    bounds = pnn.compute_bounds(net, pnn.LinfBall(images[0], 0.05, 0, 1))
    assert bounds.method == "alpha"
    assert "no LP tightening" in bounds.choice
    assert "(auto: alpha" in bounds.summary()
    named = pnn.compute_bounds(net, pnn.LinfBall(images[0], 0.05, 0, 1), method="alpha")
    for ours, theirs in zip(bounds.upper, named.upper, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_auto_adds_lp_tightening_when_many_neurons_stay_split():
    net = random_mlp([20, 80, 80, 5], seed=3)
    domain = pnn.Box(-1, 1)
    bounds = pnn.compute_bounds(net, domain)
    assert bounds.method == "lp" and "then lp" in bounds.choice
    alpha = pnn.compute_bounds(net, domain, method="alpha")
    for k in range(len(bounds.lower)):
        assert np.all(bounds.lower[k] >= alpha.lower[k]) and np.all(bounds.upper[k] <= alpha.upper[k])
    assert_contains_samples(net, bounds, seed=3, count=2000)


def test_auto_on_a_cnn_starts_from_symbolic_and_says_why():
    net = load_digits_cnn()
    images, _ = digits_test_set()
    bounds = pnn.compute_bounds(net, pnn.LinfBall(images[0], 0.02, 0, 1))
    assert "alpha needs a Dense/ReLU chain" in bounds.choice


def test_auto_keeps_its_lp_stage_within_the_callers_time_limit(monkeypatch):
    monkeypatch.setattr(auto, "AUTO_LP_MIN_SPLIT", 1)
    net = random_mlp([20, 80, 80, 5], seed=3)
    bounds = pnn.compute_bounds(net, pnn.Box(-1, 1), time_limit=0.5)
    assert "LP budget 0.5 s" in bounds.choice


@pytest.mark.parametrize("time_limit", [0, -1.0])
def test_auto_refuses_a_time_budget_of_zero_or_below(time_limit):
    with pytest.raises(InvalidArgumentError, match="time_limit"):
        pnn.compute_bounds(load_digits_network(), pnn.Box(0, 1), time_limit=time_limit)


def test_the_choice_survives_save_and_load(tmp_path):
    net = load_digits_network()
    bounds = pnn.compute_bounds(net, pnn.Box(0, 1))
    bounds.save(tmp_path / "b.npz")
    loaded = pnn.Bounds.load(tmp_path / "b.npz", net)
    assert loaded.method == bounds.method and loaded.choice == bounds.choice
