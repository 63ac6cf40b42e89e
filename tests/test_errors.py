"""Bad input gets its own exception type and a message that names the problem."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest
from onnx import helper

import pyomo_nn as pnn
import pyomo_nn.errors
from conftest import DATA, make_onnx, random_mlp
from pyomo_nn import objectives as obj
from pyomo_nn.bundled import load_digits_network
from pyomo_nn.cli.outputs import check_output_file
from pyomo_nn.vnnlib.bench import read_instances

W = np.ones((3, 2), dtype=np.float32)


def test_missing_file(tmp_path):
    with pytest.raises(pnn.errors.ModelFileNotFoundError, match="not found"):
        pnn.load_onnx(tmp_path / "nope.onnx")


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"this is not protobuf \x00\xff")
    with pytest.raises(pnn.errors.InvalidONNXError, match="not a valid ONNX model"):
        pnn.load_onnx(path)


def test_unsupported_op_names_op_node_and_supported_list(tmp_path):
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["g"], name="dense"),
        helper.make_node("Erf", ["g"], ["y"], name="squash"),
    ]
    path = make_onnx(tmp_path, nodes, {"w": W}, ["N", 3])
    with pytest.raises(pnn.errors.UnsupportedOperatorError) as info:
        pnn.load_onnx(path)
    message = str(info.value)
    assert "Erf" in message and "squash" in message and "Gemm" in message and "Relu" in message


def test_softmax_in_the_middle_is_refused(tmp_path):
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"], name="early_softmax"),
        helper.make_node("Gemm", ["s", "w"], ["y"], name="dense"),
    ]
    path = make_onnx(tmp_path, nodes, {"w": W}, ["N", 3])
    with pytest.raises(pnn.errors.UnsupportedOperatorError, match="only as the last operation"):
        pnn.load_onnx(path)


def test_nonlinear_product_is_refused(tmp_path):
    nodes = [helper.make_node("Mul", ["x", "x"], ["y"], name="square")]
    path = make_onnx(tmp_path, nodes, {}, ["N", 3])
    with pytest.raises(pnn.errors.UnsupportedOperatorError, match="nonlinear"):
        pnn.load_onnx(path)


def test_nan_weights(tmp_path):
    bad = W.copy()
    bad[0, 0] = np.nan
    path = make_onnx(tmp_path, [helper.make_node("Gemm", ["x", "w"], ["y"], name="g")], {"w": bad}, ["N", 3])
    with pytest.raises(pnn.errors.InvalidWeightsError, match="NaN or infinite"):
        pnn.load_onnx(path)


def test_nan_weights_in_code():
    with pytest.raises(pnn.errors.InvalidWeightsError, match="dense_0"):
        pnn.Network.mlp([np.array([[np.inf]])], [np.zeros(1)])


def test_layer_shape_mismatch_in_code():
    with pytest.raises(pnn.errors.ShapeMismatchError, match="expects 2 inputs"):
        pnn.Network.mlp([np.ones((3, 2)), np.ones((1, 2))], [np.zeros(3), np.zeros(1)])


def test_input_shape_mismatch_with_the_domain():
    net = pnn.load_onnx(DATA / "acasxu_test_sat.onnx")
    with pytest.raises(pnn.errors.ShapeMismatchError, match="network has 5 inputs"):
        pnn.compute_bounds(net, pnn.LinfBall(np.zeros(7), eps=0.1))
    with pytest.raises(pnn.errors.ShapeMismatchError, match="5 values per sample"):
        net.forward(np.zeros(7))


def test_empty_domain():
    with pytest.raises(pnn.errors.EmptyDomainError, match="lower > upper"):
        pnn.Box([0.0, 1.0], [1.0, 0.5])
    with pytest.raises(pnn.errors.EmptyDomainError, match="LinfBall"):
        pnn.LinfBall(np.array([2.0, 2.0]), eps=0.1, lower=0.0, upper=1.0)
    with pytest.raises(pnn.errors.EmptyDomainError, match="eps"):
        pnn.LinfBall(np.zeros(2), eps=-1.0)


def test_unbounded_domain_has_no_bounds_and_no_block():
    net = random_mlp([2, 3, 1])
    with pytest.raises(pnn.errors.UnboundedDomainError, match="finite"):
        pnn.compute_bounds(net, pnn.Box(0, np.inf))
    finite = pnn.compute_bounds(net, pnn.Box(0, 1))
    unbounded = dataclasses.replace(finite, input_upper=np.array([1.0, np.inf]))
    with pytest.raises(pnn.errors.UnboundedDomainError, match="finite"):
        pnn.NetworkBlock(net, unbounded)


def test_unknown_bound_method():
    net = random_mlp([2, 3, 1])
    with pytest.raises(pnn.errors.InvalidArgumentError, match="interval"):
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
    with pytest.raises(pnn.errors.InfeasibleModelError, match="infeasible") as info:
        pnn.solve(model, time_limit=10)
    assert info.value.result.status == "infeasible"


def test_unknown_solver_lists_available_ones():
    with pytest.raises(pnn.errors.SolverUnavailableError, match="highs"):
        pnn.solve(_small_model(), "no_such_solver")


def test_known_but_missing_solver():
    missing = next(
        (name for name in ("cplex", "xpress", "gurobi") if name not in pnn.available_solvers()), None
    )
    if missing is None:
        pytest.skip("every commercial solver probed is installed here")
    with pytest.raises(pnn.errors.SolverUnavailableError, match="not installed"):
        pnn.solve(_small_model(), missing)


def test_bounds_of_another_network_are_refused():
    net_a, net_b = random_mlp([2, 3, 1], seed=0), random_mlp([2, 3, 1], seed=1)
    bounds = pnn.compute_bounds(net_a, pnn.Box(0, 1))
    with pytest.raises(pnn.errors.StaleBoundsError, match="different network"):
        pnn.NetworkBlock(net_b, bounds)


def test_bad_solver_config(tmp_path):
    path = tmp_path / "solver.toml"
    path.write_text('[solver]\nname = "highs"\ntimelimit = 3\n')
    with pytest.raises(pnn.errors.SolverConfigError, match="timelimit"):
        pnn.SolverConfig.from_file(path)
    with pytest.raises(pnn.errors.SolverConfigError, match="time_limit"):
        pnn.SolverConfig(time_limit=-1)


# --- typed errors for every bad argument (issue 10, part 4) -----------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda net: pnn.compute_bounds(net, pnn.Box(0, 1), method="symbolik"),
            pnn.errors.InvalidArgumentError,
            "symbolic",
        ),
        (lambda net: pnn.compute_bounds(net, None), pnn.errors.InvalidArgumentTypeError, "input domain"),
        (
            lambda net: pnn.compute_bounds(net, pnn.Box(0, 1), time_limit=0),
            pnn.errors.InvalidArgumentError,
            "positive",
        ),
        (
            lambda net: pnn.compute_bounds(net, pnn.Box(0, 1), time_limit=-1),
            pnn.errors.InvalidArgumentError,
            "None",
        ),
        (lambda net: pnn.prune(net, percent=150), pnn.errors.InvalidArgumentError, "between 0 and 100"),
        (lambda net: pnn.prune(net, eps=-1), pnn.errors.InvalidArgumentError, ">= 0"),
        (lambda net: pnn.prune(net, eps=float("nan")), pnn.errors.InvalidArgumentError, ">= 0"),
        (lambda net: pnn.prune(net), pnn.errors.InvalidArgumentError, "exactly one"),
        (
            lambda net: pnn.prune(net, percent="5"),
            pnn.errors.InvalidArgumentTypeError,
            "percent must be a number",
        ),
        (lambda net: pnn.Box("a", 1), pnn.errors.InvalidArgumentTypeError, "Box lower"),
        (lambda net: pnn.LinfBall(np.zeros(2), "0.1"), pnn.errors.InvalidArgumentTypeError, "eps"),
        (lambda net: pnn.LinfBall("abc", 0.1), pnn.errors.InvalidArgumentTypeError, "centre"),
        (
            lambda net: pnn.Neighbourhood(np.zeros((4, 4)), 0.1, radius=1.5),
            pnn.errors.InvalidArgumentError,
            "whole",
        ),
        (
            lambda net: pnn.Neighbourhood(np.zeros((4, 4)), 0.1, radius="2"),
            pnn.errors.InvalidArgumentTypeError,
            "radius",
        ),
    ],
    ids=[
        "method",
        "domain-none",
        "time-limit-0",
        "time-limit-negative",
        "percent-150",
        "eps-negative",
        "eps-nan",
        "no-amount",
        "percent-str",
        "box-str",
        "eps-str",
        "centre-str",
        "radius-fraction",
        "radius-str",
    ],
)
def test_bad_arguments_raise_typed_errors(call, error, message):
    """Each raised a bare ValueError/TypeError, or nothing (time_limit=0 meant 'no limit', a
    fractional radius was truncated, eps=NaN pruned nothing)."""
    with pytest.raises(error, match=message) as info:
        call(random_mlp([2, 3, 1]))
    assert isinstance(info.value, pnn.PyomoNNError)


def test_argument_errors_still_match_the_builtin_they_replace():
    assert issubclass(pnn.errors.InvalidArgumentError, ValueError)
    assert issubclass(pnn.errors.InvalidArgumentTypeError, TypeError)
    assert issubclass(pnn.errors.InvalidArgumentTypeError, ValueError)
    assert issubclass(pnn.errors.OutputFileError, OSError)


def test_binary_vnnlib_file_is_an_invalid_vnnlib_error(tmp_path):
    path = tmp_path / "prop.vnnlib"
    path.write_bytes(b"\xff\xfe(declare-const X_0 Real)")
    with pytest.raises(pnn.errors.InvalidVnnlibError, match="not a text file") as info:
        pnn.load_vnnlib(path)
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_bad_result_files_are_invalid_vnnlib_errors(tmp_path):
    from pyomo_nn.vnnlib import read_result_file

    with pytest.raises(pnn.errors.InvalidVnnlibError, match="not found"):
        read_result_file(tmp_path / "missing.txt")
    gap = tmp_path / "gap.txt"
    gap.write_text("sat\n((X_0 1.0)\n (X_2 3.0))\n")
    with pytest.raises(pnn.errors.InvalidVnnlibError, match="X_1"):
        read_result_file(gap)
    word = tmp_path / "word.txt"
    word.write_text("sat\n((X_0 abc))\n")
    with pytest.raises(pnn.errors.InvalidVnnlibError, match="not a number"):
        read_result_file(word)


def test_bad_benchmark_csv_files_are_input_file_errors(tmp_path):
    from pyomo_nn.vnnlib.bench import read_expected

    header = tmp_path / "header.csv"
    header.write_text("net,prop,result\na,b,sat\n")
    with pytest.raises(pnn.errors.InputFileError, match="network or property"):
        read_expected(header)
    short = tmp_path / "short.csv"
    short.write_text("a,b\n")
    with pytest.raises(pnn.errors.InputFileError, match=r"short\.csv:1"):
        read_expected(short)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(pnn.errors.InputFileError, match="not a readable CSV"):
        read_instances(binary)
    zero = tmp_path / "zero.csv"
    zero.write_text("net.onnx,prop.vnnlib,0\n")
    with pytest.raises(pnn.errors.InputFileError, match="positive"):
        read_instances(zero)


def test_run_benchmark_honours_the_solver(tmp_path, monkeypatch):
    """run_benchmark took ``solver=`` and dropped it: every instance ran on HiGHS."""
    from pyomo_nn.vnnlib import bench

    seen = []

    def fake_verify(network, spec, timeout, **settings):
        seen.append(settings.get("solver"))
        raise pnn.errors.SolverUnavailableError("stop here")

    monkeypatch.setattr(bench, "verify_property", fake_verify)
    vnnlib = DATA / "vnnlib"
    instance = bench.Instance(vnnlib / "test_nano.onnx", vnnlib / "test_nano.vnnlib", 10.0)
    with pytest.raises(pnn.errors.SolverUnavailableError):
        bench.run_benchmark([instance], solver="cbc")
    assert seen == ["cbc"]


# --- the error table of docs/getting-started.md ------------------------------------------------

GETTING_STARTED = Path(__file__).resolve().parents[1] / "docs" / "getting-started.md"


def documented_exceptions() -> list[str]:
    """The exception named first in each row of the getting-started error table."""
    text = GETTING_STARTED.read_text()
    section = text[text.index("## 6. Errors") :]
    section = section[: section.index("\n## ", 1)]
    table = section[: section.index("### ")] if "### " in section else section
    return re.findall(r"^\|[^|]*\|\s*`(\w+)`", table, flags=re.MULTILINE)


def error_classes() -> list[type]:
    return [
        cls
        for _, cls in inspect.getmembers(pyomo_nn.errors, inspect.isclass)
        if issubclass(cls, pnn.PyomoNNError) and cls is not pnn.PyomoNNError
    ]


def test_every_documented_exception_exists_and_is_exported():
    names = documented_exceptions()
    assert len(names) >= 20
    for name in names:
        cls = getattr(pyomo_nn.errors, name, None)
        assert cls is not None, f"the docs name {name}, which pyomo_nn.errors does not define"
        assert issubclass(cls, pnn.PyomoNNError) and getattr(pnn.errors, name) is cls


def test_every_error_class_is_documented():
    """The table left out seven of the classes (e.g. StaleBoundsError, InvalidVnnlibError)."""
    missing = {cls.__name__ for cls in error_classes()} - set(documented_exceptions())
    assert not missing, f"add these to the error table of docs/getting-started.md: {sorted(missing)}"


def _two_nets_bounds_mismatch():
    bounds = pnn.compute_bounds(random_mlp([2, 3, 1], seed=0), pnn.Box(0, 1))
    pnn.NetworkBlock(random_mlp([2, 3, 1], seed=1), bounds)


def _bounds_over_a_smaller_box():
    net = random_mlp([2, 3, 1])
    pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(0, 0.5)), pnn.Box(0, 1))


def _infeasible_solve():
    model = _small_model()
    model.impossible = pyo.Constraint(expr=model.nn.inputs[0] >= 2.0)
    pnn.solve(model, time_limit=10)


def _not_onnx(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"this is not protobuf \x00\xff")
    pnn.load_onnx(path)


def _unsupported_op(tmp_path):
    pnn.load_onnx(make_onnx(tmp_path, [helper.make_node("Erf", ["x"], ["y"], name="t")], {}, ["N", 3]))


def _minlp_to_highs():
    a = pnn.Network.mlp([np.array([[1.0], [0.0]])], [np.zeros(2)])
    pnn.Comparison(a, a, pnn.Box(-1, 2)).solve(obj.MaxDiff(space="probabilities"), "highs")


def _fit(X, y, hidden=(1,), time_limit=10):
    from pyomo_nn import training

    training.fit_mip(
        training.BinarizedMLP(hidden=hidden), np.asarray(X), np.asarray(y), time_limit=time_limit
    )


#: One situation of each row of the table, reproduced; the exact class is asserted.
#: SolverFailedError needs a failing solver: tests/test_solver_runtime.py reproduces it.
TABLE_ROWS = {
    "ModelFileNotFoundError": lambda tmp: pnn.load_onnx(tmp / "nope.onnx"),
    "InvalidONNXError": _not_onnx,
    "UnsupportedOperatorError": _unsupported_op,
    "InvalidWeightsError": lambda tmp: pnn.Network.mlp([np.array([[np.inf]])], [np.zeros(1)]),
    "ShapeMismatchError": lambda tmp: pnn.compute_bounds(
        random_mlp([2, 3, 1]), pnn.LinfBall(np.zeros(7), 0.1)
    ),
    "IncompatibleNetworksError": lambda tmp: pnn.Comparison(
        random_mlp([2, 3, 2]), random_mlp([3, 3, 2]), pnn.Box(0, 1)
    ).solve(obj.MaxDiff()),
    "StaleBoundsError": lambda tmp: _two_nets_bounds_mismatch(),
    "EmptyDomainError": lambda tmp: pnn.LinfBall(np.zeros(2), eps=-1.0),
    "UnboundedDomainError": lambda tmp: pnn.compute_bounds(random_mlp([2, 3, 1]), pnn.Box(0, np.inf)),
    "UnsupportedNetworkError": lambda tmp: pnn.compute_bounds(
        pnn.load_onnx(DATA / "torch_cnn_legacy.onnx"), pnn.Box(0, 1), method="alpha"
    ),
    "InvalidArgumentError": lambda tmp: pnn.prune(random_mlp([2, 3, 1]), percent=150),
    "InvalidArgumentTypeError": lambda tmp: pnn.compute_bounds(random_mlp([2, 3, 1]), None),
    "ObjectiveConfigError": lambda tmp: obj.get("maxdif"),
    "InvalidVnnlibError": lambda tmp: pnn.load_vnnlib(tmp / "missing.vnnlib"),
    "InputFileError": lambda tmp: read_instances(tmp / "instances.csv"),
    "OutputFileError": lambda tmp: check_output_file(str(tmp / "missing" / "out.npz"), "--out"),
    "SolverUnavailableError": lambda tmp: pnn.solve(_small_model(), "no_such_solver"),
    "SolverConfigError": lambda tmp: pnn.SolverConfig(time_limit=0),
    "SolverCapabilityError": lambda tmp: _minlp_to_highs(),
    "InfeasibleModelError": lambda tmp: _infeasible_solve(),
    "TrainingDataError": lambda tmp: _fit([[0.0, np.nan], [1.0, 0.0]], [0, 1]),
    "TrainingInfeasibleError": lambda tmp: _fit([[0.0, 1.0], [0.0, 1.0]], [0, 1]),
    "NoTrainedNetworkError": lambda tmp: _fit(
        np.random.default_rng(0).random((60, 64)), np.arange(60) % 10, hidden=(8,), time_limit=1e-3
    ),
}


@pytest.mark.parametrize("name", sorted(TABLE_ROWS))
def test_each_row_of_the_error_table_is_raised_as_documented(name, tmp_path):
    assert name in documented_exceptions(), f"{name} is not in the error table"
    with pytest.raises(pnn.PyomoNNError) as info:
        TABLE_ROWS[name](tmp_path)
    assert type(info.value).__name__ == name


def test_the_table_has_a_reproduction_for_every_row():
    assert set(documented_exceptions()) - set(TABLE_ROWS) == {"SolverFailedError"}


def test_stale_bounds_row_also_covers_bounds_over_a_smaller_box():
    with pytest.raises(pnn.errors.StaleBoundsError, match="does not contain the domain"):
        _bounds_over_a_smaller_box()


def test_library_file_errors_are_typed(tmp_path):
    net = load_digits_network()
    bounds = pnn.compute_bounds(net, pnn.Box(0, 1))
    missing = tmp_path / "no_such_folder" / "x"
    with pytest.raises(pnn.errors.OutputFileError, match="no_such_folder"):
        bounds.save(f"{missing}.npz")
    with pytest.raises(pnn.errors.OutputFileError, match="no_such_folder"):
        pnn.save_onnx(net, f"{missing}.onnx")
    with pytest.raises(pnn.errors.InputFileError, match="file not found"):
        pnn.Bounds.load(f"{missing}.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(pnn.errors.InputFileError, match="not readable"):
        pnn.Bounds.load(garbage)


def test_bad_library_arguments_are_typed():
    net = load_digits_network()
    with pytest.raises(pnn.errors.InvalidArgumentError, match="no bundled network"):
        load_digits_network("64-1-10")
    with pytest.raises(pnn.errors.InvalidArgumentTypeError):
        net.forward("abc")
    with pytest.raises(pnn.errors.InvalidArgumentTypeError, match="compute_bounds"):
        pnn.NetworkBlock(net, None)
    with pytest.raises(pnn.errors.InvalidArgumentError, match="output_activation"):
        pnn.Network(net.layers, net.input_shape, output_activation="tanh")
