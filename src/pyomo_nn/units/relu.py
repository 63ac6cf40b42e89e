"""ReLU, ``max(0, x)``: the piecewise kind of every MLP, in every stage.

* Bounds: the triangle relaxation (DeepPoly's lower slope in ``symbolic``, optimised slopes
  in ``alpha``); interval and naive bounds pass the input's box through.
* LP/MILP relaxation and the block: the Big-M rows of thesis (1.1)-(1.8) (the relaxation
  without the slack ``hbar``); stable neurons get no binary.
* The attack passes ``leak`` times the gradient where the ReLU is inactive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from pyomo_nn.blocks.components import bounded_var, constraint_rows, set_values
from pyomo_nn.blocks.encoding import DEFAULT_PARTITIONS
from pyomo_nn.blocks.network_block import ENCODED, LinearRows
from pyomo_nn.blocks.stats import LayerStats
from pyomo_nn.bounds import coefficients as coef
from pyomo_nn.bounds.coefficients import Coefficients
from pyomo_nn.bounds.naive import largest_input
from pyomo_nn.bounds.relaxation import RelaxationBuilder, entries
from pyomo_nn.bounds.symbolic import Substitution
from pyomo_nn.errors import InvalidArgumentError, UnboundedDomainError
from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Network, ReLU
from pyomo_nn.tolerances import BOUND_SAFETY_ABS, BOUND_SAFETY_REL
from pyomo_nn.units.stages import register

Boxes = dict[str, tuple[np.ndarray, np.ndarray]]


# -- bounds -------------------------------------------------------------------------------------
def relu_relaxation(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neuron: (upper slope, upper intercept, lower slope) of the ReLU's linear bounds
    (DeepPoly's lower slope; alpha optimises it). For ``l < 0 < u``: upper line
    ``u (a - l) / (u - l)``, lower line ``alpha * a`` with ``alpha = 1`` when ``u > -l``, else 0."""
    split = (lower < 0) & (upper > 0)
    denominator = np.where(split, upper - lower, 1.0)
    upper_slope = np.where(split, upper / denominator, (lower >= 0).astype(float))
    upper_intercept = np.where(split, -upper * lower / denominator, 0.0)
    lower_slope = np.where(split, (upper > -lower).astype(float), (lower >= 0).astype(float))
    return upper_slope, upper_intercept, lower_slope


def back_substitute(layer: ReLU, coefficients: Coefficients, substitution: Substitution) -> None:
    """Each output by its upper or lower line, whichever the coefficient's sign pushes toward."""
    relaxed, shift, size = coef.relax(
        coefficients, substitution.maximise, *relu_relaxation(*substitution.boxes[layer.input])
    )
    substitution.pass_on(layer.input, relaxed)
    substitution.add_constant(shift, size)


class _SlopeRelaxation:
    """Triangle relaxation of one ReLU layer over the box of its input, with per-row lower
    slopes ``alpha`` (rows x neurons) for the split neurons, started at DeepPoly's choice."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray, rows: int) -> None:
        self.split = (lower < 0) & (upper > 0)
        self.upper_slope, self.upper_intercept, start = relu_relaxation(lower, upper)
        self.alpha = np.tile(start, (rows, 1))

    def lower_slope(self) -> np.ndarray:
        return np.where(self.split, self.alpha, self.upper_slope)


class ReluAlpha:
    """alpha-CROWN's view of a ReLU: the triangle relaxation with optimised lower slopes."""

    def relaxation(self, lower: np.ndarray, upper: np.ndarray, rows: int) -> _SlopeRelaxation:
        return _SlopeRelaxation(lower, upper, rows)

    def target_rows(self, layer: ReLU, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise TypeError("internal: a ReLU's outputs are not bounded")

    def backward(
        self, layer: ReLU, current: np.ndarray, relaxation: _SlopeRelaxation
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        slopes = np.where(current >= 0, relaxation.lower_slope(), relaxation.upper_slope)
        negative = np.minimum(current, 0.0)
        shift = negative @ relaxation.upper_intercept
        size = np.abs(negative) @ relaxation.upper_intercept
        return current * slopes, shift, size, slopes

    def forward(
        self,
        layer: ReLU,
        gradient: np.ndarray,
        before: np.ndarray,
        slopes: np.ndarray,
        relaxation: _SlopeRelaxation,
    ) -> tuple[np.ndarray, np.ndarray]:
        toward_slopes = np.where(relaxation.split & (before >= 0), before * gradient, 0.0)
        return gradient * slopes + (before < 0) * relaxation.upper_intercept, toward_slopes


class ReluOpenInputs:
    """A split input neuron needs tighter bounds; a dead one needs no lower bound."""

    dead_needs_no_lower = True

    def open_inputs(
        self, network: Network, boxes: Boxes, layer: ReLU, output_open: object
    ) -> list[np.ndarray | None]:
        lower, upper = boxes[layer.input]
        return [(lower < 0) & (upper > 0)]


class ReluRows:
    """LP/MILP relaxation rows for the neurons of one ReLU, over its pre-activation rows ``a``:
    ``h = a`` (stable active), ``h >= a``, ``h <= a - L (1 - z)``, ``h <= U z`` (split; z binary
    or in [0, 1]); a dead neuron's ``h`` is a column in [0, 0]."""

    reads_rows = True

    def add(self, builder: RelaxationBuilder, layer: ReLU) -> np.ndarray:
        pre = builder.pre_activations(layer.input)
        lower, upper = builder.boxes[layer.input]
        n = lower.size
        h = builder.columns(np.zeros(n), np.maximum(upper, 0.0))
        active = np.flatnonzero(lower >= 0)
        split = np.flatnonzero((lower < 0) & (upper > 0))
        z = builder.columns(np.zeros(split.size), np.ones(split.size), binary=True)
        builder.activations[layer.name] = (split, z)
        offset = pre.offset
        # h - a = 0 (active), h - a >= 0 (split), h - a - L z <= -L (split), with a = M x + offset
        for neurons, lo_side, hi_side, z_coefficient in (
            (active, offset[active], offset[active], None),
            (split, offset[split], np.full(split.size, np.inf), None),
            (split, np.full(split.size, -np.inf), offset[split] - lower[split], -lower[split]),
        ):
            local, columns, values = entries(pre.matrix, neurons)
            parts = [(np.arange(neurons.size), h[neurons], np.ones(neurons.size)), (local, columns, -values)]
            if z_coefficient is not None:
                parts.append((np.arange(neurons.size), z, z_coefficient))
            builder.rows(parts, lo_side, hi_side)
        # h - U z <= 0 (split)
        builder.rows(
            [
                (
                    np.repeat(np.arange(split.size), 2),
                    np.ravel(np.column_stack([h[split], z])),
                    np.ravel(np.column_stack([np.ones(split.size), -upper[split]])),
                )
            ],
            np.full(split.size, -np.inf),
            np.zeros(split.size),
        )
        return h


# -- the block ----------------------------------------------------------------------------------
@dataclass
class ReluBigMEncoded:
    """What the Big-M encoding keeps of a ReLU layer: its pre-activation rows and bounds."""

    pre: LinearRows
    lower: np.ndarray
    upper: np.ndarray
    stats: LayerStats

    def pre_activation(self, block: pyo.Block, j: int) -> LinearExpression:
        """``h - hbar`` (split), ``h`` (stable active) or the affine expression (dead)."""
        if self.lower[j] >= 0:
            return block.h[j]
        if self.upper[j] <= 0:
            return self.pre.expression(j)
        return block.h[j] - block.hbar[j]

    def activation_state(self, block: pyo.Block, j: int) -> pyo.Var | int:
        """The binary ``z`` of a split neuron, 1 for a stable active one, 0 for a dead one."""
        if self.lower[j] >= 0:
            return 1
        if self.upper[j] <= 0:
            return 0
        return block.z[j]


class ReluBigM:
    """Thesis (1.1)-(1.8) for a neuron with pre-activation ``a`` in [L, U]: split (L < 0 < U):
    ``a = h - hbar``, ``h <= U z``, ``hbar <= -L (1 - z)``, ``h, hbar >= 0``, z binary; stable
    active (L >= 0): ``h = a``; dead (U <= 0): ``h`` fixed at 0. Components of the layer's
    sub-block: ``h``, ``hbar``, ``z``, ``linear``, ``pre_activation``, ``active_bound``,
    ``inactive_bound``."""

    accepts_rows = True

    def encode(
        self, block: pyo.Block, layer: ReLU, pre: LinearRows, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, ReluBigMEncoded]:
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
        stats = LayerStats(
            layer.name, "relu", n, len(active), len(dead), len(split), variables, constraints, len(split)
        )
        return [block.h[j] for j in range(n)], ReluBigMEncoded(pre, lower, upper, stats)

    def warm_start(
        self, block: pyo.Block, layer: ReLU, encoded: ReluBigMEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        set_values(block.h, np.maximum(x, 0.0))
        set_values(block.hbar, np.maximum(-x, 0.0))
        set_values(block.z, (x > 0).astype(float))


def _split_neurons(lower: np.ndarray, upper: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """(stable active, dead, split) neuron indices."""
    return (
        np.flatnonzero(lower >= 0).tolist(),
        np.flatnonzero(upper <= 0).tolist(),
        np.flatnonzero((lower < 0) & (upper > 0)).tolist(),
    )


def _sos_pair(block: pyo.Block, j: int) -> list:
    """The SOS1 set of split neuron ``j``: ``h`` and ``hbar`` (a module function: pickles)."""
    return [block.h[j], block.hbar[j]]


@dataclass
class ReluSlackEncoded(ReluBigMEncoded):
    """What the SOS1 and complementarity encodings keep: as Big-M, without binaries."""

    encoding: str = "sos1"

    def activation_state(self, block: pyo.Block, j: int) -> pyo.Var | int:
        if self.lower[j] >= 0:
            return 1
        if self.upper[j] <= 0:
            return 0
        raise InvalidArgumentError(
            f"the {self.encoding} formulation has no binary for a split neuron: build the block with "
            "formulation='bigm' or 'partition' to read activation states (MaxFlip)"
        )


class _ReluSlack:
    """``a = h - hbar`` with ``h`` in [0, U], ``hbar`` in [0, -L] for a split neuron, and one
    condition that one of them is 0 (:meth:`exclusive`); stable neurons as in Big-M."""

    accepts_rows = True
    name = ""
    need = ""

    def exclusive(self, block: pyo.Block, split: list[int]) -> int:
        raise NotImplementedError

    def encode(
        self, block: pyo.Block, layer: ReLU, pre: LinearRows, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, ReluSlackEncoded]:
        n = lower.size
        active, dead, split = _split_neurons(lower, upper)
        block.h = bounded_var(range(n), np.zeros(n), np.maximum(upper, 0.0))
        for j in dead:
            block.h[j].fix(0.0)
        block.linear = constraint_rows(active, lambda j: (0.0, pre.expression(j) - block.h[j], 0.0))
        block.hbar = bounded_var(split, np.zeros(n), -lower)
        block.pre_activation = constraint_rows(
            split, lambda j: (0.0, pre.expression(j) - block.h[j] + block.hbar[j], 0.0)
        )
        rows = self.exclusive(block, split)
        stats = LayerStats(
            layer.name,
            "relu",
            n,
            len(active),
            len(dead),
            len(split),
            n - len(dead) + len(split),
            len(active) + len(split) + rows,
            0,
            frozenset({self.need}) if split else frozenset(),
        )
        return [block.h[j] for j in range(n)], ReluSlackEncoded(pre, lower, upper, stats, self.name)

    def warm_start(
        self, block: pyo.Block, layer: ReLU, encoded: ReluSlackEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        set_values(block.h, np.maximum(x, 0.0))
        set_values(block.hbar, np.maximum(-x, 0.0))


class ReluSos1(_ReluSlack):
    """SOS1: ``{h, hbar}`` of each split neuron is an SOS1 set (at most one non-zero), so the
    rows hold no big-M constant and there is no binary; the solver branches on the sets.
    Components: ``h``, ``hbar``, ``linear``, ``pre_activation``, ``sos[j]``."""

    name = "sos1"
    need = "sos1"

    def exclusive(self, block: pyo.Block, split: list[int]) -> int:
        block.sos = pyo.SOSConstraint(split, rule=_sos_pair, sos=1)
        return len(split)


class ReluComplementarity(_ReluSlack):
    """Complementarity: ``h * hbar <= 0`` (with ``h, hbar >= 0``: ``h * hbar = 0``) for each
    split neuron; no binary, a nonconvex NLP for Ipopt (a local optimum) or a global solver.
    Components: ``h``, ``hbar``, ``linear``, ``pre_activation``, ``complementarity[j]``."""

    name = "complementarity"
    need = "nonlinear"

    def exclusive(self, block: pyo.Block, split: list[int]) -> int:
        block.complementarity = constraint_rows(split, lambda j: block.h[j] * block.hbar[j] <= 0.0)
        return len(split)


def _row_weights(pre: LinearRows, j: int) -> dict[int, float]:
    """Row ``j`` of the pre-activation map: column -> weight."""
    columns, values = pre.matrix.row(j)
    return dict(zip(np.asarray(columns).tolist(), np.asarray(values).tolist(), strict=True))


def _var_box(var: object, inputs: dict[int, tuple[float, float]]) -> tuple[float, float]:
    """Valid bounds of a variable the pre-activation reads: its own, and for a network input
    the block's input box (kept by ``input_range`` rows when the inputs are the user's)."""
    if var.fixed:
        return float(var.value), float(var.value)
    low = -np.inf if var.lb is None else float(var.lb)
    high = np.inf if var.ub is None else float(var.ub)
    if id(var) in inputs:
        box_low, box_high = inputs[id(var)]
        low, high = max(low, box_low), min(high, box_high)
    return low, high


@dataclass
class ReluPartitionEncoded(ReluBigMEncoded):
    """What the partition encoding keeps: as Big-M, with each split neuron's partitions
    (lists of input positions of its row) for the warm start."""

    groups: dict[int, list[np.ndarray]] | None = None

    def activation_state(self, block: pyo.Block, j: int) -> pyo.Var | int:
        if self.lower[j] >= 0:
            return 1
        if self.upper[j] <= 0:
            return 0
        return block.z[j]


class ReluPartition:
    """Tsay, Kronqvist, Thebelt and Misener (NeurIPS 2021), the N-partition formulation of a
    split neuron ``y = max(0, sum_n p_n + b)``, ``p_n = w_{S_n} x_{S_n}`` the weighted sum of the
    inputs of partition ``S_n`` with bounds [lo_n, hi_n] (from the inputs' boxes):
    ``y = sum_n v_n + z b``, ``sum_n (p_n - v_n) + (1 - z) b <= 0``,
    ``z lo_n <= v_n <= z hi_n``, ``(1 - z) lo_n <= p_n - v_n <= (1 - z) hi_n``, z binary. N = 1
    is Big-M; N = the number of inputs, the convex hull of the neuron over its inputs' box. The
    inputs are sorted by weight and cut into N groups of (near) equal size (the paper's
    equal-size strategy); ``[lo_n, hi_n]`` is cut to what ``[L, U]`` leaves it. Big-M's two rows
    with the bounds' constants, ``h <= U z`` and ``h <= a - L (1 - z)``, are kept too: bounds from
    ``symbolic``/``lp`` know more than the inputs' box, and without them the relaxation can be
    looser than Big-M's (it was, on the bundled digits network). Stable neurons as in Big-M.
    Components: ``h``, ``z``, ``v[j, n]``, ``linear``, ``output``, ``inactive``,
    ``active_bound``, ``inactive_bound``, ``v_lower``, ``v_upper``, ``rest_lower``,
    ``rest_upper``."""

    accepts_rows = True

    def encode(
        self, block: pyo.Block, layer: ReLU, pre: LinearRows, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, ReluPartitionEncoded]:
        network_block = block.parent_block()
        parts = int(getattr(network_block, "partitions", DEFAULT_PARTITIONS))
        n = lower.size
        active, dead, split = _split_neurons(lower, upper)
        inputs = {}
        if hasattr(network_block, "input_vars"):
            box_low, box_high = network_block.input_box()
            inputs = {
                id(var): (float(box_low[i]), float(box_high[i]))
                for i, var in enumerate(network_block.input_vars())
            }
        var_low, var_high = np.array([_var_box(v, inputs) for v in pre.vars]).reshape(-1, 2).T
        if not (np.all(np.isfinite(var_low)) and np.all(np.isfinite(var_high))):
            raise UnboundedDomainError(
                f"ReLU layer {layer.name!r}: the partition formulation needs bounds on every value its "
                "pre-activations read; give the variables finite bounds or use formulation='bigm'"
            )
        groups: dict[int, list[np.ndarray]] = {}
        ranges: dict[tuple[int, int], tuple[float, float]] = {}
        for j in split:
            columns, values = pre.matrix.row(j)
            columns, values = np.asarray(columns), np.asarray(values)
            order = np.argsort(values)
            cut = [part for part in np.array_split(order, min(parts, max(1, columns.size))) if part.size]
            groups[j] = [columns[part] for part in cut]
            lows = np.array(
                [
                    np.sum(np.minimum(values[p] * var_low[columns[p]], values[p] * var_high[columns[p]]))
                    for p in cut
                ]
            )
            highs = np.array(
                [
                    np.sum(np.maximum(values[p] * var_low[columns[p]], values[p] * var_high[columns[p]]))
                    for p in cut
                ]
            )
            # sum_n p_n + b lies in [L, U]: each partial sum within what the others leave
            # (N = 1: exactly Big-M's constants), widened for the rounding of these sums
            rest = (
                np.abs(lows).sum() + np.abs(highs).sum() + abs(pre.offset[j]) + abs(lower[j]) + abs(upper[j])
            )
            slack = BOUND_SAFETY_ABS + BOUND_SAFETY_REL * rest
            lows = np.maximum(lows, lower[j] - pre.offset[j] - (highs.sum() - highs) - slack)
            highs = np.minimum(highs, upper[j] - pre.offset[j] - (lows.sum() - lows) + slack)
            for g in range(len(cut)):
                ranges[j, g] = (float(lows[g]), float(highs[g]))
        weights = {j: _row_weights(pre, j) for j in split}

        def partial(j: int, g: int) -> object:
            return sum(weights[j][c] * pre.vars[c] for c in groups[j][g])

        pairs = list(ranges)
        block.h = bounded_var(range(n), np.zeros(n), np.maximum(upper, 0.0))
        for j in dead:
            block.h[j].fix(0.0)
        block.linear = constraint_rows(active, lambda j: (0.0, pre.expression(j) - block.h[j], 0.0))
        block.z = pyo.Var(split, domain=pyo.Binary)
        block.v = pyo.Var(
            pairs, bounds={pair: (min(ranges[pair][0], 0.0), max(ranges[pair][1], 0.0)) for pair in pairs}
        )
        h, z, v = block.h, block.z, block.v
        bias = {j: float(pre.offset[j]) for j in split}
        block.output = constraint_rows(
            split, lambda j: h[j] - sum(v[j, g] for g in range(len(groups[j]))) - bias[j] * z[j] == 0.0
        )
        block.inactive = constraint_rows(
            split,
            lambda j: (
                sum(partial(j, g) - v[j, g] for g in range(len(groups[j]))) + bias[j] * (1 - z[j]) <= 0.0
            ),
        )
        block.active_bound = constraint_rows(split, lambda j: h[j] - float(upper[j]) * z[j] <= 0.0)
        block.inactive_bound = constraint_rows(
            split, lambda j: h[j] - pre.expression(j) + float(lower[j]) * (1 - z[j]) <= 0.0
        )
        block.v_lower = constraint_rows(pairs, lambda j, g: v[j, g] - ranges[j, g][0] * z[j] >= 0.0)
        block.v_upper = constraint_rows(pairs, lambda j, g: v[j, g] - ranges[j, g][1] * z[j] <= 0.0)
        block.rest_lower = constraint_rows(
            pairs, lambda j, g: partial(j, g) - v[j, g] - ranges[j, g][0] * (1 - z[j]) >= 0.0
        )
        block.rest_upper = constraint_rows(
            pairs, lambda j, g: partial(j, g) - v[j, g] - ranges[j, g][1] * (1 - z[j]) <= 0.0
        )
        stats = LayerStats(
            layer.name,
            "relu",
            n,
            len(active),
            len(dead),
            len(split),
            n - len(dead) + len(split) + len(pairs),
            len(active) + 4 * len(split) + 4 * len(pairs),
            len(split),
        )
        encoded = ReluPartitionEncoded(pre, lower, upper, stats, groups)
        return [block.h[j] for j in range(n)], encoded

    def warm_start(
        self, block: pyo.Block, layer: ReLU, encoded: ReluPartitionEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        set_values(block.h, np.maximum(x, 0.0))
        set_values(block.z, (x > 0).astype(float))
        pre = encoded.pre
        values = np.array([pyo.value(var, exception=False) or 0.0 for var in pre.vars])
        for j, g in block.v:
            lookup = _row_weights(pre, j)
            part = float(sum(lookup[c] * values[c] for c in encoded.groups[j][g]))
            block.v[j, g].set_value(part if x[j] > 0 else 0.0, skip_validation=True)


# -- export and the attack ----------------------------------------------------------------------
def export(writer: GraphWriter, layer: ReLU, inputs: list[str], output: str) -> None:
    writer.node("Relu", inputs, output, layer.name)


class ReluGradient:
    """The gradient where the input is positive, ``leak`` times it elsewhere (a surrogate)."""

    def prepare(self, layer: ReLU) -> None:
        return None

    def backward(
        self, layer: ReLU, values: dict[str, np.ndarray], grad: np.ndarray, leak: float, prepared: None
    ) -> list[np.ndarray]:
        return [grad * np.where(values[layer.input] > 0, 1.0, leak)]


register(
    ReLU,
    naive=largest_input,
    symbolic=back_substitute,
    alpha=ReluAlpha(),
    lp=ReluRows(),
    tightening=ReluOpenInputs(),
    milp=ENCODED,
    bigm=ReluBigM(),
    sos1=ReluSos1(),
    partition=ReluPartition(),
    complementarity=ReluComplementarity(),
    export=export,
    gradient=ReluGradient(),
)
