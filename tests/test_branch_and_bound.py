"""Branch and bound over ReLU phases: exact optima (equal to the MILP's), sound bounds on
every branch, correct gradients, the threshold answers, parallel and lost workers, bad input."""

from __future__ import annotations

import pickle
from concurrent.futures import Executor, Future

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from pyomo_nn.bab import branch_and_bound, outputs, parallel
from pyomo_nn.bab.bounding import BatchBounder, BranchBatch
from pyomo_nn.bab.chain import relu_chain
from pyomo_nn.bounds.executors import LocalProcessPool
from pyomo_nn.bundled import digits_test_set, load_digits_cnn, load_digits_network
from pyomo_nn.errors import InvalidArgumentError, StaleBoundsError, UnsupportedNetworkError

#: Branch cap of the exact solves here: far above what they need (a few hundred branches).
BRANCH_CAP = 20_000


@pytest.fixture(scope="module")
def digits():
    net = load_digits_network("64-32-32-10")
    x, labels = digits_test_set()
    return net, x[0], int(labels[0])


@pytest.fixture(scope="module")
def deeper_digits():
    """A net on which eps 0.1 takes a few hundred branches (so batches reach the executor)."""
    net = load_digits_network("64-50-50-50-10")
    x, labels = digits_test_set()
    return net, x[0], int(labels[0])


def _milp_maximum(net, domain, objective_weights):
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, domain=domain)
    model.objective = pyo.Objective(
        expr=sum(w * model.nn.outputs[k] for k, w in enumerate(objective_weights) if w), sense=pyo.maximize
    )
    result = pnn.solve(model, mip_gap=0.0)
    assert result.status == "optimal"
    return result.objective


def _runner_up_margin(net, x0, label):
    y = outputs(net)
    logits = net.forward(x0)
    runner = int(np.argsort(logits)[-2])
    weights = np.zeros(net.output_size)
    weights[runner], weights[label] = 1.0, -1.0
    return y[runner] - y[label], weights


@pytest.mark.parametrize("eps", [0.05, 0.1])
def test_optimum_equals_the_milp_optimum(digits, eps):
    net, x0, label = digits
    domain = pnn.LinfBall(x0, eps, 0.0, 1.0)
    objective, weights = _runner_up_margin(net, x0, label)
    result = branch_and_bound(net, domain, objective, max_branches=BRANCH_CAP)
    assert result.status == "optimal"
    milp = _milp_maximum(net, domain, weights)
    assert result.objective == pytest.approx(milp, abs=1e-5)
    assert result.lower <= milp + 1e-6 and result.upper >= milp - 1e-6
    assert result.upper - result.lower <= 1e-5 + 1e-6 * abs(milp)
    lower, upper = domain.box(net.input_size)
    assert np.all(result.point >= lower) and np.all(result.point <= upper)
    assert result.objective == pytest.approx(float(weights @ net.forward(result.point)))


def test_threshold_below_the_optimum_gives_a_confirmed_counterexample(digits):
    net, x0, label = digits
    domain = pnn.LinfBall(x0, 0.1, 0.0, 1.0)
    objective, weights = _runner_up_margin(net, x0, label)
    milp = _milp_maximum(net, domain, weights)
    found = branch_and_bound(net, domain, objective, threshold=milp - 0.05, max_branches=BRANCH_CAP)
    assert found.status == "counterexample"
    assert found.objective >= milp - 0.05
    proved = branch_and_bound(net, domain, objective, threshold=milp + 0.05, max_branches=BRANCH_CAP)
    assert proved.status == "proved"
    assert proved.upper <= milp + 0.05 + 1e-3


def test_minimising_is_maximising_the_negation(digits):
    net, x0, label = digits
    domain = pnn.LinfBall(x0, 0.05, 0.0, 1.0)
    objective, _ = _runner_up_margin(net, x0, label)
    low = branch_and_bound(net, domain, -objective, sense="minimize", max_branches=BRANCH_CAP)
    high = branch_and_bound(net, domain, objective, max_branches=BRANCH_CAP)
    assert low.objective == pytest.approx(-high.objective, abs=1e-5)
    assert low.lower == pytest.approx(-high.upper, abs=1e-5)


def test_a_branch_limit_keeps_valid_bounds(digits):
    net, x0, label = digits
    domain = pnn.LinfBall(x0, 0.1, 0.0, 1.0)
    objective, weights = _runner_up_margin(net, x0, label)
    milp = _milp_maximum(net, domain, weights)
    result = branch_and_bound(net, domain, objective, max_branches=3)
    assert result.status == "branch_limit"
    assert result.lower <= milp + 1e-6 <= result.upper + 2e-6
    assert pickle.loads(pickle.dumps(result)).upper == result.upper


def _bounder(net, x0, eps, rows):
    lower, upper = np.clip(x0 - eps, 0, 1), np.clip(x0 + eps, 0, 1)
    bounds = pnn.compute_bounds(net, pnn.Box(lower, upper), method="symbolic")
    chain = relu_chain(net, rows, np.zeros(rows.shape[:2]))
    return BatchBounder.from_bounds(chain, lower, upper, bounds)


def test_gradients_match_finite_differences(digits):
    net, x0, _ = digits
    rng = np.random.default_rng(0)
    bounder = _bounder(net, x0, 0.1, rng.normal(size=(1, 1, 10)))
    m = bounder.split_count
    splits = np.zeros((1, m), dtype=np.int8)
    chosen = rng.choice(m, 4, replace=False)
    splits[0, chosen] = rng.choice([-1, 1], 4)
    alpha, beta = rng.random((1, 1, m)), rng.random((1, 1, m)) * (splits[:, None, :] != 0)
    batch = BranchBatch(np.array([0]), splits, alpha, beta)
    value, corner, saved, _ = bounder._backward(batch, alpha, beta, keep=True)
    grad_alpha, grad_beta = bounder._gradients(corner, saved)
    step = 1e-7
    for j in chosen:
        shifted = beta.copy()
        shifted[0, 0, j] += step
        numeric = (bounder._backward(batch, alpha, shifted, keep=False)[0] - value) / step
        assert numeric[0, 0] == pytest.approx(grad_beta[0, 0, j], rel=1e-4, abs=1e-6)
    free = np.flatnonzero(splits[0] == 0)
    checked = 0
    for j in free:
        if grad_alpha[0, 0, j] == 0:
            continue
        shifted = alpha.copy()
        shifted[0, 0, j] += step
        numeric = (bounder._backward(batch, shifted, beta, keep=False)[0] - value) / step
        assert numeric[0, 0] == pytest.approx(grad_alpha[0, 0, j], rel=1e-4, abs=1e-6)
        checked += 1
    assert checked > 0


def test_every_branch_bound_is_below_every_point_of_the_branch(digits):
    net, x0, _ = digits
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(1, 1, 10))
    bounder = _bounder(net, x0, 0.1, rows)
    samples = np.clip(x0 + rng.uniform(-0.1, 0.1, size=(20000, 64)), 0, 1)
    pre = np.concatenate(
        [
            z[:, columns]
            for z, columns in zip(bounder.chain.pre_activations(samples), bounder.unstable, strict=True)
        ],
        axis=1,
    )
    values = bounder.chain.objective(samples, np.zeros(len(samples), dtype=int))[:, 0]
    m = bounder.split_count
    alpha, beta = bounder.initial_parameters(1)
    branches = []
    for _ in range(20):
        splits = np.zeros(m, dtype=np.int8)
        chosen = rng.choice(m, 2, replace=False)
        splits[chosen] = np.sign(pre[rng.integers(len(samples)), chosen])  # a non-empty branch
        branches.append(splits)
    splits = np.array(branches)
    batch = BranchBatch(
        np.zeros(20, dtype=int), splits, np.repeat(alpha[None], 20, 0), np.repeat(beta[None], 20, 0)
    )
    bounds = bounder.optimise(batch, 20)
    for b in range(20):
        fixed = splits[b] != 0
        inside = np.all(np.sign(pre[:, fixed]) * splits[b, fixed] >= 0, axis=1)
        assert inside.any()
        assert bounds.lower[b, 0] <= values[inside].min() + 1e-9


class _LosingExecutor(Executor):
    """Every other job fails as if its worker died."""

    def __init__(self) -> None:
        self.jobs = 0
        self.workers = 2

    def submit(self, fn, /, *args, **kwargs):
        self.jobs += 1
        future: Future = Future()
        if self.jobs % 2:
            future.set_exception(RuntimeError("worker lost"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_a_lost_worker_loses_no_branch(deeper_digits, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_CHUNK", 1)  # every batch goes to the executor
    net, x0, label = deeper_digits
    domain = pnn.LinfBall(x0, 0.1, 0.0, 1.0)
    objective, weights = _runner_up_margin(net, x0, label)
    executor = _LosingExecutor()
    result = branch_and_bound(net, domain, objective, executor=executor, max_branches=BRANCH_CAP)
    assert executor.jobs > 0
    assert result.rebounded_chunks > 0
    assert result.status == "optimal"
    assert result.objective == pytest.approx(_milp_maximum(net, domain, weights), abs=1e-5)


def test_process_pool_gives_the_same_optimum(deeper_digits, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_CHUNK", 1)
    net, x0, label = deeper_digits
    domain = pnn.LinfBall(x0, 0.1, 0.0, 1.0)
    objective, _ = _runner_up_margin(net, x0, label)
    inline = branch_and_bound(net, domain, objective, max_branches=BRANCH_CAP)
    with LocalProcessPool(2) as pool:
        pooled = branch_and_bound(net, domain, objective, executor=pool, max_branches=BRANCH_CAP)
    assert pooled.status == inline.status == "optimal"
    assert pooled.objective == pytest.approx(inline.objective, abs=1e-5)


def test_bad_input_is_refused_with_the_fix(digits):
    net, x0, _label = digits
    domain = pnn.LinfBall(x0, 0.05, 0.0, 1.0)
    y = outputs(net)
    with pytest.raises(InvalidArgumentError, match="not linear"):
        branch_and_bound(net, domain, y[0] * y[1])
    with pytest.raises(InvalidArgumentError, match="one linear function"):
        branch_and_bound(net, domain, y)
    with pytest.raises(InvalidArgumentError, match="bounded domain"):
        branch_and_bound(net, pnn.Box(np.full(64, -np.inf), np.ones(64)), y[0])
    with pytest.raises(InvalidArgumentError, match="sense"):
        branch_and_bound(net, domain, y[0], sense="max")
    with pytest.raises(UnsupportedNetworkError, match="MILP"):
        cnn = load_digits_cnn()
        branch_and_bound(cnn, pnn.LinfBall(x0.reshape(1, 8, 8), 0.05, 0.0, 1.0), outputs(cnn)[0])
    narrow = pnn.compute_bounds(net, pnn.LinfBall(x0, 0.01, 0.0, 1.0))
    with pytest.raises(StaleBoundsError):
        branch_and_bound(net, domain, y[0], bounds=narrow)


def test_side_by_side_computes_both_networks_and_refuses_other_pairs(digits):
    net, x0, label = digits
    pruned = pnn.prune(net, percent=50)
    pair = pnn.bab.side_by_side(net, pruned)
    x, _ = digits_test_set()
    expected = np.hstack([net.forward(x[:5]), pruned.forward(x[:5])])
    assert np.allclose(pair.forward(x[:5]), expected, atol=1e-12)
    y = outputs(pair)
    result = branch_and_bound(
        pair, pnn.LinfBall(x0, 0.05, 0.0, 1.0), y[label] - y[10 + label], max_branches=BRANCH_CAP
    )
    assert result.status == "optimal"
    assert result.objective >= expected[0, label] - expected[0, 10 + label] - 1e-9  # x0 is in the ball
    deeper = load_digits_network("64-50-50-50-10")
    padded = pnn.bab.side_by_side(net, deeper)  # 2 and 3 hidden layers: the first is padded
    assert np.allclose(
        padded.forward(x[:5]), np.hstack([net.forward(x[:5]), deeper.forward(x[:5])]), atol=1e-12
    )
    with pytest.raises(pnn.errors.IncompatibleNetworksError, match="share its input"):
        pnn.bab.side_by_side(
            net, pnn.Network((pnn.ir.Dense("d", pnn.ir.INPUT, np.ones((10, 32)), np.zeros(10)),), (32,))
        )


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_optimum(digits, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    monkeypatch.setattr(parallel, "MIN_CHUNK", 1)
    net, x0, label = digits
    domain = pnn.LinfBall(x0, 0.1, 0.0, 1.0)
    objective, weights = _runner_up_margin(net, x0, label)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = branch_and_bound(
            net, domain, objective, executor=client.get_executor(), max_branches=BRANCH_CAP
        )
    assert result.status == "optimal"
    assert result.rebounded_chunks == 0
    assert result.objective == pytest.approx(_milp_maximum(net, domain, weights), abs=1e-5)


def test_a_threshold_within_the_margin_of_the_optimum_is_not_answered(digits):
    """Just above the optimum (closer than BAB_PROOF_MARGIN): no input reaches it, but the
    proof needs the margin; the search must run out of branches, not claim either answer."""
    net, x0, label = digits
    domain = pnn.LinfBall(x0, 0.1, 0.0, 1.0)
    objective, weights = _runner_up_margin(net, x0, label)
    optimum = _milp_maximum(net, domain, weights)
    result = branch_and_bound(net, domain, objective, threshold=optimum + 5e-5, max_branches=500)
    assert result.status in ("undecided", "branch_limit")
    assert result.lower <= optimum + 1e-6 <= result.upper + 2e-6
