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
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.block import ScalarBlock
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression

from pyomo_nn.blocks.components import bounded_var, constraint_rows, set_values
from pyomo_nn.blocks.encoding import (
    DEFAULT_ENCODING,
    DEFAULT_PARTITIONS,
    Encoded,
    Encoding,
    encoding_named,
)
from pyomo_nn.blocks.stats import LayerStats
from pyomo_nn.blocks.wiring import (
    check_region,
    check_wiring,
    dependency_order,
    owning_model,
    user_vars,
    var_region,
)
from pyomo_nn.bounds import METHODS, Bounds, compute_bounds
from pyomo_nn.domains import Box, InputDomain
from pyomo_nn.errors import (
    EmptyDomainError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    ShapeMismatchError,
    UnboundedDomainError,
)
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
    """A Pyomo Block computing ``outputs = network(inputs)`` for inputs in a box.

    Use it like any Block: ``m.nn = NetworkBlock(net, bounds)``, or on your own variables,
    ``m.nn = NetworkBlock(net, inputs=[m.x, m.y], outputs=m.z)``. Any number of blocks may share
    a model, read the same variables, and feed each other (one block's outputs as another's
    inputs), as long as they form no cycle.

    ``bounds`` are the Big-M constants' source: a :class:`Bounds` computed for ``network``, a
    bound method name (``"interval"``, ``"symbolic"``, ``"alpha"``, ``"lp"``, ``"milp"``) or None
    for :func:`~pyomo_nn.compute_bounds`' default method; a name or None computes them over the box
    of the inputs: ``domain`` if given, intersected with the bounds of the ``inputs`` variables and,
    where an input is another block's output, that block's output bounds.

    ``inputs``/``outputs``: the user's own Pyomo variables (a list, an indexed Var in its index
    order, or any iterable of scalar vars), written into the network's rows directly: the block
    then creates no input or output variables of its own, and ``block.inputs[i]`` /
    ``block.outputs[k]`` are References to them. Without them the block owns ``inputs`` (bounded
    by the box) and ``outputs`` (bounded by the output bounds). The user's inputs are kept in the
    box the Big-M constants hold over by the rows ``input_range[i]`` (the variables' own bounds
    are left alone); after tightening them, :meth:`update_bounds` recomputes the constants.
    When ``bounds`` are given, the inputs get their box, intersected with ``domain`` (the bounds
    must then cover it, :meth:`Bounds.check_covers`).

    The block pickles and clones with its model: a clone shares the (immutable) network and
    bounds and refers to its own variables. ``formulation`` names how the piecewise layers (ReLU,
    max pooling) are written (:data:`~pyomo_nn.blocks.encoding.ENCODINGS`: ``"bigm"``, ``"sos1"``,
    ``"partition"`` with ``partitions=N``, ``"complementarity"``; ``pnn.formulations()``);
    ``layer_formulations={"relu_0": "sos1"}`` writes some piecewise layers differently.
    Bad arguments raise a :class:`~pyomo_nn.PyomoNNError` naming the variable or argument, before
    anything is added to the model.
    """

    def __init__(
        self,
        network: Network,
        bounds: Bounds | str | None = None,
        domain: InputDomain | None = None,
        formulation: str = DEFAULT_ENCODING,
        *,
        inputs: object = None,
        outputs: object = None,
        partitions: int | None = None,
        layer_formulations: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(concrete=True)
        if not isinstance(network, Network):
            raise InvalidArgumentTypeError(
                f"NetworkBlock needs a Network (pnn.load_onnx(path)), got {type(network).__name__}"
            )
        if domain is not None and not isinstance(domain, InputDomain):
            raise InvalidArgumentTypeError(
                f"domain must be an input domain such as pnn.Box(lower, upper), got {type(domain).__name__}"
            )
        encoding_named(formulation)
        overrides = _check_layer_formulations(network, layer_formulations)
        self._partitions = _check_partitions(partitions, {formulation, *overrides.values()})
        in_vars = None if inputs is None else user_vars(inputs, "inputs", network.input_size, "inputs")
        out_vars = None if outputs is None else user_vars(outputs, "outputs", network.output_size, "outputs")
        model = owning_model([*(in_vars or ()), *(out_vars or ())])
        others = [] if model is None else network_blocks(model)
        check_wiring(in_vars, out_vars, others)
        self._network = network
        self._domain = domain
        self._own_inputs = in_vars is None
        self._own_outputs = out_vars is None
        self._formulation = formulation
        self._layer_formulations = overrides
        if in_vars is not None:
            self.inputs = pyo.Reference(in_vars)
        if out_vars is not None:
            self._output_refs = out_vars
        self._bounds = self._resolve_bounds(bounds, in_vars, others)
        self._input_box = _input_box(network, self._bounds, domain, in_vars)
        self._stats: list[LayerStats] = []
        self._encoded: dict[str, Encoded] = {}
        with PauseGC():  # millions of expression objects: collector passes would dominate the build
            self._build()

    def _resolve_bounds(self, bounds: object, in_vars: list | None, others: list) -> Bounds:
        """The Bounds the block uses: as given, or computed by the named method over the region."""
        network, domain = self._network, self._domain
        if isinstance(bounds, Bounds):
            bounds.check_matches(network, domain)
            return bounds
        if bounds is not None and not isinstance(bounds, str):
            raise InvalidArgumentTypeError(
                f"bounds must be the network's Bounds (pnn.compute_bounds(network, domain)), a bound "
                f"method name ({', '.join(METHODS)}) or None, got {type(bounds).__name__}"
            )
        if bounds is not None and bounds not in METHODS:
            raise InvalidArgumentError(f"unknown bound method {bounds!r}; choose one of {list(METHODS)}")
        if in_vars is None and domain is None:
            raise InvalidArgumentTypeError(
                "NetworkBlock needs the region its inputs range over to compute the Big-M constants: "
                "pass inputs=[your bounded variables], a domain (domain=pnn.Box(lower, upper)), or "
                "the network's Bounds (pnn.compute_bounds(network, domain))"
            )
        box = Box(*self._region(in_vars, others))
        return compute_bounds(network, box) if bounds is None else compute_bounds(network, box, method=bounds)

    def _region(self, variables: list | None, others: list) -> tuple[np.ndarray, np.ndarray]:
        """The inputs' box: ``domain`` intersected with the variables' bounds (and the output
        bounds of blocks computing them); refuses an unbounded or empty one, naming the input."""
        n = self._network.input_size
        lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
        if self._domain is not None:
            lower, upper = (np.asarray(a, dtype=np.float64) for a in self._domain.box(n))
        if variables is None:
            if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
                raise UnboundedDomainError(
                    "the domain leaves some inputs unbounded, so no Big-M constant exists; "
                    "give every input finite lower and upper bounds (e.g. Box(0, 1))"
                )
            return lower, upper
        var_lower, var_upper = var_region(variables, [b for b in others if b is not self])
        lower, upper = np.maximum(lower, var_lower), np.minimum(upper, var_upper)
        check_region(variables, lower, upper, "inputs")
        return lower, upper

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
    def formulation(self) -> str:
        """The name of the formulation of the piecewise layers (``"bigm"``) not named in
        :attr:`layer_formulations`."""
        return self._formulation

    @property
    def layer_formulations(self) -> dict[str, str]:
        """Piecewise layers written with another formulation than :attr:`formulation`, by name."""
        return dict(self._layer_formulations)

    def formulations_used(self) -> frozenset[str]:
        """Every formulation the block's piecewise layers use."""
        return frozenset({self._formulation, *self._layer_formulations.values()})

    def requirements(self) -> frozenset[str]:
        """What the block's rows need of a solver (``binaries``, ``sos1``, ``nonlinear``)."""
        needs = {need for s in self._stats for need in s.needs}
        if any(s.binaries for s in self._stats):
            needs.add("binaries")
        return frozenset(needs)

    @property
    def partitions(self) -> int:
        """Partitions per split neuron of the ``partition`` formulation (``partitions=``, default 2)."""
        return self._partitions

    @property
    def owns_inputs(self) -> bool:
        """False when the inputs are the user's variables (``inputs=``)."""
        return self._own_inputs

    def input_vars(self) -> list[VarData]:
        """The input variables, flat: the block's own, or the user's."""
        return [self.inputs[i] for i in range(self._network.input_size)]

    def output_vars(self) -> list[VarData]:
        """The output variables, flat: the block's own, or the user's."""
        return [self.outputs[k] for k in range(self._network.output_size)]

    def output_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Valid (lower, upper) bounds of the outputs over the block's input box (from its
        bounds), e.g. for Big-M constants of the user's own rows on the outputs."""
        lower, upper = self._output_box
        return lower.copy(), upper.copy()

    def update_bounds(self, method: str | None = None) -> Bounds:
        """Recompute the Big-M constants over the inputs' current box and rebuild the block's rows
        in place (call it after tightening the input variables; for chained blocks, upstream
        first). The box is found as when the block was built with a method name: the input
        variables' current bounds, the domain, and the output bounds of blocks computing them.
        ``method`` defaults to that of the current bounds. The user's variables and the block's
        own ``inputs``/``outputs`` variables stay the same objects. Returns the new Bounds."""
        method = self._bounds.method if method is None else method
        if not isinstance(method, str) or method not in METHODS:
            raise InvalidArgumentError(f"unknown bound method {method!r}; choose one of {list(METHODS)}")
        model = self.model()
        others = network_blocks(model) if model is not None else []
        lower, upper = self._region(self.input_vars(), others)
        bounds = compute_bounds(self._network, Box(lower, upper), method=method)
        in_vars = None if self._own_inputs else self.input_vars()
        box = _input_box(self._network, bounds, self._domain, in_vars)
        keep = {"inputs", "outputs"}
        for component in list(self.component_objects(descend_into=False)):
            if component.local_name not in keep:
                self.del_component(component)
        self._bounds, self._input_box = bounds, box
        self._stats, self._encoded = [], {}
        with PauseGC():
            self._build()
        return bounds

    def _encoding_of(self, layer: Layer) -> Encoding:
        """The block's encoding of piecewise ``layer`` (looked up, never stored: the block pickles
        without the table)."""
        return encoding_named(self._layer_formulations.get(layer.name, self._formulation)).stage_for(layer)

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
            if not var.fixed:  # a value outside the box cannot be feasible
                point[i] = min(max(point[i], lower[i]), upper[i])
        values = {name: array[0] for name, array in net.activations(point).items()}
        _set_vars(self.input_vars(), point)
        for layer in net.layers:
            BLOCK_STAGES.stage_for(layer).warm_start(self, layer, values)
        _set_vars(self.output_vars(), values[net.layers[-1].name])

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
        self._output_box = tuple(np.asarray(a, dtype=np.float64) for a in boxes[net.layers[-1].name])
        if not self._own_inputs:
            variables = self.input_vars()
            lower, upper = self._input_box
            self.input_range = constraint_rows(
                range(n_in), lambda i: (float(lower[i]), variables[i], float(upper[i]))
            )
        elif self.component("inputs") is None:
            self.inputs = bounded_var(range(n_in), *self._input_box)
        else:
            _set_bounds(self.inputs, *self._input_box)
        piecewise = [layer.name for layer in net.layers if layer.role is Role.PIECEWISE]
        self.layers = pyo.Block(piecewise)
        tensors: dict[str, Tensor] = {INPUT: self.input_vars()}
        final = net.layers[-1]
        for layer in net.layers:
            sources = [tensors[name] for name in layer.inputs]
            tensors[layer.name] = BLOCK_STAGES.stage_for(layer).build(self, layer, sources, boxes)
        if final.role is not Role.AFFINE:
            self._copy_to_outputs(_as_vars(tensors[final.name]), boxes[final.name])
        self._built_counts = self._counts()

    def _counts(self) -> tuple[int, int, int]:
        """(rows, active rows, fixed variables other than the inputs) of the block now."""
        rows = active = 0
        for row in self.component_data_objects(pyo.Constraint, active=None, descend_into=True):
            rows += 1
            active += row.active
        inputs = {id(var) for var in self.input_vars()}
        fixed = sum(
            1
            for var in self.component_data_objects(pyo.Var, descend_into=True)
            if var.fixed and id(var) not in inputs
        )
        return rows, active, fixed

    def all_rows_active(self) -> bool:
        """True when no row of the block (nor a sub-block holding rows) was deactivated."""
        rows, active, _ = self._counts()
        return rows == active

    def is_as_built(self) -> bool:
        """True when the block owns its inputs and holds the rows it built, all active, with no
        variable fixed beyond those it fixed (its inputs aside): then :meth:`warm_start` satisfies
        every row of it by construction, and a check of a start need not evaluate them."""
        rows, _, fixed = self._built_counts
        return self._own_inputs and self._counts() == (rows, rows, fixed)

    def _affine_outputs(
        self, layer: AffineLayer, affine: LinearRows, box: tuple, is_output: bool, kind: str
    ) -> list:
        n = box[0].size
        if is_output:
            var = self._output_component(box)
            owner = self
        else:
            var = bounded_var(range(n), *box)
            owner = pyo.Block()
            self.add_component(f"{layer.name}_values", owner)
            owner.y = var
        owner.affine = constraint_rows(range(n), lambda k: (0.0, affine.expression(k) - var[k], 0.0))
        added = 0 if is_output and not self._own_outputs else n
        self._stats.append(LayerStats(layer.name, kind, n, 0, 0, 0, added, n))
        return [var[k] for k in range(n)]

    def _copy_to_outputs(self, values: list, box: tuple) -> None:
        outputs = self._output_component(box)
        self.output_copy = constraint_rows(range(len(values)), lambda k: outputs[k] == values[k])

    def _output_component(self, box: tuple) -> pyo.Var:
        """``outputs``: the user's variables (a Reference), or the block's own bounded by ``box``
        (made on the first build, re-bounded by :meth:`update_bounds`)."""
        if self.component("outputs") is not None:
            if self._own_outputs:
                _set_bounds(self.outputs, *box)
            return self.outputs
        if self._own_outputs:
            self.outputs = bounded_var(range(box[0].size), *box)
        else:
            self.outputs = pyo.Reference(self._output_refs)
            del self._output_refs
        return self.outputs


def network_blocks(model: pyo.Block) -> list[NetworkBlock]:
    """Every NetworkBlock of ``model`` (inside sub-blocks and indexed blocks too), each after
    the blocks whose outputs it reads (else in the model's order)."""
    blocks = [
        block
        for block in model.component_data_objects(pyo.Block, descend_into=True)
        if isinstance(block, NetworkBlock)
    ]
    return dependency_order(blocks)


def _input_box(
    network: Network, bounds: Bounds, domain: InputDomain | None, variables: list | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The inputs' box: the domain's, clipped to the bounds' box (which covers it up to a
    rounding tolerance, so the Big-M constants hold everywhere in it), else the bounds' box;
    for the user's ``variables``, also clipped to their own bounds (where finite)."""
    n_in = network.input_size
    lower, upper = bounds.input_lower, bounds.input_upper
    if lower.size != n_in:
        raise ShapeMismatchError(f"bounds have {lower.size} inputs but the network has {n_in}")
    if domain is not None:
        domain_lower, domain_upper = domain.box(n_in)
        lower, upper = np.maximum(domain_lower, lower), np.minimum(domain_upper, upper)
    if variables is not None:
        var_lower, var_upper = var_region(variables, [])
        lower, upper = np.maximum(var_lower, lower), np.minimum(var_upper, upper)
        empty = np.flatnonzero(lower > upper)
        if empty.size:
            i = int(empty[0])
            raise EmptyDomainError(
                f"inputs[{i}] ({variables[i].name}) has bounds outside the bounds' input box (together "
                f"[{lower[i]:g}, {upper[i]:g}]): compute the bounds over a box that holds the variable, "
                "or pass bounds=None to compute them from the variables' bounds"
            )
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise UnboundedDomainError(
            "the domain leaves some inputs unbounded, so no Big-M constant exists; "
            "give every input finite lower and upper bounds (e.g. Box(0, 1))"
        )
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def _check_layer_formulations(network: Network, layer_formulations: object) -> dict[str, str]:
    """``layer_formulations`` as a dict of piecewise layer names to known formulation names."""
    if layer_formulations is None:
        return {}
    if not isinstance(layer_formulations, Mapping):
        raise InvalidArgumentTypeError(
            f"layer_formulations must map layer names to formulations, e.g. {{'relu_0': 'sos1'}}, "
            f"got {type(layer_formulations).__name__}"
        )
    piecewise = [layer.name for layer in network.layers if layer.role is Role.PIECEWISE]
    for name, formulation in layer_formulations.items():
        if name not in piecewise:
            raise InvalidArgumentError(
                f"layer_formulations names {name!r}, which is not a piecewise layer of this network; "
                f"its piecewise layers: {', '.join(piecewise) or 'none'}"
            )
        encoding_named(formulation)
    return dict(layer_formulations)


def _check_partitions(partitions: object, formulations: set[str]) -> int:
    """The partition formulation's N: a positive whole number, given only with that formulation."""
    if partitions is None:
        return DEFAULT_PARTITIONS
    if "partition" not in formulations:
        raise InvalidArgumentError(
            f"partitions={partitions!r} is a setting of formulation='partition', which the block "
            f"does not use (it uses {', '.join(sorted(formulations))})"
        )
    if isinstance(partitions, bool) or not isinstance(partitions, int | np.integer) or partitions < 1:
        raise InvalidArgumentError(f"partitions must be a whole number >= 1, got {partitions!r}")
    return int(partitions)


def _as_vars(source: Tensor) -> list:
    if isinstance(source, LinearRows):
        raise ShapeMismatchError("internal: a layer reads another layer's un-materialised output")
    return source


def _set_vars(variables: list, values: np.ndarray) -> None:
    """Set the values of the (non-fixed) variables from a full-length array."""
    for var, value in zip(variables, values, strict=True):
        if not var.fixed:
            var.set_value(float(value), skip_validation=True)


def _set_bounds(var: pyo.Var, lower: np.ndarray, upper: np.ndarray) -> None:
    for index in var:
        var[index].setlb(float(lower[index]))
        var[index].setub(float(upper[index]))


def _values(var: pyo.Var, size: int) -> np.ndarray:
    return np.array([pyo.value(var[i], exception=False) or 0.0 for i in range(size)], dtype=np.float64)
