"""``NetworkBlock``: a network as a Pyomo Block with the thesis' Big-M ReLU encoding.

For a hidden neuron with pre-activation ``a = W_j h_prev + b_j`` and bounds ``L <= a <= U``
the block adds (thesis (1.1)-(1.8)):

* split neuron (``L < 0 < U``): ``a = h - hbar``, ``h <= U z``, ``hbar <= -L (1 - z)``,
  ``h, hbar >= 0``, ``z`` binary;
* stable active (``L >= 0``): ``h = a``, no binary;
* stable dead (``U <= 0``): ``h`` fixed at 0, no constraint.

Components carry deterministic names taken from the IR layer names:
``inputs[i]`` and ``outputs[k]`` (flat C order), then ``layers[<relu name>].h/hbar/z`` and
the constraints ``linear``, ``pre_activation``, ``active_bound``, ``inactive_bound``.

Convolutional layers are encoded like dense ones, with only their non-zero terms: an affine
layer (Dense, Conv2d, AvgPool2d, Elementwise, Add) read only by ReLUs is written straight into
their constraints, any other gets variables ``<name>_values.y`` and equalities
``<name>_values.affine``. Max pools get binaries (:mod:`pyomo_nn.blocks.max_pool`, under
``layers[<maxpool name>]``); a Concat only joins the variables of its inputs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.block import ScalarBlock
from pyomo.core.expr.numeric_expr import LinearExpression

from pyomo_nn.blocks.components import bounded_var, constraint_rows
from pyomo_nn.blocks.max_pool import MaxPoolEncoding, encode_max_pool, warm_start_max_pool
from pyomo_nn.blocks.stats import LayerStats
from pyomo_nn.bounds import Bounds
from pyomo_nn.domains import InputDomain
from pyomo_nn.errors import InvalidArgumentTypeError, ShapeMismatchError, UnboundedDomainError
from pyomo_nn.ir import (
    INPUT,
    AffineLayer,
    Concat,
    MaxPool2d,
    Network,
    PiecewiseLayer,
    ReLU,
    SparseMatrix,
)

#: ``LayerStats.kind`` of each affine layer type.
_AFFINE_KINDS = {
    "Dense": "dense",
    "Conv2d": "conv",
    "AvgPool2d": "avgpool",
    "Elementwise": "scale",
    "Add": "add",
}


@dataclass(frozen=True)
class _LinearRows:
    """Expressions ``matrix @ vars + offset`` (sparse rows) not yet given variables of their own."""

    matrix: SparseMatrix
    offset: np.ndarray
    vars: list

    @classmethod
    def of_layer(cls, layer: AffineLayer, sources: list[list]) -> _LinearRows:
        """An affine layer's outputs over the variables of its inputs, one after another."""
        maps = [m if isinstance(m, SparseMatrix) else SparseMatrix.from_dense(m) for m in layer.linear_maps()]
        matrix = maps[0] if len(maps) == 1 else SparseMatrix.hstack(maps)
        return cls(matrix, layer.offset, [var for source in sources for var in source])

    @classmethod
    def identity(cls, variables: list) -> _LinearRows:
        return cls(SparseMatrix.identity(len(variables)), np.zeros(len(variables)), variables)

    def __deepcopy__(self, memo: dict[int, object]) -> _LinearRows:
        """A copy over the copied variables (``model.clone()``), sharing the constant arrays."""
        return replace(self, vars=copy.deepcopy(self.vars, memo))

    def expression(self, j: int) -> LinearExpression:
        columns, values = self.matrix.row(j)
        return LinearExpression(
            constant=float(self.offset[j]),
            linear_coefs=values.tolist(),
            linear_vars=[self.vars[i] for i in columns],
        )


class NetworkBlock(ScalarBlock):
    """A Pyomo Block computing ``outputs = network(inputs)`` for inputs in the bounds' domain.

    Use it like any Block: ``m.nn = NetworkBlock(net, bounds)``; several blocks may share a
    model, and the user's own constraints may tie ``inputs``/``outputs`` to anything.
    The inputs are bounded by the bounds' input box, or by ``domain`` when one is given (the
    bounds must then cover it, :meth:`Bounds.check_covers`).

    The block pickles and clones with its model: a clone shares the (immutable) network and
    bounds and refers to its own variables.
    """

    def __init__(self, network: Network, bounds: Bounds, domain: InputDomain | None = None) -> None:
        super().__init__(concrete=True)
        if not isinstance(bounds, Bounds):
            raise InvalidArgumentTypeError(
                f"NetworkBlock needs the network's Bounds, got {type(bounds).__name__}: compute them "
                "with pnn.compute_bounds(network, domain)"
            )
        bounds.check_matches(network, domain)
        self._network = network
        self._bounds = bounds
        self._input_box = _input_box(network, bounds, domain)
        self._stats: list[LayerStats] = []
        self._pre_activations: dict[str, tuple[_LinearRows, np.ndarray, np.ndarray]] = {}
        self._max_pools: dict[str, MaxPoolEncoding] = {}
        with PauseGC():  # millions of expression objects: collector passes would dominate the build
            self._build()

    @property
    def network(self) -> Network:
        return self._network

    @property
    def bounds(self) -> Bounds:
        return self._bounds

    @property
    def stats(self) -> tuple[LayerStats, ...]:
        return tuple(self._stats)

    def input_box(self) -> tuple[np.ndarray, np.ndarray]:
        """The (lower, upper) bounds the block gave its inputs: the domain's box if one was
        given, else the bounds' input box."""
        lower, upper = self._input_box
        return lower.copy(), upper.copy()

    def input_values(self) -> np.ndarray:
        """Current values of ``inputs`` as a flat array (after a solve: the solution)."""
        return _values(self.inputs, self._network.input_size)

    def output_values(self) -> np.ndarray:
        """Current values of ``outputs`` as a flat array (after a solve: the MILP's logits)."""
        return _values(self.outputs, self._network.output_size)

    def warm_start(self, x: np.ndarray | None = None) -> None:
        """Give every variable of the block its value at input ``x`` (a feasible point).

        ``x`` defaults to the current input values, with the domain's centre for inputs
        that have none; fixed inputs keep their value. Solvers that accept a MIP start
        (HiGHS, CBC, Gurobi, ...) then always hold an incumbent, even at a time limit.
        """
        net = self._network
        lower, upper = self._input_box
        centre = (lower + upper) / 2
        point = np.empty(net.input_size)
        for i in range(net.input_size):
            var = self.inputs[i]
            if var.fixed or (x is None and var.value is not None):
                point[i] = var.value
            else:
                point[i] = centre[i] if x is None else np.ravel(x)[i]
        values = {name: array[0] for name, array in net.activations(point).items()}
        _set(self.inputs, point)
        for layer in net.layers:
            if isinstance(layer, ReLU):
                pre = values[layer.inputs[0]]
                block = self.layers[layer.name]
                _set(block.h, np.maximum(pre, 0.0))
                _set(block.hbar, np.maximum(-pre, 0.0))
                _set(block.z, (pre > 0).astype(float))
            elif isinstance(layer, MaxPool2d):
                encoding = self._max_pools[layer.name]
                warm_start_max_pool(
                    self.layers[layer.name], encoding, values[layer.input], values[layer.name]
                )
            elif layer.name != net.layers[-1].name and self.component(f"{layer.name}_values") is not None:
                _set(self.component(f"{layer.name}_values").y, values[layer.name])
        _set(self.outputs, values[net.layers[-1].name])

    def pre_activation(self, layer_name: str, j: int) -> LinearExpression:
        """Pre-activation ``a_j`` of neuron j of ReLU layer ``layer_name`` as an expression:
        ``h - hbar`` for a split neuron, ``h`` for a stable active one, ``W h_prev + b`` for a
        dead one (whose ``h`` is fixed at 0)."""
        pre, lower, upper = self._pre_activations[layer_name]
        block = self.layers[layer_name]
        if lower[j] >= 0:
            return block.h[j]
        if upper[j] <= 0:
            return pre.expression(j)
        return block.h[j] - block.hbar[j]

    def pre_activation_bounds(self, layer_name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (lower, upper) pre-activation bounds the block used for ReLU layer ``layer_name``."""
        _, lower, upper = self._pre_activations[layer_name]
        return lower, upper

    def activation_state(self, layer_name: str, j: int) -> pyo.Var | int:
        """Whether neuron j of ReLU layer ``layer_name`` is active: its binary ``z`` if it is
        split, the constant 1 if it is stable active and 0 if it is dead."""
        _, lower, upper = self._pre_activations[layer_name]
        if lower[j] >= 0:
            return 1
        if upper[j] <= 0:
            return 0
        return self.layers[layer_name].z[j]

    def summary(self) -> str:
        """Per-layer table of neurons, stable/split counts and what was added."""
        lines = [
            f"{'layer':<14}{'kind':<9}{'neurons':>8}{'active':>8}{'dead':>6}{'split':>7}{'binaries':>9}"
            f"{'vars':>9}{'cons':>9}"
        ]
        for s in self._stats:
            lines.append(
                f"{s.name:<14}{s.kind:<9}{s.neurons:>8}{s.active:>8}{s.dead:>6}{s.split:>7}{s.binaries:>9}"
                f"{s.variables:>9}{s.constraints:>9}"
            )
        total_binaries = sum(s.binaries for s in self._stats)
        lines.append(f"binaries: {total_binaries}")
        return "\n".join(lines)

    # -- construction -------------------------------------------------------------
    def _build(self) -> None:
        net, bounds = self._network, self._bounds
        boxes = bounds.tensor_boxes(net)
        n_in = net.input_size
        self.inputs = bounded_var(range(n_in), *self._input_box)
        piecewise = [layer.name for layer in net.layers if isinstance(layer, PiecewiseLayer)]
        self.layers = pyo.Block(piecewise)
        tensors: dict[str, list | _LinearRows] = {INPUT: [self.inputs[i] for i in range(n_in)]}
        final = net.layers[-1].name
        for layer in net.layers:
            sources = [tensors[name] for name in layer.inputs]
            if isinstance(layer, AffineLayer):
                affine = _LinearRows.of_layer(layer, [_as_vars(source) for source in sources])
                feeds_only_relus = all(isinstance(c, ReLU) for c in net.consumers(layer.name))
                if layer.name == final or not feeds_only_relus:
                    tensors[layer.name] = self._affine_outputs(
                        layer, affine, boxes[layer.name], layer.name == final
                    )
                else:
                    tensors[layer.name] = affine
            elif isinstance(layer, ReLU):
                tensors[layer.name] = self._relu(layer, sources[0], *boxes[layer.input])
            elif isinstance(layer, MaxPool2d):
                tensors[layer.name], encoding = encode_max_pool(
                    self.layers[layer.name], layer, _as_vars(sources[0]), *boxes[layer.input]
                )
                self._max_pools[layer.name] = encoding
                self._stats.append(encoding.stats)
            elif isinstance(layer, Concat):
                tensors[layer.name] = [var for source in sources for var in _as_vars(source)]
        if not isinstance(net.layers[-1], AffineLayer):
            self._copy_to_outputs(tensors[final], boxes[final])

    def _affine_outputs(self, layer: AffineLayer, affine: _LinearRows, box: tuple, is_output: bool) -> list:
        n = box[0].size
        var = bounded_var(range(n), *box)
        if is_output:
            self.outputs = var
            owner = self
        else:
            owner = pyo.Block()
            self.add_component(f"{layer.name}_values", owner)
            owner.y = var
        owner.affine = constraint_rows(range(n), lambda k: (0.0, affine.expression(k) - var[k], 0.0))
        self._stats.append(LayerStats(layer.name, _AFFINE_KINDS[type(layer).__name__], n, 0, 0, 0, n, n))
        return [var[k] for k in range(n)]

    def _relu(self, layer: ReLU, source: list | _LinearRows, lower: np.ndarray, upper: np.ndarray) -> list:
        block = self.layers[layer.name]
        pre = source if isinstance(source, _LinearRows) else _LinearRows.identity(source)
        self._pre_activations[layer.name] = (pre, lower, upper)
        n = lower.size
        active = np.flatnonzero(lower >= 0).tolist()
        dead = np.flatnonzero(upper <= 0).tolist()
        split = np.flatnonzero((lower < 0) & (upper > 0)).tolist()
        block.h = bounded_var(range(n), np.zeros(n), np.maximum(upper, 0.0))
        for j in dead:
            block.h[j].fix(0.0)
        block.linear = constraint_rows(active, lambda j: (0.0, pre.expression(j) - block.h[j], 0.0))
        block.hbar = bounded_var(split, np.zeros(n), -lower)
        block.z = pyo.Var(split, domain=pyo.Binary)
        block.pre_activation = constraint_rows(
            split, lambda j: (0.0, pre.expression(j) - block.h[j] + block.hbar[j], 0.0)
        )
        block.active_bound = constraint_rows(
            split, lambda j: block.h[j] - float(upper[j]) * block.z[j] <= 0.0
        )
        block.inactive_bound = constraint_rows(
            split, lambda j: block.hbar[j] + float(lower[j]) * (1 - block.z[j]) <= 0.0
        )
        variables = n - len(dead) + 2 * len(split)
        constraints = len(active) + 3 * len(split)
        self._stats.append(
            LayerStats(
                layer.name, "relu", n, len(active), len(dead), len(split), variables, constraints, len(split)
            )
        )
        return [block.h[j] for j in range(n)]

    def _copy_to_outputs(self, values: list, box: tuple) -> None:
        self.outputs = bounded_var(range(len(values)), *box)
        self.output_copy = constraint_rows(range(len(values)), lambda k: self.outputs[k] == values[k])


def _input_box(network: Network, bounds: Bounds, domain: InputDomain | None) -> tuple[np.ndarray, np.ndarray]:
    """The inputs' box: the domain's, clipped to the bounds' box (which covers it up to a
    rounding tolerance, so the Big-M constants hold everywhere in it), else the bounds' box."""
    n_in = network.input_size
    lower, upper = bounds.input_lower, bounds.input_upper
    if lower.size != n_in:
        raise ShapeMismatchError(f"bounds have {lower.size} inputs but the network has {n_in}")
    if domain is not None:
        domain_lower, domain_upper = domain.box(n_in)
        lower, upper = np.maximum(domain_lower, lower), np.minimum(domain_upper, upper)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise UnboundedDomainError(
            "the domain leaves some inputs unbounded, so no Big-M constant exists; "
            "give every input finite lower and upper bounds (e.g. Box(0, 1))"
        )
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def _as_vars(source: list | _LinearRows) -> list:
    if isinstance(source, _LinearRows):
        raise ShapeMismatchError("internal: a layer reads another layer's un-materialised output")
    return source


def _set(var: pyo.Var, values: np.ndarray) -> None:
    """Set the values of the (non-fixed) members of an indexed Var from a full-length array."""
    for index in var:
        if not var[index].fixed:
            var[index].set_value(float(values[index]), skip_validation=True)


def _values(var: pyo.Var, size: int) -> np.ndarray:
    return np.array([pyo.value(var[i], exception=False) or 0.0 for i in range(size)], dtype=np.float64)
