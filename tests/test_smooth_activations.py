"""Smooth hidden activations (Sigmoid, Tanh, Softplus): OMLT's test networks load and match
onnxruntime, and OMLT's sigmoid network is minimised exactly by SCIP (a global optimum, the
point a grid search finds) and refused by MILP solvers before the solve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from pyomo_nn.errors import SolverCapabilityError
from pyomo_nn.ir import Sigmoid, Softplus, Tanh
from pyomo_nn.solvers.checked_solve import LOCAL_OPTIMUM

#: OMLT's own test networks (omlt/tests/models), copied unchanged.
OMLT = Path(__file__).parent / "data" / "omlt"

#: Agreement of the importer's numpy forward pass with onnxruntime (float32 files).
FORWARD_ATOL = 1e-5

#: The sigmoid network's minimiser: SCIP's point against a grid search, and its value.
POINT_ATOL = 1e-3
VALUE_ATOL = 1e-6

BOX = (-2.0, 2.0)


@pytest.mark.parametrize("path", sorted(OMLT.glob("*.onnx")), ids=lambda path: path.stem)
def test_omlt_networks_load_and_match_onnxruntime(path):
    net = pnn.load_onnx(path)
    x = np.random.default_rng(0).uniform(-1, 1, size=(64, net.input_size))
    reference = net.source.run(x)
    scale = max(1.0, float(np.max(np.abs(reference))))
    assert np.max(np.abs(net.forward(x) - reference)) <= FORWARD_ATOL * scale


def test_all_six_omlt_networks_are_there():
    assert len(list(OMLT.glob("*.onnx"))) == 6


def test_the_sigmoid_network_has_a_hidden_sigmoid_layer():
    net = pnn.load_onnx(OMLT / "keras_linear_131_sigmoid.onnx")
    assert [type(layer) for layer in net.layers][1] is Sigmoid


def _sigmoid_model(formulation: str = "bigm") -> pyo.ConcreteModel:
    net = pnn.load_onnx(OMLT / "keras_linear_131_sigmoid.onnx")
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(
        net, domain=pnn.Box(np.full(1, BOX[0]), np.full(1, BOX[1])), formulation=formulation
    )
    model.obj = pyo.Objective(expr=model.nn.outputs[0], sense=pyo.minimize)
    return model


def _grid_minimum() -> tuple[float, float]:
    net = pnn.load_onnx(OMLT / "keras_linear_131_sigmoid.onnx")
    grid = np.linspace(*BOX, 400001)[:, None]
    values = net.forward(grid)[:, 0]
    best = int(np.argmin(values))
    return float(grid[best, 0]), float(values[best])


@pytest.mark.skipif("scip_direct" not in pnn.available_solvers(), reason="SCIP (pyscipopt) is not installed")
@pytest.mark.parametrize("formulation", ["bigm", "complementarity"])
def test_scip_minimises_the_sigmoid_network_globally(formulation):
    model = _sigmoid_model(formulation)
    result = pnn.solve(model, solver="scip_direct", time_limit=120)
    point, value = _grid_minimum()
    assert result.status == "optimal" and result.verified, result
    assert result.dual_bound == pytest.approx(result.objective, abs=VALUE_ATOL)
    assert result.x[0] == pytest.approx(point, abs=POINT_ATOL)
    assert result.objective == pytest.approx(value, abs=VALUE_ATOL)


def _ipopt_usable() -> bool:
    """Ipopt through cyipopt (pyomo-nn's own adapter, solvers/ipopt_adapter.py)."""
    return "cyipopt" in pnn.available_solvers()


IPOPT_MISSING = "Ipopt needs cyipopt (scripts/test.sh installs it where it can)"


@pytest.mark.skipif(not _ipopt_usable(), reason=IPOPT_MISSING)
def test_ipopt_reaches_the_same_point_as_a_local_optimum():
    model = _sigmoid_model("complementarity")
    result = pnn.solve(model, solver="cyipopt", time_limit=120)
    point, _ = _grid_minimum()
    assert LOCAL_OPTIMUM in result.message and result.dual_bound is None
    assert result.x[0] == pytest.approx(point, abs=POINT_ATOL)


@pytest.mark.parametrize("solver", ["highs", "cbc", "glpk"])
def test_milp_solvers_are_refused_naming_the_layer_kind(solver):
    with pytest.raises(SolverCapabilityError, match="sigmoid") as error:
        pnn.solve(_sigmoid_model(), solver=solver)
    assert "scip_direct" in str(error.value)


@pytest.mark.parametrize("kind", [Sigmoid, Tanh, Softplus])
def test_symbolic_bounds_through_a_smooth_layer_are_sound_and_tighter_than_interval(kind):
    rng = np.random.default_rng(4)
    layers = (
        pnn.ir.Dense("d0", pnn.ir.INPUT, rng.normal(size=(6, 3)), rng.normal(size=6)),
        kind("s", "d0"),
        pnn.ir.Dense("d1", "s", rng.normal(size=(6, 6)), rng.normal(size=6)),
        kind("s1", "d1"),
        pnn.ir.Dense("out", "s1", rng.normal(size=(2, 6)), rng.normal(size=2)),
    )
    net = pnn.Network(layers, (3,))
    domain = pnn.Box(-np.ones(3), np.ones(3))
    interval = pnn.compute_bounds(net, domain, "interval")
    symbolic = pnn.compute_bounds(net, domain, "symbolic")
    x = rng.uniform(-1, 1, size=(2000, 3))
    values = net.activations(x)
    for name in ("d1", "out"):
        low, high = symbolic.of(name)
        assert np.all(values[name] >= low) and np.all(values[name] <= high)
        i_low, i_high = interval.of(name)
        assert np.all(low >= i_low) and np.all(high <= i_high)


# -- LeakyReLU: piecewise linear, one binary per split neuron -------------------------------------
def _leaky_net() -> pnn.Network:
    rng = np.random.default_rng(7)
    layers = (
        pnn.ir.Dense("d0", pnn.ir.INPUT, rng.normal(size=(8, 3)), rng.normal(size=8) * 0.3),
        pnn.ir.LeakyReLU("leaky", "d0", 0.2),
        pnn.ir.Dense("out", "leaky", rng.normal(size=(1, 8)), rng.normal(size=1)),
    )
    return pnn.Network(layers, (3,))


@pytest.mark.parametrize(
    ("formulation", "solver"),
    [
        ("bigm", "highs"),
        ("partition", "highs"),
        ("sos1", "cbc"),
        ("sos1", "scip_direct"),
        ("complementarity", "scip_direct"),
    ],
)
def test_leaky_relu_maximum_in_every_formulation(formulation, solver):
    if solver not in pnn.available_solvers():
        pytest.skip(f"{solver} is not installed")
    net = _leaky_net()
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, domain=pnn.Box(-np.ones(3), np.ones(3)), formulation=formulation)
    model.obj = pyo.Objective(expr=model.nn.outputs[0], sense=pyo.maximize)
    result = pnn.solve(model, solver=solver, time_limit=60, mip_gap=0.0)  # compared to 1e-5
    assert result.status == "optimal" and result.verified, result
    reference = pnn.solve(_leaky_reference(net), solver="highs", mip_gap=0.0).objective
    assert result.objective == pytest.approx(reference, abs=1e-5)
    samples = net.forward(np.random.default_rng(1).uniform(-1, 1, size=(5000, 3)))
    assert result.objective >= samples.max() - 1e-9


def _leaky_reference(net: pnn.Network) -> pyo.ConcreteModel:
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, domain=pnn.Box(-np.ones(3), np.ones(3)))
    model.obj = pyo.Objective(expr=model.nn.outputs[0], sense=pyo.maximize)
    return model


def test_leaky_relu_slope_outside_0_1_is_refused_by_the_importer(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from pyomo_nn.errors import UnsupportedOperatorError

    graph = helper.make_graph(
        [helper.make_node("LeakyRelu", ["x"], ["y"], alpha=1.5)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    )
    path = tmp_path / "leaky.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(UnsupportedOperatorError, match="alpha"):
        pnn.load_onnx(path)
