"""Networks, bounds and models survive pickle, ``clone()`` and a Dask round trip, also after a
solve (which caches an onnxruntime session for the re-check)."""

from __future__ import annotations

import copy
import logging
import pickle

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.visitor import identify_variables

import pyomo_nn as pnn
from pyomo_nn import objectives as obj
from pyomo_nn.bundled import digits_test_set, load_digits_cnn, load_digits_network

#: Time limit of every solve here: the small digits network solves in well under a second.
TIME_LIMIT = 60

#: Two solves of one model from different MIP starts agree within the solver's relative gap
#: (HiGHS' default, 1e-4).
SAME_OPTIMUM = {"rel": 1e-4}


@pytest.fixture(scope="module")
def net() -> pnn.Network:
    return load_digits_network("64-32-32-10")


@pytest.fixture(scope="module")
def x0() -> np.ndarray:
    return digits_test_set()[0][0]


def _solved_model(
    net: pnn.Network, x0: np.ndarray, eps: float = 0.05
) -> tuple[pyo.ConcreteModel, pnn.Result]:
    """A model maximising logit 3 near x0, solved once (so the network holds a session)."""
    bounds = pnn.compute_bounds(net, pnn.LinfBall(x0, eps, 0, 1))
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    model.obj = pyo.Objective(expr=model.nn.outputs[3] - model.nn.outputs[5], sense=pyo.maximize)
    result = pnn.solve(model, time_limit=TIME_LIMIT)
    assert result.status == "optimal" and result.verified
    return model, result


def _round_trip(value: object) -> object:
    return pickle.loads(pickle.dumps(value))


def test_network_and_bounds_pickle_after_a_solve(net, x0):
    model, _ = _solved_model(net, x0)
    copied = _round_trip(net)
    assert copied.fingerprint() == net.fingerprint()
    assert np.allclose(copied.source.run(x0), net.source.run(x0))
    bounds = _round_trip(model.nn.bounds)
    bounds.check_matches(net)
    for ours, theirs in zip(bounds.upper, model.nn.bounds.upper, strict=True):
        assert np.array_equal(ours, theirs)
    assert copy.deepcopy(net).fingerprint() == net.fingerprint()


def test_model_pickles_after_a_solve_and_solves_again(net, x0):
    model, result = _solved_model(net, x0)
    copied = _round_trip(model)
    assert np.array_equal(copied.nn.input_values(), model.nn.input_values())
    assert copied.nn.stats == model.nn.stats
    again = pnn.solve(copied, time_limit=TIME_LIMIT)
    assert again.objective == pytest.approx(result.objective, **SAME_OPTIMUM)
    assert again.verified


def test_cnn_model_with_max_pool_pickles_and_clones_after_a_solve(x0):
    cnn = load_digits_cnn()
    model, result = _solved_model(cnn, x0, eps=0.01)
    for copied in (_round_trip(model), model.clone()):
        again = pnn.solve(copied, time_limit=TIME_LIMIT)
        assert again.objective == pytest.approx(result.objective, **SAME_OPTIMUM)
        assert again.verified


def test_clone_after_a_solve_keeps_the_network_and_solves_to_the_same_optimum(net, x0, caplog):
    model, result = _solved_model(net, x0)
    with caplog.at_level(logging.WARNING, logger="pyomo"):
        clone = model.clone()
    assert not caplog.records, [record.getMessage() for record in caplog.records]
    assert clone.nn.network is net and clone.nn.bounds is model.nn.bounds
    assert clone.nn.stats == model.nn.stats
    assert np.array_equal(clone.nn.input_values(), model.nn.input_values())
    clone.nn.inputs[0].set_value(0.0123)
    assert model.nn.inputs[0].value != 0.0123 and clone.nn.input_values()[0] == 0.0123
    assert clone.nn.pre_activation("relu_0", 0).polynomial_degree() == 1
    assert all(var.model() is clone for var in identify_variables(clone.nn.pre_activation("relu_0", 0)))
    again = pnn.solve(clone, time_limit=TIME_LIMIT)
    assert again.objective == pytest.approx(result.objective, **SAME_OPTIMUM)
    assert again.verified and "nn" in again.blocks


def test_comparison_model_clones_and_pickles_after_a_solve(net, x0):
    problem = pnn.Verification(net, pnn.LinfBall(x0, 0.02, 0, 1)).build(obj.Verify(x0))
    result = problem.solve(time_limit=TIME_LIMIT)
    for copied in (problem.model.clone(), _round_trip(problem.model)):
        again = pnn.solve(copied, time_limit=TIME_LIMIT)
        assert again.objective == pytest.approx(result.objective, **SAME_OPTIMUM) and again.verified


def _solve_remotely(model: pyo.ConcreteModel) -> float:
    return pnn.solve(model, time_limit=TIME_LIMIT).objective


def _evaluate_remotely(network: pnn.Network, bounds: pnn.Bounds, x: np.ndarray) -> np.ndarray:
    bounds.check_matches(network)
    return network.source.run(x)[0]


def test_dask_round_trip_after_a_solve(net, x0):
    distributed = pytest.importorskip("distributed")
    model, result = _solved_model(net, x0)
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as client:
        objective = client.submit(_solve_remotely, model).result()
        logits = client.submit(_evaluate_remotely, net, model.nn.bounds, x0).result()
    assert objective == pytest.approx(result.objective, **SAME_OPTIMUM)
    assert np.allclose(logits, net.source.run(x0)[0])
