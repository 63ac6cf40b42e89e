"""Bad input gets its own exception type and a message that names the problem."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyomo.environ as pyo
import pytest
from onnx import helper

import pyomo_nn as pnn
from conftest import DATA, make_onnx, random_mlp

W = np.ones((3, 2), dtype=np.float32)


def test_missing_file(tmp_path):
    with pytest.raises(pnn.ModelFileNotFoundError, match="not found"):
        pnn.load_onnx(tmp_path / "nope.onnx")


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"this is not protobuf \x00\xff")
    with pytest.raises(pnn.InvalidONNXError, match="not a valid ONNX model"):
        pnn.load_onnx(path)


def test_unsupported_op_names_op_node_and_supported_list(tmp_path):
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["g"], name="dense"),
        helper.make_node("Tanh", ["g"], ["y"], name="squash"),
    ]
    path = make_onnx(tmp_path, nodes, {"w": W}, ["N", 3])
    with pytest.raises(pnn.UnsupportedOperatorError) as info:
        pnn.load_onnx(path)
    message = str(info.value)
    assert "Tanh" in message and "squash" in message and "Gemm" in message and "Relu" in message


def test_softmax_in_the_middle_is_refused(tmp_path):
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"], name="early_softmax"),
        helper.make_node("Gemm", ["s", "w"], ["y"], name="dense"),
    ]
    path = make_onnx(tmp_path, nodes, {"w": W}, ["N", 3])
    with pytest.raises(pnn.UnsupportedOperatorError, match="only as the last operation"):
        pnn.load_onnx(path)


def test_nonlinear_product_is_refused(tmp_path):
    nodes = [helper.make_node("Mul", ["x", "x"], ["y"], name="square")]
    path = make_onnx(tmp_path, nodes, {}, ["N", 3])
    with pytest.raises(pnn.UnsupportedOperatorError, match="nonlinear"):
        pnn.load_onnx(path)


def test_nan_weights(tmp_path):
    bad = W.copy()
    bad[0, 0] = np.nan
    path = make_onnx(tmp_path, [helper.make_node("Gemm", ["x", "w"], ["y"], name="g")], {"w": bad}, ["N", 3])
    with pytest.raises(pnn.InvalidWeightsError, match="NaN or infinite"):
        pnn.load_onnx(path)


def test_nan_weights_in_code():
    with pytest.raises(pnn.InvalidWeightsError, match="dense_0"):
        pnn.Network.mlp([np.array([[np.inf]])], [np.zeros(1)])


def test_layer_shape_mismatch_in_code():
    with pytest.raises(pnn.ShapeMismatchError, match="expects 2 inputs"):
        pnn.Network.mlp([np.ones((3, 2)), np.ones((1, 2))], [np.zeros(3), np.zeros(1)])


def test_input_shape_mismatch_with_the_domain():
    net = pnn.load_onnx(DATA / "acasxu_test_sat.onnx")
    with pytest.raises(pnn.ShapeMismatchError, match="network has 5 inputs"):
        pnn.compute_bounds(net, pnn.LinfBall(np.zeros(7), eps=0.1))
    with pytest.raises(pnn.ShapeMismatchError, match="5 values per sample"):
        net.forward(np.zeros(7))


def test_empty_domain():
    with pytest.raises(pnn.EmptyDomainError, match="lower > upper"):
        pnn.Box([0.0, 1.0], [1.0, 0.5])
    with pytest.raises(pnn.EmptyDomainError, match="LinfBall"):
        pnn.LinfBall(np.array([2.0, 2.0]), eps=0.1, lower=0.0, upper=1.0)
    with pytest.raises(pnn.EmptyDomainError, match="eps"):
        pnn.LinfBall(np.zeros(2), eps=-1.0)


def test_unbounded_domain_has_no_bounds_and_no_block():
    net = random_mlp([2, 3, 1])
    with pytest.raises(pnn.UnboundedDomainError, match="finite"):
        pnn.compute_bounds(net, pnn.Box(0, np.inf))
    finite = pnn.compute_bounds(net, pnn.Box(0, 1))
    unbounded = dataclasses.replace(finite, input_upper=np.array([1.0, np.inf]))
    with pytest.raises(pnn.UnboundedDomainError, match="finite"):
        pnn.NetworkBlock(net, unbounded)


def test_unknown_bound_method():
    net = random_mlp([2, 3, 1])
    with pytest.raises(ValueError, match="interval"):
        pnn.compute_bounds(net, pnn.Box(0, 1), method="magic")


def _small_model():
    net = random_mlp([2, 4, 2], seed=1)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(0, 1)))
    model.obj = pyo.Objective(expr=model.nn.outputs[0])
    return model


def test_infeasible_model_keeps_the_solver_report():
    model = _small_model()
    model.impossible = pyo.Constraint(expr=model.nn.inputs[0] >= 2.0)
    with pytest.raises(pnn.InfeasibleModelError, match="infeasible") as info:
        pnn.solve(model, time_limit=10)
    assert info.value.result.status == "infeasible"


def test_unknown_solver_lists_available_ones():
    with pytest.raises(pnn.SolverUnavailableError, match="highs"):
        pnn.solve(_small_model(), "no_such_solver")


def test_known_but_missing_solver():
    missing = next(
        (name for name in ("cplex", "xpress", "gurobi") if name not in pnn.available_solvers()), None
    )
    if missing is None:
        pytest.skip("every commercial solver probed is installed here")
    with pytest.raises(pnn.SolverUnavailableError, match="not installed"):
        pnn.solve(_small_model(), missing)


def test_bounds_of_another_network_are_refused():
    net_a, net_b = random_mlp([2, 3, 1], seed=0), random_mlp([2, 3, 1], seed=1)
    bounds = pnn.compute_bounds(net_a, pnn.Box(0, 1))
    with pytest.raises(pnn.StaleBoundsError, match="different network"):
        pnn.NetworkBlock(net_b, bounds)


def test_bad_solver_config(tmp_path):
    path = tmp_path / "solver.toml"
    path.write_text('[solver]\nname = "highs"\ntimelimit = 3\n')
    with pytest.raises(pnn.SolverConfigError, match="timelimit"):
        pnn.SolverConfig.from_file(path)
    with pytest.raises(pnn.SolverConfigError, match="time_limit"):
        pnn.SolverConfig(time_limit=-1)
