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
``<name>_values.affine``. Max pools get binaries (Fischetti & Jo, under
``layers[<maxpool name>]``); a data-movement layer (Concat, Transpose, Slice, Pad) only
re-arranges the variables of its inputs (a Pad's constant is a fixed variable
``<name>_fill``).

How each layer kind enters the block is its entry in :data:`BLOCK_STAGES`, registered by its
unit in :mod:`pyomo_nn.units`: :class:`AffineStage` for the affine kinds, :data:`MOVED` for the
data-movement kinds and :data:`ENCODED` for the piecewise kinds, which are written by the
block's encoding (:mod:`pyomo_nn.blocks.encoding`: Big-M, whose ReLU and max-pool rows are in
``units/relu.py`` and ``units/max_pool2d.py``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.block import ScalarBlock
from pyomo.core.expr.numeric_expr import LinearExpression

from pyomo_nn.blocks.components import bounded_var, constraint_rows, set_values
from pyomo_nn.blocks.encoding import DEFAULT_ENCODING, Encoded, Encoding, encoding_named
from pyomo_nn.blocks.stats import LayerStats
from pyomo_nn.bounds import Bounds
from pyomo_nn.domains import InputDomain
from pyomo_nn.errors import InvalidArgumentTypeError, ShapeMismatchError, UnboundedDomainError
from pyomo_nn.ir import INPUT, AffineLayer, Layer, MovementLayer, Network, Role, SparseMatrix, StageTable


@dataclass(frozen=True)
class LinearRows:
    """Expressions ``matrix @ vars + offset`` (sparse rows) not yet given variables of their own."""

    matrix: SparseMatrix
    offset: np.ndarray
    vars: list

    @classmethod
    def of_layer(cls, layer: AffineLayer, sources: list[list]) -> LinearRows:
        """An affine layer's outputs over the variables of its inputs, one after another."""
        maps = [m if isinstance(m, SparseMatrix) else SparseMatrix.from_dense(m) for m in layer.linear_maps()]
        matrix = maps[0] if len(maps) == 1 else SparseMatrix.hstack(maps)
        return cls(matrix, layer.offset, [var for source in sources for var in source])

    @classmethod
    def identity(cls, variables: list) -> LinearRows:
        return cls(SparseMatrix.identity(len(variables)), np.zeros(len(variables)), variables)

    def __deepcopy__(self, memo: dict[int, object]) -> LinearRows:
        """A copy over the copied variables (``model.clone()``), sharing the constant arrays."""
        return replace(self, vars=copy.deepcopy(self.vars, memo))

    def expression(self, j: int) -> LinearExpression:
        columns, values = self.matrix.row(j)
        return LinearExpression(
            constant=float(self.offset[j]),
            linear_coefs=values.tolist(),
            linear_vars=[self.vars[i] for i in columns],
        )


#: A tensor while the block is built: its variables, or linear expressions not yet given any.
Tensor = list | LinearRows


class BlockStage(Protocol):
    """How one layer kind enters a :class:`NetworkBlock`.

    ``build`` returns the layer's output (variables, or :class:`LinearRows`) from its inputs'
    (``sources``, one per input) and the bounds of every tensor (``boxes``), adding what it
    needs to ``block``. ``accepts_rows``: whether it may read an input as :class:`LinearRows`.
    ``warm_start`` sets the variables it added from the numpy values of every tensor.
    """

    def accepts_rows(self, block: NetworkBlock, layer: Layer) -> bool: ...

    def build(self, block: NetworkBlock, layer: Layer, sources: list[Tensor], boxes: dict) -> Tensor: ...

    def warm_start(self, block: NetworkBlock, layer: Layer, values: dict[str, np.ndarray]) -> None: ...


#: How each layer kind enters the block; registered per kind by :mod:`pyomo_nn.units`.
BLOCK_STAGES: StageTable[BlockStage] = StageTable("MILP encoding")


class AffineStage:
    """An affine layer: written into its readers' rows when they all accept rows (and it is not
    the output), else variables ``<name>_values.y`` (``outputs`` for the output layer) with
    equalities ``affine``. ``kind`` names it in ``LayerStats``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def accepts_rows(self, block: NetworkBlock, layer: Layer) -> bool:
        return False

    def build(self, block: NetworkBlock, layer: AffineLayer, sources: list[Tensor], boxes: dict) -> Tensor:
        net = block.network
        affine = LinearRows.of_layer(layer, [_as_vars(source) for source in sources])
        readers = net.consumers(layer.name)
        feeds_only_rows = all(BLOCK_STAGES.stage_for(c).accepts_rows(block, c) for c in readers)
        final = layer.name == net.layers[-1].name
        if final or not feeds_only_rows:
            return block._affine_outputs(layer, affine, boxes[layer.name], final, self.kind)
        return affine

    def warm_start(self, block: NetworkBlock, layer: Layer, values: dict[str, np.ndarray]) -> None:
        owner = block.component(f"{layer.name}_values")
        if layer.name != block.network.layers[-1].name and owner is not None:
            set_values(owner.y, values[layer.name])


class _Encoded:
    """A piecewise layer: written by the block's encoding into ``layers[<name>]``."""

    def accepts_rows(self, block: NetworkBlock, layer: Layer) -> bool:
        return block._encoding_of(layer).accepts_rows

    def build(self, block: NetworkBlock, layer: Layer, sources: list[Tensor], boxes: dict) -> Tensor:
        encoding = block._encoding_of(layer)
        (source,) = sources
        if encoding.accepts_rows:
            source = source if isinstance(source, LinearRows) else LinearRows.identity(source)
        else:
            source = _as_vars(source)
        outputs, encoded = encoding.encode(block.layers[layer.name], layer, source, *boxes[layer.inputs[0]])
        block._encoded[layer.name] = encoded
        block._stats.append(encoded.stats)
        return outputs

    def warm_start(self, block: NetworkBlock, layer: Layer, values: dict[str, np.ndarray]) -> None:
        block._encoding_of(layer).warm_start(
            block.layers[layer.name],
            layer,
            block._encoded[layer.name],
            values[layer.inputs[0]],
            values[layer.name],
        )


class _Moved:
    """A data-movement layer: its inputs' variables, re-arranged; a fixed variable
    ``<name>_fill`` stands for its constant where it pads."""

    def accepts_rows(self, block: NetworkBlock, layer: Layer) -> bool:
        return False

    def build(self, block: NetworkBlock, layer: MovementLayer, sources: list[Tensor], boxes: dict) -> Tensor:
        joined = [var for source in sources for var in _as_vars(source)]
        gather = layer.gather(*(len(_as_vars(source)) for source in sources)).tolist()
        if gather and min(gather) < 0:
            fill = pyo.Var(bounds=(layer.fill, layer.fill), initialize=layer.fill)
            block.add_component(f"{layer.name}_fill", fill)
            fill.fix(layer.fill)
            return [joined[i] if i >= 0 else fill for i in gather]
        return [joined[i] for i in gather]

    def warm_start(self, block: NetworkBlock, layer: Layer, values: dict[str, np.ndarray]) -> None:
        return None


#: The entries of the piecewise and the data-movement kinds.
ENCODED = _Encoded()
MOVED = _Moved()


class NetworkBlock(ScalarBlock):
    """A Pyomo Block computing ``outputs = network(inputs)`` for inputs in the bounds' domain.

    Use it like any Block: ``m.nn = NetworkBlock(net, bounds)``; several blocks may share a
    model, and the user's own constraints may tie ``inputs``/``outputs`` to anything.
    The inputs are bounded by the bounds' input box, or by ``domain`` when one is given (the
    bounds must then cover it, :meth:`Bounds.check_covers`).

    The block pickles and clones with its model: a clone shares the (immutable) network and
    bounds and refers to its own variables. ``encoding`` names how the piecewise layers (ReLU,
    max pooling) are written (:data:`~pyomo_nn.blocks.encoding.ENCODINGS`; ``"bigm"``).
    """

    def __init__(
        self,
        network: Network,
        bounds: Bounds,
        domain: InputDomain | None = None,
        encoding: str = DEFAULT_ENCODING,
    ) -> None:
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
        encoding_named(encoding)
        self._encoding_name = encoding
        self._stats: list[LayerStats] = []
        self._encoded: dict[str, Encoded] = {}
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

    @property
    def encoding(self) -> str:
        """The name of the encoding of the piecewise layers (``"bigm"``)."""
        return self._encoding_name

    def _encoding_of(self, layer: Layer) -> Encoding:
        """The block's encoding of piecewise ``layer`` (looked up, never stored: the block pickles
        without the table)."""
        return encoding_named(self._encoding_name).stage_for(layer)

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
        set_values(self.inputs, point)
        for layer in net.layers:
            BLOCK_STAGES.stage_for(layer).warm_start(self, layer, values)
        set_values(self.outputs, values[net.layers[-1].name])

    def pre_activation(self, layer_name: str, j: int) -> LinearExpression:
        """Pre-activation ``a_j`` of neuron j of ReLU layer ``layer_name`` as an expression:
        ``h - hbar`` for a split neuron, ``h`` for a stable active one, ``W h_prev + b`` for a
        dead one (whose ``h`` is fixed at 0)."""
        return self._encoded[layer_name].pre_activation(self.layers[layer_name], j)

    def pre_activation_bounds(self, layer_name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (lower, upper) pre-activation bounds the block used for ReLU layer ``layer_name``."""
        encoded = self._encoded[layer_name]
        return encoded.lower, encoded.upper

    def activation_state(self, layer_name: str, j: int) -> pyo.Var | int:
        """Whether neuron j of ReLU layer ``layer_name`` is active: its binary ``z`` if it is
        split, the constant 1 if it is stable active and 0 if it is dead."""
        return self._encoded[layer_name].activation_state(self.layers[layer_name], j)

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
        piecewise = [layer.name for layer in net.layers if layer.role is Role.PIECEWISE]
        self.layers = pyo.Block(piecewise)
        tensors: dict[str, Tensor] = {INPUT: [self.inputs[i] for i in range(n_in)]}
        final = net.layers[-1]
        for layer in net.layers:
            sources = [tensors[name] for name in layer.inputs]
            tensors[layer.name] = BLOCK_STAGES.stage_for(layer).build(self, layer, sources, boxes)
        if final.role is not Role.AFFINE:
            self._copy_to_outputs(_as_vars(tensors[final.name]), boxes[final.name])

    def _affine_outputs(
        self, layer: AffineLayer, affine: LinearRows, box: tuple, is_output: bool, kind: str
    ) -> list:
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
        self._stats.append(LayerStats(layer.name, kind, n, 0, 0, 0, n, n))
        return [var[k] for k in range(n)]

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


def _as_vars(source: Tensor) -> list:
    if isinstance(source, LinearRows):
        raise ShapeMismatchError("internal: a layer reads another layer's un-materialised output")
    return source


def _values(var: pyo.Var, size: int) -> np.ndarray:
    return np.array([pyo.value(var[i], exception=False) or 0.0 for i in range(size)], dtype=np.float64)
