"""Branch and bound with intermediate bounds refined per branch: refined bounds hold on
sampled points of their branch and never loosen, bounds on refined branches stay below every
point of the branch, an empty branch is closed, and the search finds the MILP's optimum."""

from __future__ import annotations

import numpy as np
import pytest

import pyomo_nn as pnn
from pyomo_nn.bab import branch_and_bound, outputs
from pyomo_nn.bab.bounding import BatchBounder, BranchBatch
from pyomo_nn.bab.chain import relu_chain
from pyomo_nn.bundled import digits_test_set, load_digits_network
from pyomo_nn.ir import INPUT, Dense, Network, ReLU

#: Slack for comparing a bound with pre-activations evaluated in float64 at sampled points.
SAMPLE_SLACK = 1e-9

EPS = 0.1


@pytest.fixture(scope="module")
def deep():
    """64-50-50-50-10 around test image 0 with eps 0.1: three hidden layers, ~100 split."""
    net = load_digits_network("64-50-50-50-10")
    x, _ = digits_test_set()
    x0 = x[0]
    lower, upper = np.clip(x0 - EPS, 0, 1), np.clip(x0 + EPS, 0, 1)
    bounds = pnn.compute_bounds(net, pnn.Box(lower, upper), method="symbolic")
    rows = np.random.default_rng(3).normal(size=(1, 1, 10))
    chain = relu_chain(net, rows, np.zeros((1, 1)))
    bounder = BatchBounder.from_bounds(chain, lower, upper, bounds, refine=True, refine_targets=None)
    samples = np.clip(x0 + np.random.default_rng(4).uniform(-EPS, EPS, size=(20000, 64)), 0, 1)
    pre = np.concatenate(
        [z[:, c] for z, c in zip(chain.pre_activations(samples), bounder.unstable, strict=True)], axis=1
    )
    values = chain.objective(samples, np.zeros(len(samples), dtype=int))[:, 0]
    return net, x0, bounder, pre, values


def _branches(bounder, pre, count, depth, rng):
    """``count`` non-empty branches fixing ``depth`` neurons each, to the phases of a sample."""
    splits = np.zeros((count, bounder.split_count), dtype=np.int8)
    for b in range(count):
        chosen = rng.choice(bounder.split_count, depth, replace=False)
        splits[b, chosen] = np.where(pre[rng.integers(len(pre)), chosen] >= 0, 1, -1)
    alpha, beta = bounder.initial_parameters(1)
    return BranchBatch(
        np.zeros(count, dtype=int), splits, np.repeat(alpha[None], count, 0), np.repeat(beta[None], count, 0)
    )


def _inside(pre, splits):
    """Samples (bool per sample) whose phases agree with ``splits`` on every fixed neuron."""
    fixed = splits != 0
    return np.all(np.sign(pre[:, fixed]) * splits[fixed] >= 0, axis=1)


@pytest.mark.parametrize("targets", [None, 4])
def test_refined_bounds_hold_on_sampled_points_and_never_loosen(deep, targets):
    """Every split neuron refined (``None``) or the 4 best scored per layer (random scores)."""
    _, _, bounder, pre, _ = deep
    rng = np.random.default_rng(5)
    batch = bounder.with_root_bounds(_branches(bounder, pre, 40, 2, rng))
    first_layer = bounder.layer_of(np.argmax(batch.splits != 0, axis=1))
    bounder.refine_targets = targets
    try:
        refined = bounder.refine(batch, first_layer, rng.random(batch.splits.shape))
    finally:
        bounder.refine_targets = None
    assert np.all(refined.lower >= batch.lower) and np.all(refined.upper <= batch.upper)
    assert np.any(refined.lower > batch.lower) or np.any(refined.upper < batch.upper)
    assert np.all(refined.splits[batch.splits != 0] == batch.splits[batch.splits != 0])
    for b in range(40):
        inside = _inside(pre, batch.splits[b])
        assert inside.any()
        assert np.all(pre[inside] >= refined.lower[b] - SAMPLE_SLACK)
        assert np.all(pre[inside] <= refined.upper[b] + SAMPLE_SLACK)
        assert _inside(pre[inside], refined.splits[b]).all()  # implied phases hold there too
    again = bounder.refine(refined, np.full(40, -1))
    assert np.all(again.lower >= refined.lower) and np.all(again.upper <= refined.upper)


def test_bounds_of_refined_branches_are_below_every_point_of_the_branch(deep):
    _, _, bounder, pre, values = deep
    rng = np.random.default_rng(6)
    batch = _branches(bounder, pre, 30, 3, rng)
    refined = bounder.refine(batch, np.full(30, -1))
    plain = BatchBounder(
        bounder.chain,
        bounder.input_lower,
        bounder.input_upper,
        bounder.pre_lower,
        bounder.pre_upper,
        refine=False,
    ).optimise(batch, 20)
    bounds = bounder.optimise(refined, 20)
    for b in range(30):
        inside = _inside(pre, batch.splits[b])
        assert bounds.lower[b, 0] <= values[inside].min() + SAMPLE_SLACK
    assert np.mean(bounds.lower[:, 0]) >= np.mean(plain.lower[:, 0])


def test_a_branch_the_refined_bounds_prove_empty_gets_an_infinite_bound():
    """x in [-1, 1]; z1 = x, z2 = relu(z1) - 0.5: z1 <= 0 and z2 >= 0 exclude each other,
    which only the refined bound of z2 (at most -0.5 once relu(z1) = 0) shows."""
    layers = (
        Dense("d0", INPUT, np.array([[1.0], [-1.0]]), np.zeros(2)),
        ReLU("r0", "d0"),
        Dense("d1", "r0", np.array([[1.0, 0.0]]), np.array([-0.5])),
        ReLU("r1", "d1"),
        Dense("out", "r1", np.array([[1.0]]), np.zeros(1)),
    )
    net = Network(layers, (1,))
    lower, upper = np.array([-1.0]), np.array([1.0])
    bounds = pnn.compute_bounds(net, pnn.Box(lower, upper), method="interval")
    chain = relu_chain(net, np.ones((1, 1, 1)), np.zeros((1, 1)))
    bounder = BatchBounder.from_bounds(chain, lower, upper, bounds, refine=True)
    assert bounder.split_count == 3  # z1, -z1 and z2
    alpha, beta = bounder.initial_parameters(1)
    splits = np.array([[-1, 0, 1]], dtype=np.int8)
    batch = bounder.refine(BranchBatch(np.array([0]), splits, alpha[None], beta[None]), np.array([0]))
    assert bounder.empty(batch)[0]
    assert bounder.optimise(batch, 5).lower[0, 0] == np.inf


def test_refined_search_finds_the_milp_optimum_in_fewer_branches(deep):
    net, x0, _, _, _ = deep
    y = outputs(net)
    logits = net.forward(x0)
    label, runner = int(np.argmax(logits)), int(np.argsort(logits)[-2])
    domain = pnn.LinfBall(x0, EPS, 0.0, 1.0)
    bounds = pnn.compute_bounds(net, domain)
    results = [
        branch_and_bound(
            net, domain, y[runner] - y[label], bounds=bounds, refine_bounds=refine, max_branches=20_000
        )
        for refine in (False, True)
    ]
    assert all(r.status == "optimal" for r in results)
    assert results[1].upper == pytest.approx(results[0].upper, abs=1e-5)
    assert results[1].branches <= results[0].branches
