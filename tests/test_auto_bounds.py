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


def test_auto_is_the_default_and_keeps_symbolic_when_few_neurons_are_undecided():
    net = load_digits_network()
    images, _ = digits_test_set()
    bounds = pnn.compute_bounds(net, pnn.LinfBall(images[0], 0.05, 0, 1))
    assert bounds.method == "symbolic"
    assert "nothing tighter" in bounds.choice
    assert "(auto: symbolic" in bounds.summary()
    named = pnn.compute_bounds(net, pnn.LinfBall(images[0], 0.05, 0, 1), method="symbolic")
    for ours, theirs in zip(bounds.upper, named.upper, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_auto_takes_alpha_on_a_dense_chain_with_many_undecided_neurons():
    net = random_mlp([20, 80, 80, 5], seed=3)
    domain = pnn.Box(-1, 1)
    bounds = pnn.compute_bounds(net, domain)
    assert bounds.method == "alpha" and "after alpha" in bounds.choice
    symbolic = pnn.compute_bounds(net, domain, method="symbolic")
    for k in range(len(bounds.lower)):
        assert np.all(bounds.lower[k] >= symbolic.lower[k]) and np.all(bounds.upper[k] <= symbolic.upper[k])
    assert_contains_samples(net, bounds, seed=3, count=2000)


def test_auto_on_a_cnn_adds_lp_tightening_and_says_why():
    net = load_digits_cnn()
    images, _ = digits_test_set()
    domain = pnn.LinfBall(images[0], 0.1, 0, 1)
    bounds = pnn.compute_bounds(net, domain)
    assert bounds.method == "lp" and "alpha needs a Dense/ReLU chain" in bounds.choice
    symbolic = pnn.compute_bounds(net, domain, method="symbolic")
    for k in range(len(bounds.lower)):
        assert np.all(bounds.lower[k] >= symbolic.lower[k]) and np.all(bounds.upper[k] <= symbolic.upper[k])


def test_auto_keeps_its_lp_stage_within_the_callers_time_limit(monkeypatch):
    monkeypatch.setattr(auto, "AUTO_MIN_UNDECIDED", 1)
    net = load_digits_cnn()
    images, _ = digits_test_set()
    bounds = pnn.compute_bounds(net, pnn.LinfBall(images[0], 0.1, 0, 1), time_limit=0.5)
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
