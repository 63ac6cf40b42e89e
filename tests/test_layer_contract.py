"""The layer-kind contract: every kind of :data:`EXAMPLES` through every stage.

Each example is a small network around one layer kind (reading an affine layer and read by
one, so its bounds matter). For each it checks, independently of the stage's own code:

* export: the exported ONNX file run by onnxruntime equals ``forward`` (forward vs the ONNX
  semantics), and importing that file again gives the same function (round trip);
* interval: every tensor's box holds the values of sampled inputs (uniform and corners);
* naive, interval, symbolic, alpha (where the kind has an alpha step) and lp bounds hold the
  sampled pre-activations;
* LP/MILP relaxation rows: with the input fixed, the MILP bounds of the output equal the
  forward pass and the LP bounds contain it;
* the block, in every encoding of the piecewise kinds: with the input fixed, a feasibility
  solve finds the forward pass, and the warm start at that input satisfies every row;
* the attack's gradient equals finite differences;
* pruning zeroes the weights of the kinds that have them.

A new kind is covered by adding one entry to :data:`EXAMPLES`; the tests at the end fail
when a registered kind has no example or a listed kind misses a stage.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from pyomo_nn import units
from pyomo_nn.blocks.encoding import ENCODING_INFO, ENCODINGS
from pyomo_nn.bounds.alpha import ALPHA_STEPS, supports_alpha
from pyomo_nn.bounds.backends import HighsBackend
from pyomo_nn.bounds.executors import InlineExecutor
from pyomo_nn.bounds.relaxation import LP_ROWS, layer_problem
from pyomo_nn.exporters import to_onnx
from pyomo_nn.importers import load_onnx_bytes
from pyomo_nn.ir import (
    INPUT,
    Add,
    AvgPool2d,
    Concat,
    Conv2d,
    Dense,
    Elementwise,
    LeakyReLU,
    MaxPool2d,
    Network,
    Pad,
    ReLU,
    Role,
    Sigmoid,
    Sign,
    Slice,
    Softplus,
    Tanh,
    Transpose,
)
from pyomo_nn.ir.gradients import GradientNetwork
from pyomo_nn.ir.kinds import TABLES
from pyomo_nn.solvers.capabilities import REFUSED_BY
from pyomo_nn.tolerances import IMPORT_MATCH_ATOL, LP_BOUND_ABS, LP_BOUND_REL
from pyomo_nn.transforms.rounder import PRUNED_WEIGHTS, weighted_layers

#: Bound methods checked by sampling (``alpha`` only where the network supports it).
METHODS = ("naive", "interval", "symbolic", "alpha", "lp")

#: Sampled inputs per check: uniform points and as many box corners.
SAMPLES = 200

#: Slack for values computed two ways in float64 (the forward pass vs a solver's point).
SOLVER_ATOL = 1e-6


@dataclass(frozen=True)
class Example:
    """A small network in which layer ``kind`` appears (``build(rng)``)."""

    kind: type
    build: Callable[[np.random.Generator], Network]

    @property
    def id(self) -> str:
        return self.kind.__name__


def _weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[1:]))


def _dense(rng: np.random.Generator) -> Network:
    return Network.mlp(
        [_weights(rng, 5, 4), _weights(rng, 3, 5)], [rng.normal(size=5) * 0.3, rng.normal(size=3)]
    )


def _elementwise(rng: np.random.Generator) -> Network:
    layers = (
        Dense("dense_0", INPUT, _weights(rng, 5, 4), rng.normal(size=5) * 0.3),
        ReLU("relu_0", "dense_0"),
        Elementwise("scale", "relu_0", rng.uniform(-2, 2, size=5), rng.normal(size=5) * 0.3),
        ReLU("relu_1", "scale"),
        Dense("out", "relu_1", _weights(rng, 2, 5), rng.normal(size=2)),
    )
    return Network(layers, (4,))


def _relu(rng: np.random.Generator) -> Network:
    sizes = (4, 6, 5, 3)
    weights = [_weights(rng, n_out, n_in) for n_in, n_out in itertools.pairwise(sizes)]
    return Network.mlp(weights, [rng.normal(size=n) * 0.3 for n in sizes[1:]])


def _conv2d(rng: np.random.Generator) -> Network:
    layers = (
        Conv2d(
            "conv",
            INPUT,
            _weights(rng, 4, 1, 3, 3),
            rng.normal(size=4) * 0.3,
            (2, 5, 5),
            strides=(2, 1),
            pads=(1, 0, 1, 2),
            groups=2,
        ),
        ReLU("relu", "conv"),
        Dense("out", "relu", _weights(rng, 2, 4 * 3 * 5), rng.normal(size=2)),
    )
    return Network(layers, (2, 5, 5))


def _max_pool2d(rng: np.random.Generator) -> Network:
    layers = (
        Conv2d("conv", INPUT, _weights(rng, 2, 2, 1, 1), rng.normal(size=2) * 0.3, (2, 4, 4)),
        MaxPool2d("pool", "conv", (2, 4, 4), (2, 2), strides=(1, 2), pads=(0, 0, 1, 0)),
        Dense("out", "pool", _weights(rng, 2, 2 * 4 * 2), rng.normal(size=2)),
    )
    return Network(layers, (2, 4, 4))


def _avg_pool2d(rng: np.random.Generator) -> Network:
    layers = (
        Conv2d("conv", INPUT, _weights(rng, 2, 1, 2, 2), rng.normal(size=2) * 0.3, (1, 4, 4)),
        ReLU("relu_0", "conv"),
        AvgPool2d("pool", "relu_0", (2, 3, 3), (2, 2), pads=(0, 0, 1, 1), count_include_pad=False),
        ReLU("relu_1", "pool"),
        Dense("out", "relu_1", _weights(rng, 2, 18), rng.normal(size=2)),
    )
    return Network(layers, (1, 4, 4))


def _add(rng: np.random.Generator) -> Network:
    layers = (
        Dense("dense_0", INPUT, _weights(rng, 4, 4), rng.normal(size=4) * 0.3),
        ReLU("relu_0", "dense_0"),
        Dense("dense_1", "relu_0", _weights(rng, 4, 4), rng.normal(size=4) * 0.3),
        Add("add", ("relu_0", "dense_1"), 4),
        ReLU("relu_1", "add"),
        Dense("out", "relu_1", _weights(rng, 2, 4), rng.normal(size=2)),
    )
    return Network(layers, (4,))


def _concat(rng: np.random.Generator) -> Network:
    layers = (
        Conv2d("conv_0", INPUT, _weights(rng, 1, 1, 2, 2), rng.normal(size=1) * 0.3, (1, 3, 3)),
        ReLU("relu_0", "conv_0"),
        Conv2d("conv_1", INPUT, _weights(rng, 2, 1, 2, 2), rng.normal(size=2) * 0.3, (1, 3, 3)),
        Concat("concat", ("relu_0", "conv_1")),
        ReLU("relu_1", "concat"),
        Dense("out", "relu_1", _weights(rng, 2, 12), rng.normal(size=2)),
    )
    return Network(layers, (1, 3, 3))


def _transpose(rng: np.random.Generator) -> Network:
    layers = (
        Transpose("nhwc", INPUT, (2, 3, 4), (0, 2, 1)),
        Conv2d("conv", "nhwc", _weights(rng, 3, 2, 2, 2), rng.normal(size=3) * 0.3, (2, 4, 3)),
        Transpose("moved", "conv", (3, 3, 2), (1, 2, 0)),
        ReLU("relu", "moved"),
        Transpose("back", "relu", (3, 2, 3), (2, 1, 0)),
        Dense("out", "back", _weights(rng, 2, 18), rng.normal(size=2)),
    )
    return Network(layers, (2, 3, 4))


def _pad(rng: np.random.Generator) -> Network:
    layers = (
        Conv2d("conv_0", INPUT, _weights(rng, 2, 1, 2, 2), rng.normal(size=2) * 0.3, (1, 4, 4)),
        Pad("constant", "conv_0", (2, 3, 3), (0, 1, -1, 0, 0, 1), value=0.5),
        ReLU("relu_0", "constant"),
        Pad("reflect", "relu_0", (2, 4, 3), (0, 1, 1, 0, 0, 1), mode="reflect"),
        Conv2d("conv_1", "reflect", _weights(rng, 2, 2, 2, 2), rng.normal(size=2) * 0.3, (2, 5, 5)),
        ReLU("relu_1", "conv_1"),
        Pad("edge", "relu_1", (2, 4, 4), (0, 0, 0, 0, 1, 1), mode="edge"),
        MaxPool2d("pool", "edge", (2, 5, 5), (2, 2), strides=(2, 2)),
        Dense("out", "pool", _weights(rng, 2, 8), rng.normal(size=2)),
    )
    return Network(layers, (1, 4, 4))


def _slice(rng: np.random.Generator) -> Network:
    layers = (
        Conv2d("conv", INPUT, _weights(rng, 3, 1, 2, 2), rng.normal(size=3) * 0.3, (1, 5, 5)),
        Slice("channels", "conv", (3, 4, 4), (1,), (10,), (0,)),
        ReLU("relu", "channels"),
        Slice("reversed", "relu", (2, 4, 4), (-1, 3), (-100, 0), (2, 1), (-2, -1)),
        Dense("out", "reversed", _weights(rng, 2, 12), rng.normal(size=2)),
    )
    return Network(layers, (1, 5, 5))


def _smooth(kind: type) -> Callable[[np.random.Generator], Network]:
    def build(rng: np.random.Generator) -> Network:
        layers = (
            Dense("dense_0", INPUT, _weights(rng, 5, 4) * 2, rng.normal(size=5) * 0.3),
            kind("smooth_0", "dense_0"),
            Dense("dense_1", "smooth_0", _weights(rng, 4, 5) * 2, rng.normal(size=4) * 0.3),
            ReLU("relu", "dense_1"),
            Dense("out", "relu", _weights(rng, 2, 4), rng.normal(size=2)),
        )
        return Network(layers, (4,))

    return build


def _leaky_relu(rng: np.random.Generator) -> Network:
    layers = (
        Dense("dense_0", INPUT, _weights(rng, 6, 4), rng.normal(size=6) * 0.3),
        LeakyReLU("leaky_0", "dense_0", 0.1),
        Dense("dense_1", "leaky_0", _weights(rng, 5, 6), rng.normal(size=5) * 0.3),
        LeakyReLU("leaky_1", "dense_1", 0.3),
        Dense("out", "leaky_1", _weights(rng, 2, 5), rng.normal(size=2)),
    )
    return Network(layers, (4,))


def example_layer(net: Network, example: Example) -> object:
    return next(layer for layer in net.layers if type(layer) is example.kind)


def _sign(rng: np.random.Generator) -> Network:
    """A binarised net as training exports it: Sign, + 0.5, Sign (+1 for >= 0, else -1)."""
    layers = (
        Dense("dense_0", INPUT, _weights(rng, 5, 4) * 2, rng.normal(size=5) * 0.3),
        Sign("sign_0", "dense_0"),
        Elementwise("half", "sign_0", np.ones(5), np.full(5, 0.5)),
        Sign("sign_1", "half"),
        Dense("out", "sign_1", _weights(rng, 2, 5), rng.normal(size=2)),
    )
    return Network(layers, (4,))


#: One small network per layer kind: add an entry for a new kind.
EXAMPLES = [
    Example(Dense, _dense),
    Example(Elementwise, _elementwise),
    Example(ReLU, _relu),
    Example(Conv2d, _conv2d),
    Example(MaxPool2d, _max_pool2d),
    Example(AvgPool2d, _avg_pool2d),
    Example(Add, _add),
    Example(Concat, _concat),
    Example(Transpose, _transpose),
    Example(Pad, _pad),
    Example(Slice, _slice),
    Example(Sign, _sign),
    Example(Sigmoid, _smooth(Sigmoid)),
    Example(Tanh, _smooth(Tanh)),
    Example(Softplus, _smooth(Softplus)),
    Example(LeakyReLU, _leaky_relu),
]

examples = pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.id)

#: The block's tests run for every encoding of the piecewise kinds.
encodings = pytest.mark.parametrize("encoding", sorted(ENCODINGS))


def _network(example: Example) -> Network:
    net = example.build(np.random.default_rng(len(example.id)))
    assert any(type(layer) is example.kind for layer in net.layers), f"the example has no {example.id} layer"
    return net


def _domain(net: Network) -> pnn.LinfBall:
    centre = np.random.default_rng(1).uniform(-0.5, 0.5, size=net.input_size)
    return pnn.LinfBall(centre, eps=0.5)


def _samples(domain: pnn.LinfBall, size: int, seed: int = 2) -> np.ndarray:
    lower, upper = domain.box(size)
    rng = np.random.default_rng(seed)
    corners = np.where(rng.random((SAMPLES, size)) < 0.5, lower, upper)
    return np.vstack([rng.uniform(lower, upper, size=(SAMPLES, size)), corners])


def _exported(net: Network) -> Network:
    return load_onnx_bytes(to_onnx(net).SerializeToString(), label="exported")


def _assert_close_to(reference: np.ndarray, values: np.ndarray, what: str) -> None:
    scale = max(1.0, float(np.max(np.abs(reference))))
    difference = float(np.max(np.abs(values - reference)))
    assert difference <= IMPORT_MATCH_ATOL * scale, f"{what} differs by {difference:.3e}"


# -- export and forward ---------------------------------------------------------------------------
@examples
def test_forward_matches_onnxruntime_on_the_export(example):
    net = _network(example)
    x = _samples(_domain(net), net.input_size)
    _assert_close_to(_exported(net).source.run(x), net.forward(x), "numpy forward vs onnxruntime")


@examples
def test_export_round_trip_gives_the_same_network(example):
    net = _network(example)
    x = _samples(_domain(net), net.input_size)
    again = _exported(net)
    _assert_close_to(net.forward(x), again.forward(x), "the re-imported export")


# -- bounds ---------------------------------------------------------------------------------------
@examples
def test_interval_boxes_hold_every_tensor(example):
    net = _network(example)
    domain = _domain(net)
    lower, upper = domain.box(net.input_size)
    boxes = net.interval_boxes(lower, upper, {})
    for name, values in net.activations(_samples(domain, net.input_size)).items():
        low, high = boxes[name]
        assert np.all(values >= low - 1e-12) and np.all(values <= high + 1e-12), f"tensor {name!r}"


@examples
@pytest.mark.parametrize("method", METHODS)
def test_bounds_hold_the_sampled_pre_activations(example, method):
    net = _network(example)
    if example.kind in ALPHA_STEPS:
        assert supports_alpha(net), f"the {example.id} example does not exercise its alpha step"
    if method == "alpha" and not supports_alpha(net):
        pytest.skip("alpha takes Dense/ReLU chains")
    domain = _domain(net)
    bounds = pnn.compute_bounds(net, domain, method, executor=InlineExecutor())
    values = net.activations(_samples(domain, net.input_size))
    for layer in net.affine_layers:
        low, high = bounds.of(layer.name)
        value = values[layer.name]
        assert np.all(value >= low) and np.all(value <= high), f"{method} bounds of {layer.name!r}"


@examples
def test_relaxation_rows_with_the_input_fixed_give_the_forward_pass(example):
    net = _network(example)
    domain = _domain(net)
    bounds = pnn.compute_bounds(net, domain, "symbolic")
    x = _samples(domain, net.input_size)[3]
    target = net.affine_layers[-1]
    expected = net.activations(x)[target.name][0]
    boxes = bounds.tensor_boxes(net)
    boxes[INPUT] = (x, x)
    for integer in (True, False):
        backend = HighsBackend(layer_problem(net, boxes, target, integer=integer))
        for j, value in enumerate(expected):
            high, low = backend.bound(j, True, None), backend.bound(j, False, None)
            slack = LP_BOUND_ABS + LP_BOUND_REL * abs(value) + SOLVER_ATOL
            assert low - slack <= value <= high + slack, f"{'MILP' if integer else 'LP'} rows, output {j}"
            if integer and getattr(LP_ROWS.stage_for(example_layer(net, example)), "exact", True):
                assert high - low <= 2 * slack, f"MILP rows with a fixed input leave output {j} open"


# -- the block ------------------------------------------------------------------------------------
def _fixed_input_model(net: Network, x: np.ndarray, encoding: str) -> pyo.ConcreteModel:
    domain = _domain(net)
    model = pyo.ConcreteModel()
    bounds = pnn.compute_bounds(net, domain, "symbolic")
    model.nn = pnn.NetworkBlock(net, bounds, domain, formulation=encoding)
    for i, value in enumerate(x):
        model.nn.inputs[i].fix(float(value))
    return model


def _solver_for(encoding: str, needs: frozenset[str]) -> str:
    """The first installed solver the encoding suits that takes what the block needs (skips
    without one)."""
    available = pnn.available_solvers()
    suited = [
        name
        for name in ENCODING_INFO[encoding].solvers
        if name in available and not any(name in REFUSED_BY[need] for need in needs)
    ]
    if not suited:
        pytest.skip(f"no solver for the {encoding} encoding is installed")
    return suited[0]


@examples
@encodings
def test_block_with_the_input_fixed_is_the_forward_pass(example, encoding):
    net = _network(example)
    x = _samples(_domain(net), net.input_size)[5]
    model = _fixed_input_model(net, x, encoding)
    result = pnn.solve(model, solver=_solver_for(encoding, model.nn.requirements()), time_limit=30)
    assert result.status == "optimal", result
    assert np.allclose(model.nn.output_values(), net.forward(x), rtol=0, atol=SOLVER_ATOL)


@examples
@encodings
def test_warm_start_satisfies_every_row(example, encoding):
    net = _network(example)
    x = _samples(_domain(net), net.input_size)[7]
    model = _fixed_input_model(net, x, encoding)
    model.nn.warm_start(x)
    for row in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(row.body)
        assert (row.lower is None or body >= pyo.value(row.lower) - 1e-9) and (
            row.upper is None or body <= pyo.value(row.upper) + 1e-9
        ), f"row {row.name} violated at the warm start"
    for var in model.component_data_objects(pyo.Var):
        assert var.value is not None, f"{var.name} has no warm-start value"


# -- the attack's gradient and pruning ------------------------------------------------------------
@examples
def test_gradient_matches_finite_differences(example):
    net = _network(example)
    rng = np.random.default_rng(3)
    x = _samples(_domain(net), net.input_size)[:3]
    direction = rng.normal(size=(x.shape[0], net.output_size))
    gradient = GradientNetwork(net).input_gradient(net.activations(x), direction, leak=0.0)
    step = 1e-6
    for i in range(net.input_size):
        shift = np.zeros(net.input_size)
        shift[i] = step
        numeric = np.sum(direction * (net.forward(x + shift) - net.forward(x - shift)), axis=1) / (2 * step)
        assert np.allclose(gradient[:, i], numeric, rtol=1e-4, atol=1e-5), f"input {i}"


@examples
def test_pruning_zeroes_the_weights_of_kinds_that_have_them(example):
    net = _network(example)
    weighted = [layer for layer in weighted_layers(net) if type(layer) is example.kind]
    if example.kind not in PRUNED_WEIGHTS:
        assert not weighted
        return
    assert weighted, f"the {example.id} example has no weights to prune"
    sparsity = pnn.sparsity(pnn.prune(net, percent=50))
    zeros, total = sum(entry.zeros for entry in sparsity), sum(entry.total for entry in sparsity)
    assert zeros >= round(total / 2) and total == sum(entry.total for entry in pnn.sparsity(net))


# -- every kind, every stage ----------------------------------------------------------------------
def test_every_registered_kind_has_an_example():
    listed = {example.kind for example in EXAMPLES}
    missing = [kind.__name__ for kind in units.KINDS if kind not in listed]
    assert not missing, f"add these kinds to EXAMPLES in tests/test_layer_contract.py: {missing}"


@examples
def test_every_kind_has_every_required_stage(example):
    missing = [table.stage for table in TABLES if table.required and example.kind not in table]
    if example.kind.role is Role.PIECEWISE:
        missing += [f"{name} encoding" for name, table in ENCODINGS.items() if example.kind not in table]
    assert not missing, f"{example.id} has no entry for: {missing} (register them in its unit)"
