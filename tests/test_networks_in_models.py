"""Networks inside the user's own model (issue 12): ``Network.scaled``, skl2onnx's ``Scaler``,
``NetworkBlock(..., inputs=, outputs=)`` and the composition patterns of
docs/networks-in-models.md, each solved and checked against a forward pass and onnxruntime,
``update_bounds``, every refused input, the reformer problem on every installed MILP solver,
and the two reformer examples."""

from __future__ import annotations

import copy
import itertools
import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pyomo.environ as pyo
import pytest
from onnx import TensorProto, helper, numpy_helper

import pyomo_nn as pnn
from pyomo_nn.blocks.network_block import network_blocks
from pyomo_nn.importers import load_onnx_bytes
from pyomo_nn.ir import Conv2d, Network, ReLU

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
TIME_LIMIT = 60

#: The reformer problem's optimum (maximise H2 s.t. N2 <= 0.34) with the shipped surrogate;
#: every solver must reach it to this (solvers' default feasibility tolerances: 1e-6).
REFORMER_H2 = 0.331816
REFORMER_ATOL = 1e-5
#: A grid point may beat a certified MILP optimum only by the solver's tolerances.
GRID_SLACK = 1e-6


def _mlp(sizes: list[int], seed: int) -> Network:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(b, a)) / np.sqrt(a) for a, b in itertools.pairwise(sizes)]
    return Network.mlp(weights, [rng.normal(size=b) * 0.1 for b in sizes[1:]])


def _onnx_mlp(tmp_path: Path, sizes: list[int], seed: int) -> Network:
    """A random MLP written to ONNX and loaded back: its re-checks run onnxruntime."""
    path = tmp_path / f"mlp_{seed}.onnx"
    pnn.save_onnx(_mlp(sizes, seed), path)
    return pnn.load_onnx(path)


def _values(variables: object) -> np.ndarray:
    items = variables.values() if hasattr(variables, "values") else variables
    return np.array([pyo.value(v) for v in items], dtype=np.float64)


def _grid(lower: list[float], upper: list[float], n: int = 121) -> np.ndarray:
    a, b = np.meshgrid(np.linspace(lower[0], upper[0], n), np.linspace(lower[1], upper[1], n))
    return np.column_stack([a.ravel(), b.ravel()])


def _assert_rechecked(result: pnn.Result, names: list[str]) -> None:
    assert result.status == "optimal" and result.verified
    assert sorted(result.blocks) == sorted(names)
    for check in result.blocks.values():
        assert check.reference == "onnxruntime" and check.matches


@pytest.fixture(scope="module")
def reformer() -> tuple[Network, dict]:
    scaling = json.loads((DATA / "reformer_scaling.json").read_text())
    net = pnn.load_onnx(DATA / "reformer_relu.onnx").scaled(
        input_offset=scaling["input_offset"],
        input_factor=scaling["input_factor"],
        output_offset=scaling["output_offset"],
        output_factor=scaling["output_factor"],
    )
    return net, scaling


def _reformer_model(net: Network, scaling: dict, bounds: object = None) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.bypass = pyo.Var(bounds=(0.1, 0.8))
    m.ratio = pyo.Var(bounds=(0.8, 1.2))
    m.y = pyo.Var(scaling["outputs"])
    m.reformer = pnn.NetworkBlock(net, bounds, inputs=[m.bypass, m.ratio], outputs=m.y)
    m.h2 = pyo.Objective(expr=m.y["H2"], sense=pyo.maximize)
    m.n2 = pyo.Constraint(expr=m.y["N2"] <= 0.34)
    return m


# -- Network.scaled ---------------------------------------------------------------------------------------
def test_scaled_network_is_the_network_between_the_scalings_and_rechecks_the_original_file(reformer):
    net, scaling = reformer
    original = pnn.load_onnx(DATA / "reformer_relu.onnx")
    assert [type(layer) for layer in net.layers] == [type(layer) for layer in original.layers]
    x = _grid(scaling["input_lower"], scaling["input_upper"], 7)
    scaled_x = (x - scaling["input_offset"]) / np.asarray(scaling["input_factor"])
    expected = original.forward(scaled_x) * scaling["output_factor"] + scaling["output_offset"]
    assert np.allclose(net.forward(x), expected, rtol=1e-12, atol=1e-9)
    session = ort.InferenceSession(str(DATA / "reformer_relu.onnx"), providers=["CPUExecutionProvider"])
    (ort_scaled,) = session.run(None, {"x_scaled": scaled_x.astype(np.float32)})
    by_file = ort_scaled * scaling["output_factor"] + scaling["output_offset"]
    assert np.allclose(net.source.run(x), by_file, rtol=1e-6)
    assert net.source.path == original.source.path


def test_scaling_goes_into_an_elementwise_layer_where_the_first_or_last_layer_cannot_take_it():
    conv = Conv2d("conv", "input", np.ones((2, 1, 2, 2)), np.zeros(2), (1, 3, 3))
    net = Network((conv, ReLU("relu", "conv")), (1, 3, 3))
    scaled = net.scaled(
        input_offset=0.5, input_factor=np.arange(1.0, 10.0), output_offset=1.0, output_factor=2.0
    )
    assert [type(layer).__name__ for layer in scaled.layers] == [
        "Elementwise",
        "Conv2d",
        "ReLU",
        "Elementwise",
    ]
    x = np.random.default_rng(0).uniform(-1, 1, (4, 9))
    assert np.allclose(scaled.forward(x), net.forward((x - 0.5) / np.arange(1.0, 10.0)) * 2.0 + 1.0)
    identity = net.scaled()
    assert [layer.name for layer in identity.layers] == ["conv", "relu"]


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"input_factor": [1.0, 0.0]}, pnn.errors.InvalidArgumentError, r"input_factor\[1\] is 0"),
        ({"output_factor": -2.0}, pnn.errors.InvalidArgumentError, "output_factor.*positive"),
        ({"input_offset": [0.0, np.nan]}, pnn.errors.InvalidArgumentError, r"input_offset\[1\] is nan"),
        ({"output_factor": np.inf}, pnn.errors.InvalidArgumentError, "output_factor.*finite"),
        (
            {"input_factor": [1.0, 2.0, 3.0]},
            pnn.errors.ShapeMismatchError,
            "input_factor has 3 values.*2 inputs",
        ),
        (
            {"output_offset": [0.0, 1.0]},
            pnn.errors.ShapeMismatchError,
            "output_offset has 2 values.*3 outputs",
        ),
        ({"input_offset": "mean"}, pnn.errors.InvalidArgumentTypeError, "input_offset"),
    ],
)
def test_bad_scaling_is_refused_naming_the_argument(arguments, error, match):
    with pytest.raises(error, match=match):
        _mlp([2, 4, 3], 0).scaled(**arguments)


# -- skl2onnx pipelines -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scaler", ["StandardScaler", "MinMaxScaler"])
def test_skl2onnx_pipeline_with_a_scaler_loads_folded_and_matches_sklearn_and_onnxruntime(tmp_path, scaler):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn import preprocessing
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(0)
    x = rng.uniform([0.0, 10.0, -5.0], [1.0, 50.0, 5.0], size=(300, 3))
    y = np.sin(3 * x[:, 0]) + x[:, 1] / 25 - 0.1 * x[:, 2]
    mlp = MLPRegressor(hidden_layer_sizes=(12, 12), max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = Pipeline([("scale", getattr(preprocessing, scaler)()), ("mlp", mlp)]).fit(x, y)
    model = skl2onnx.to_onnx(pipeline, x[:1].astype(np.float32))
    if scaler == "StandardScaler":
        assert "Scaler" in {node.op_type for node in model.graph.node}
    path = tmp_path / "pipeline.onnx"
    path.write_bytes(model.SerializeToString())
    net = pnn.load_onnx(path)
    assert type(net.layers[0]).__name__ == "Dense" and net.layers[0].name == "dense_0"
    samples = x[:50]
    assert np.allclose(net.forward(samples).ravel(), pipeline.predict(samples), rtol=1e-5, atol=1e-5)
    assert np.allclose(net.source.run(samples).ravel(), net.forward(samples).ravel(), rtol=1e-5, atol=1e-5)


#: Weights of the Gemm after the hand-made Scaler (2 outputs, 3 inputs) and its bias.
SCALER_WEIGHT = np.arange(6, dtype=np.float32).reshape(2, 3) / 5 - 0.4
SCALER_BIAS = np.array([0.1, -0.2], dtype=np.float32)


def _scaler_model(offset: list[float], scale: list[float], domain: str) -> onnx.ModelProto:
    """x (1 x 3) -> Scaler -> Gemm (3 -> 2) -> Relu -> y, with the Scaler in ``domain``."""
    nodes = [
        helper.make_node("Scaler", ["x"], ["s"], domain=domain, offset=offset, scale=scale),
        helper.make_node("Gemm", ["s", "w", "b"], ["g"], transB=1),
        helper.make_node("Relu", ["g"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "scaler",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        [numpy_helper.from_array(SCALER_WEIGHT, "w"), numpy_helper.from_array(SCALER_BIAS, "b")],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(domain, 1 if domain != "ai.onnx.ml" else 3)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model


@pytest.mark.parametrize(
    ("offset", "scale"),
    [([1.0, -2.0, 0.5], [2.0, 0.25, 4.0]), ([0.5], [3.0])],
    ids=["per-feature", "one value"],
)
def test_hand_made_scaler_node_folds_and_matches_onnxruntime(offset, scale):
    net = load_onnx_bytes(_scaler_model(offset, scale, "ai.onnx.ml").SerializeToString())
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "ReLU"]
    x = np.random.default_rng(0).uniform(-3, 3, (20, 3))
    expected = np.maximum(
        (x - offset) * np.asarray(scale) @ SCALER_WEIGHT.T.astype(np.float64) + SCALER_BIAS, 0
    )
    assert np.allclose(net.forward(x), expected, rtol=1e-6, atol=1e-6)
    assert np.allclose(net.source.run(x), expected, rtol=1e-5, atol=1e-5)


def test_scaler_of_another_domain_is_refused():
    model = _scaler_model([0.0], [1.0], "com.example")
    with pytest.raises(pnn.errors.UnsupportedOperatorError, match="Scaler"):
        load_onnx_bytes(model.SerializeToString())


# -- the block on the user's variables ----------------------------------------------------------------------
def test_scaled_block_reaches_the_optimum_of_the_network_with_manual_linking_rows(reformer):
    net, scaling = reformer
    m = _reformer_model(net, scaling)
    result = pnn.solve(m, time_limit=TIME_LIMIT, mip_gap=1e-9)
    _assert_rechecked(result, ["reformer"])
    assert m.reformer.component("input_range") is not None
    assert not [c for c in m.reformer.component_objects(pyo.Var, descend_into=False) if not c.is_reference()]

    original = pnn.load_onnx(DATA / "reformer_relu.onnx")
    offset, factor = np.asarray(scaling["input_offset"]), np.asarray(scaling["input_factor"])
    y_offset, y_factor = np.asarray(scaling["output_offset"]), np.asarray(scaling["output_factor"])
    box = pnn.Box(
        (np.array(scaling["input_lower"]) - offset) / factor,
        (np.array(scaling["input_upper"]) - offset) / factor,
    )
    manual = pyo.ConcreteModel()
    manual.x = pyo.Var(range(2), bounds=lambda _, i: (scaling["input_lower"][i], scaling["input_upper"][i]))
    manual.y = pyo.Var(range(12))
    manual.nn = pnn.NetworkBlock(original, pnn.compute_bounds(original, box))
    manual.link_in = pyo.Constraint(
        range(2), rule=lambda b, i: b.nn.inputs[i] == (b.x[i] - offset[i]) / factor[i]
    )
    manual.link_out = pyo.Constraint(
        range(12), rule=lambda b, k: b.y[k] == b.nn.outputs[k] * y_factor[k] + y_offset[k]
    )
    h2, n2 = scaling["outputs"].index("H2"), scaling["outputs"].index("N2")
    manual.h2 = pyo.Objective(expr=manual.y[h2], sense=pyo.maximize)
    manual.n2 = pyo.Constraint(expr=manual.y[n2] <= 0.34)
    reference = pnn.solve(manual, time_limit=TIME_LIMIT, mip_gap=1e-9)
    assert result.objective == pytest.approx(reference.objective, abs=1e-7)
    assert result.objective == pytest.approx(REFORMER_H2, abs=1e-6)
    x = np.array([pyo.value(m.bypass), pyo.value(m.ratio)])
    assert np.allclose(_values(m.y), net.forward(x), rtol=1e-7, atol=1e-6)
    grid = net.forward(_grid(scaling["input_lower"], scaling["input_upper"]))
    feasible = grid[:, n2] <= 0.34
    assert result.objective >= grid[feasible, h2].max() - GRID_SLACK


def test_block_refers_to_the_user_variables_and_exposes_valid_output_bounds(tmp_path):
    net = _onnx_mlp(tmp_path, [2, 8, 3], 1)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(-1, 1))
    m.y = pyo.Var(range(3))
    m.nn = pnn.NetworkBlock(net, "interval", inputs=m.x, outputs=m.y)
    assert m.nn.inputs[1] is m.x[1] and m.nn.outputs[2] is m.y[2]
    assert m.nn.input_vars() == [m.x[0], m.x[1]] and not m.nn.owns_inputs
    assert m.nn.bounds.method == "interval"
    lower, upper = m.nn.output_bounds()
    y = net.forward(_grid([-1, -1], [1, 1], 41))
    assert np.all(y >= lower) and np.all(y <= upper)
    assert m.y[0].lb is None and m.x[0].bounds == (-1, 1)  # the user's bounds are left alone


def test_chain_feeds_one_network_into_the_next_and_rechecks_both(tmp_path):
    first, second = _onnx_mlp(tmp_path, [2, 8, 3], 1), _onnx_mlp(tmp_path, [3, 8, 1], 2)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(-1, 1))
    m.h = pyo.Var(range(3))
    m.y = pyo.Var()
    m.second = pnn.NetworkBlock(second, inputs=m.h, domain=pnn.Box(-3, 3), outputs=[m.y])  # built first
    m.first = pnn.NetworkBlock(first, inputs=m.x, outputs=m.h)
    m.obj = pyo.Objective(expr=m.y, sense=pyo.maximize)
    ordered = network_blocks(m)
    assert [block.name for block in ordered] == ["first", "second"]  # upstream first
    for block in ordered:
        block.warm_start()  # as pnn.solve does: the second block starts from the first's outputs
    x = _values(m.x)
    assert np.allclose(_values(m.h), first.forward(x)) and pyo.value(m.y) == pytest.approx(
        second.forward(first.forward(x))[0]
    )
    result = pnn.solve(m, time_limit=TIME_LIMIT, mip_gap=1e-9)
    _assert_rechecked(result, ["first", "second"])
    assert list(result.blocks) == ["first", "second"]
    x = _values(m.x)
    assert pyo.value(m.y) == pytest.approx(second.forward(first.forward(x))[0], abs=1e-6)
    assert np.allclose(result.blocks["second"].x, first.forward(x), atol=1e-6)
    chained = second.forward(first.forward(_grid([-1, -1], [1, 1])))
    assert result.objective >= chained.max() - GRID_SLACK


def test_chain_takes_its_input_box_from_the_upstream_output_bounds(tmp_path):
    first, second = _onnx_mlp(tmp_path, [2, 8, 3], 1), _onnx_mlp(tmp_path, [3, 8, 1], 2)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(-1, 1))
    m.h = pyo.Var(range(3))
    m.y = pyo.Var()
    m.first = pnn.NetworkBlock(first, inputs=m.x, outputs=m.h)
    m.second = pnn.NetworkBlock(second, inputs=m.h, outputs=[m.y])
    assert np.allclose(m.second.input_box()[0], m.first.output_bounds()[0])
    assert np.allclose(m.second.input_box()[1], m.first.output_bounds()[1])
    m.obj = pyo.Objective(expr=m.y)
    result = pnn.solve(m, time_limit=TIME_LIMIT, mip_gap=1e-9)
    _assert_rechecked(result, ["first", "second"])
    chained = second.forward(first.forward(_grid([-1, -1], [1, 1])))
    assert result.objective <= chained.min() + GRID_SLACK


def test_shared_input_and_a_network_inside_a_constraint(tmp_path):
    a, b = _onnx_mlp(tmp_path, [2, 10, 1], 3), _onnx_mlp(tmp_path, [2, 10, 1], 4)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(-1, 1))
    m.ya, m.yb = pyo.Var(), pyo.Var()
    m.a = pnn.NetworkBlock(a, inputs=m.x, outputs=[m.ya])
    m.b = pnn.NetworkBlock(b, inputs=m.x, outputs=[m.yb])
    grid = _grid([-1, -1], [1, 1])
    ya, yb = a.forward(grid)[:, 0], b.forward(grid)[:, 0]
    limit = float(np.median(yb))
    m.limit = pyo.Constraint(expr=m.yb <= limit)
    m.obj = pyo.Objective(expr=m.ya, sense=pyo.maximize)
    result = pnn.solve(m, time_limit=TIME_LIMIT, mip_gap=1e-9)
    _assert_rechecked(result, ["a", "b"])
    assert np.array_equal(result.blocks["a"].x, result.blocks["b"].x)
    x = _values(m.x)
    assert b.forward(x)[0] <= limit + 1e-6
    assert result.objective == pytest.approx(a.forward(x)[0], abs=1e-6)
    assert result.objective >= ya[yb <= limit].max() - GRID_SLACK


def test_several_surrogates_give_a_robust_decision(tmp_path):
    nets = {name: _onnx_mlp(tmp_path, [2, 10, 1], seed) for name, seed in (("p", 5), ("q", 6), ("r", 7))}
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(-1, 1))
    m.pred = pyo.Var(list(nets))
    for name, net in nets.items():
        m.add_component(name, pnn.NetworkBlock(net, inputs=m.x, outputs=[m.pred[name]]))
    m.worst = pyo.Var()
    m.below = pyo.Constraint(list(nets), rule=lambda b, name: b.worst <= b.pred[name])
    m.obj = pyo.Objective(expr=m.worst, sense=pyo.maximize)
    result = pnn.solve(m, time_limit=TIME_LIMIT, mip_gap=1e-9)
    _assert_rechecked(result, list(nets))
    x = _values(m.x)
    assert result.objective == pytest.approx(min(net.forward(x)[0] for net in nets.values()), abs=1e-6)
    grid = _grid([-1, -1], [1, 1])
    worst = np.min([net.forward(grid)[:, 0] for net in nets.values()], axis=0)
    assert result.objective >= worst.max() - GRID_SLACK


def test_an_indexed_family_of_blocks_one_per_unit(tmp_path):
    net = _onnx_mlp(tmp_path, [2, 10, 2], 8)
    shared = pnn.compute_bounds(net, pnn.Box(-1, 1))
    m = pyo.ConcreteModel()
    m.units = pyo.Block(range(3))
    for u in range(3):
        unit = m.units[u]
        unit.x = pyo.Var(range(2), bounds=(-1, 1))
        unit.y = pyo.Var(range(2))
        unit.nn = pnn.NetworkBlock(net, shared, inputs=unit.x, outputs=unit.y)
        unit.x[0].fix(-1 + u)  # each unit runs at its own setting of input 0
    m.obj = pyo.Objective(expr=sum(m.units[u].y[0] for u in range(3)), sense=pyo.maximize)
    result = pnn.solve(m, time_limit=TIME_LIMIT, mip_gap=1e-9)
    _assert_rechecked(result, [f"units[{u}].nn" for u in range(3)])
    for u in range(3):
        line = np.column_stack([np.full(401, -1.0 + u), np.linspace(-1, 1, 401)])
        best = net.forward(line)[:, 0].max()
        assert pyo.value(m.units[u].y[0]) >= best - GRID_SLACK
        assert pyo.value(m.units[u].y[0]) == pytest.approx(net.forward(_values(m.units[u].x))[0], abs=1e-6)


def test_update_bounds_recomputes_the_constants_for_the_tightened_box(tmp_path):
    net = _onnx_mlp(tmp_path, [2, 16, 16, 1], 9)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(-2, 2))
    m.y = pyo.Var()
    m.nn = pnn.NetworkBlock(net, "interval", inputs=m.x, outputs=[m.y])
    m.obj = pyo.Objective(expr=m.y, sense=pyo.maximize)
    wide = m.nn.stats
    m.x[0].setub(0.0)
    m.x[1].setlb(0.5)
    bounds = m.nn.update_bounds()
    assert bounds is m.nn.bounds and bounds.method == "interval"
    assert np.array_equal(m.nn.input_box()[0], [-2.0, 0.5]) and np.array_equal(
        m.nn.input_box()[1], [0.0, 2.0]
    )
    assert sum(s.binaries for s in m.nn.stats) <= sum(s.binaries for s in wide)
    assert m.nn.inputs[0] is m.x[0] and m.nn.outputs[0] is m.y
    result = pnn.solve(m, time_limit=TIME_LIMIT, mip_gap=1e-9)
    _assert_rechecked(result, ["nn"])
    assert result.objective >= net.forward(_grid([-2, 0.5], [0, 2]))[:, 0].max() - GRID_SLACK
    m.nn.update_bounds("lp")
    assert m.nn.bounds.method == "lp"
    assert pnn.solve(m, time_limit=TIME_LIMIT, mip_gap=1e-9).objective == pytest.approx(
        result.objective, abs=1e-6
    )


def test_update_bounds_keeps_the_blocks_own_variables():
    net = _mlp([2, 6, 1], 10)
    m = pyo.ConcreteModel()
    m.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(-1, 1)))
    m.z = pyo.Var()
    m.tie = pyo.Constraint(expr=m.z == m.nn.outputs[0])
    inputs, outputs = m.nn.inputs, m.nn.outputs
    m.nn.inputs[0].setub(0.0)
    m.nn.update_bounds()
    assert m.nn.inputs is inputs and m.nn.outputs is outputs
    assert m.nn.input_box()[1][0] == 0.0
    m.obj = pyo.Objective(expr=m.z, sense=pyo.maximize)
    result = pnn.solve(m, time_limit=TIME_LIMIT)
    assert result.verified
    assert result.objective >= net.forward(_grid([-1, -1], [0, 1]))[:, 0].max() - GRID_SLACK


def test_model_with_user_variable_blocks_pickles_and_clones(tmp_path):
    first, second = _onnx_mlp(tmp_path, [2, 8, 3], 1), _onnx_mlp(tmp_path, [3, 8, 1], 2)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(-1, 1))
    m.h = pyo.Var(range(3))
    m.y = pyo.Var()
    m.first = pnn.NetworkBlock(first, inputs=m.x, outputs=m.h)
    m.second = pnn.NetworkBlock(second, inputs=m.h, outputs=[m.y])
    m.obj = pyo.Objective(expr=m.y, sense=pyo.maximize)
    result = pnn.solve(m, time_limit=TIME_LIMIT)
    for copied in (m.clone(), pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert copied.first.inputs[0] is copied.x[0] and copied.second.inputs[2] is copied.h[2]
        assert copied.second.outputs[0] is copied.y
        again = pnn.solve(copied, time_limit=TIME_LIMIT)
        assert again.objective == pytest.approx(result.objective, abs=1e-6) and again.verified


# -- bad input ----------------------------------------------------------------------------------------------
@pytest.fixture
def wired() -> tuple[pyo.ConcreteModel, Network]:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(-1, 1))
    m.free = pyo.Var(range(2))
    m.h = pyo.Var(range(3))
    m.y = pyo.Var(range(3))
    m.p = pyo.Param(initialize=1.0, mutable=True)
    m.first = pnn.NetworkBlock(_mlp([2, 4, 3], 0), inputs=m.x, outputs=m.h)
    return m, _mlp([3, 4, 2], 1)


def _components(m: pyo.ConcreteModel) -> list[str]:
    return [c.name for c in m.component_objects(descend_into=True)]


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        (
            lambda m: {"inputs": m.free, "outputs": m.y},
            pnn.errors.UnboundedDomainError,
            r"inputs\[0\] \(free\[0\]\)",
        ),
        (
            lambda m: {"inputs": [m.x[0]], "outputs": m.y},
            pnn.errors.ShapeMismatchError,
            "1 variable but.*2 inputs",
        ),
        (
            lambda m: {"inputs": m.x, "outputs": [m.y[0]]},
            pnn.errors.ShapeMismatchError,
            "outputs has 1.*3 outputs",
        ),
        (
            lambda m: {"inputs": [m.x[0], m.p], "outputs": m.y},
            pnn.errors.InvalidArgumentTypeError,
            r"inputs\[1\].*Param",
        ),
        (
            lambda m: {"inputs": [m.x[0], 2 * m.x[1]], "outputs": m.y},
            pnn.errors.InvalidArgumentTypeError,
            r"inputs\[1\]",
        ),
        (
            lambda m: {"inputs": m.x, "outputs": [m.y[0], m.y[1], 0.5]},
            pnn.errors.InvalidArgumentTypeError,
            r"outputs\[2\]",
        ),
        (lambda m: {"inputs": "x", "outputs": m.y}, pnn.errors.InvalidArgumentTypeError, "Pyomo variables"),
        (
            lambda m: {"inputs": m.x, "outputs": m.h},
            pnn.errors.InvalidArgumentError,
            r"already output 0 of block 'first'",
        ),
        (
            lambda m: {"inputs": m.x, "outputs": [m.y[0], m.y[0], m.y[1]]},
            pnn.errors.InvalidArgumentError,
            "also outputs",
        ),
        (
            lambda m: {"inputs": [m.y[0], m.x[1]], "outputs": m.y},
            pnn.errors.InvalidArgumentError,
            "cannot feed itself",
        ),
        (
            lambda m: {"inputs": m.x, "outputs": m.y, "bounds": "symbolik"},
            pnn.errors.InvalidArgumentError,
            "symbolik",
        ),
        (
            lambda m: {"inputs": m.x, "outputs": m.y, "bounds": 3},
            pnn.errors.InvalidArgumentTypeError,
            "bounds",
        ),
    ],
)
def test_bad_block_arguments_are_refused_and_leave_the_model_as_it_was(wired, arguments, error, match):
    m, _ = wired
    net = _mlp([2, 4, 3], 2)
    before = _components(m)
    with pytest.raises(error, match=match):
        m.second = pnn.NetworkBlock(net, **arguments(m))
    assert _components(m) == before


def test_a_cycle_of_blocks_is_refused_naming_the_blocks(wired):
    m, net = wired
    m.second = pnn.NetworkBlock(_mlp([3, 4, 3], 3), inputs=m.h, outputs=m.y)
    before = _components(m)
    with pytest.raises(pnn.errors.InvalidArgumentError, match=r"'first' -> 'second'.*cycle"):
        m.third = pnn.NetworkBlock(net.scaled(), inputs=[m.y[0], m.y[1], m.y[2]], outputs=[m.x[0], m.x[1]])
    assert _components(m) == before


def test_unbounded_inputs_work_with_a_domain_and_empty_boxes_are_refused(wired):
    m, _ = wired
    m.second = pnn.NetworkBlock(_mlp([2, 4, 3], 2), inputs=m.free, outputs=m.y, domain=pnn.Box(-0.5, 0.5))
    assert np.array_equal(m.second.input_box()[0], [-0.5, -0.5])
    m.tight = pyo.Var(range(2), bounds=(2, 3))
    m.out = pyo.Var(range(3))
    with pytest.raises(pnn.errors.EmptyDomainError, match=r"inputs\[0\] \(tight\[0\]\)"):
        pnn.NetworkBlock(_mlp([2, 4, 3], 2), inputs=m.tight, outputs=m.out, domain=pnn.Box(-1, 1))
    with pytest.raises(pnn.errors.InvalidArgumentTypeError, match="compute_bounds"):
        pnn.NetworkBlock(_mlp([2, 4, 3], 2))


# -- solvers ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["highs", "cbc", "glpk", "scip_direct"])
def test_reformer_problem_reaches_the_same_optimum_on_every_solver(reformer, solver):
    if solver not in pnn.available_solvers():
        pytest.skip(
            f"{solver} is not installed (scripts/test.sh installs CBC and GLPK; pip install pyscipopt)"
        )
    net, scaling = reformer
    m = _reformer_model(net, scaling)
    result = pnn.solve(m, solver, time_limit=TIME_LIMIT, mip_gap=1e-9)
    _assert_rechecked(result, ["reformer"])
    assert result.objective == pytest.approx(REFORMER_H2, abs=REFORMER_ATOL)
    assert pyo.value(m.bypass) == pytest.approx(0.1, abs=1e-4)
    assert pyo.value(m.ratio) == pytest.approx(1.12843, abs=1e-3)


# -- examples -----------------------------------------------------------------------------------------------
def _run_example(*args: str) -> str:
    completed = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_reformer_example_prints_the_decision_and_the_checks():
    out = _run_example("examples/reformer.py", "--time-limit", "30")
    assert "bypass fraction 0.10000, NG steam ratio 1.128" in out
    assert "onnxruntime at the decision:   H2 0.3318" in out
    assert "nearest simulated data point:  bypass fraction 0.10000, NG steam ratio 1.12632" in out
    assert "passed" in out


def test_reformer_plant_example_runs_two_trains_and_passes_its_checks(tmp_path):
    config = tmp_path / "solver.toml"
    config.write_text('[solver]\nname = "highs"\ntime_limit = 60\nmip_gap = 1e-6\n')
    out = _run_example("examples/reformer_plant.py", "--config", str(config))
    assert "optimal" in out and "passed" in out
    running = [line.split()[0] for line in out.splitlines() if line.split()[2:3] == ["yes"]]
    assert running == ["A", "B"]
    assert "= 8.372" in out
