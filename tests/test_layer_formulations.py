"""layer_formulations: some piecewise layers written with another formulation than the block's."""

from __future__ import annotations

import pickle

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_test_set, load_digits_network


def _model(**block_args: object) -> pyo.ConcreteModel:
    net = load_digits_network()
    images, labels = digits_test_set()
    x0, true_class = images[2], int(labels[2])
    logits = net.forward(x0)
    logits[true_class] = -np.inf
    runner_up = int(np.argmax(logits))
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.LinfBall(x0, 0.03, 0, 1)), **block_args)
    margin = model.nn.outputs[runner_up] - model.nn.outputs[true_class]
    model.obj = pyo.Objective(expr=margin, sense=pyo.maximize)
    return model


def _relu_names() -> list[str]:
    return [layer.name for layer in load_digits_network().layers if layer.role is pnn.ir.Role.PIECEWISE]


@pytest.mark.parametrize("solver", ["scip_direct", "cbc"])
def test_mixed_formulations_reach_the_big_m_optimum(solver):
    if solver not in pnn.available_solvers():
        pytest.skip(f"{solver} is not installed here")
    first = _relu_names()[0]
    reference = pnn.solve(_model(), "highs", time_limit=60, mip_gap=1e-9)
    model = _model(layer_formulations={first: "sos1"})
    stats = {s.name: s for s in model.nn.stats}
    assert "sos1" in stats[first].needs and stats[first].binaries == 0
    assert model.nn.formulations_used() == {"bigm", "sos1"}
    result = pnn.solve(model, solver, time_limit=60, mip_gap=1e-9)
    assert result.status == "optimal" and result.verified
    assert result.objective == pytest.approx(reference.objective, abs=1e-5)


def test_a_solver_that_cannot_take_one_layers_formulation_is_refused_naming_it():
    first = _relu_names()[0]
    model = _model(layer_formulations={first: "sos1"})
    with pytest.raises(pnn.errors.SolverCapabilityError, match=f"{first}: 'sos1'"):
        pnn.solve(model, "highs", time_limit=60)


def test_partitions_go_with_a_partition_layer():
    first = _relu_names()[0]
    model = _model(layer_formulations={first: "partition"}, partitions=3)
    assert model.nn.partitions == 3
    with pytest.raises(pnn.errors.InvalidArgumentError, match="partitions"):
        _model(partitions=3)


@pytest.mark.parametrize(
    ("layer_formulations", "error"),
    [
        ({"dense_0": "sos1"}, pnn.errors.InvalidArgumentError),
        ({"nope": "sos1"}, pnn.errors.InvalidArgumentError),
        ("sos1", pnn.errors.InvalidArgumentTypeError),
    ],
)
def test_bad_layer_formulations_are_refused(layer_formulations, error):
    with pytest.raises(error):
        _model(layer_formulations=layer_formulations)


def test_unknown_formulation_name_is_refused():
    with pytest.raises(pnn.PyomoNNError, match="no_such"):
        _model(layer_formulations={_relu_names()[0]: "no_such"})


def test_a_mixed_block_pickles_and_clones():
    first = _relu_names()[0]
    model = _model(layer_formulations={first: "partition"})
    for copied in (pickle.loads(pickle.dumps(model)), model.clone()):
        assert copied.nn.layer_formulations == {first: "partition"}
        assert pnn.solve(copied, time_limit=60).verified
