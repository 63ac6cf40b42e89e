"""MaxPool2d, ONNX MaxPool / GlobalMaxPool: the piecewise kind of CNNs, in every stage.

* Bounds: interval bounds are exact (max of the lower bounds, max of the upper bounds);
  ``symbolic`` relaxes a window by ``y >= x_lead`` and a linear upper bound
  (:func:`max_pool_relaxation`).
* LP/MILP relaxation and the block: Fischetti & Jo (docs/design.md 3.2). For window k with
  inputs x_i bounded by [L_i, U_i] and ``U = max_i U_i``: ``y >= x_i``,
  ``y <= x_i + (U - L_i)(1 - d_i)``, ``sum_i d_i = 1``, d binary. Only inputs that can be the
  maximum (``U_i`` above the window's largest lower bound) take part; a window whose bounds
  decide the maximum (one input's lower bound >= every other input's upper bound) gets
  ``y = x_lead`` and no binary. Components of ``layers[<maxpool name>]``: ``y[k]``, ``d[k, i]``
  (input i is the max of window k), constraints ``decided[k]``, ``above[k, i]``,
  ``chosen[k, i]``, ``one_max[k]``.
* The attack routes each window's gradient to the input holding its maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from pyomo_nn.blocks.components import bounded_var, constraint_rows
from pyomo_nn.blocks.network_block import ENCODED
from pyomo_nn.blocks.stats import LayerStats
from pyomo_nn.bounds import coefficients as coef
from pyomo_nn.bounds.coefficients import Coefficients
from pyomo_nn.bounds.naive import largest_input
from pyomo_nn.bounds.relaxation import RelaxationBuilder
from pyomo_nn.bounds.symbolic import Substitution
from pyomo_nn.exporters.onnx_exporter import GraphWriter, window_attributes
from pyomo_nn.ir import MaxPool2d, Network
from pyomo_nn.units.stages import register

Boxes = dict[str, tuple[np.ndarray, np.ndarray]]


# -- bounds -------------------------------------------------------------------------------------
def max_pool_relaxation(
    layer: MaxPool2d, lower: np.ndarray, upper: np.ndarray
) -> tuple[sp.csr_array, np.ndarray, sp.csr_array]:
    """Linear bounds ``y <= A x + c`` and ``y >= B x`` of a max pool over the box of its input.

    Lower: ``y >= x_lead``, the input with the window's largest lower bound ``l*``. Upper:
    ``y = x_lead`` for a decided window; otherwise the smaller at the box centre of the constant
    ``max_i u_i`` and ``l* + sum_i (u_i - l*) (x_i - l_i) / (u_i - l_i)`` over the inputs with
    ``u_i > l*`` (``max_i x_i = l* + max_i relu(x_i - l*)``, bounded by the sum of the relus'
    triangle relaxations).
    """
    candidates = layer.candidates(lower, upper)
    n_out, n_in = candidates.windows.shape[0], lower.size
    rows = np.arange(n_out)
    lower_map = sp.csr_array((np.ones(n_out), (rows, candidates.leader)), shape=(n_out, n_in))
    best_lower = lower[candidates.leader]
    window, slot = np.nonzero(candidates.candidate & ~candidates.decided[:, None])
    inputs = candidates.windows[window, slot]
    slopes = (upper[inputs] - best_lower[window]) / np.maximum(
        upper[inputs] - lower[inputs], np.finfo(float).tiny
    )
    at_centre = best_lower + np.bincount(
        window, weights=slopes * (upper[inputs] - lower[inputs]) / 2, minlength=n_out
    )
    linear = ~candidates.decided & (at_centre < candidates.upper)
    use = linear[window]
    intercept = np.where(linear, best_lower, np.where(candidates.decided, 0.0, candidates.upper))
    intercept -= np.bincount(window[use], weights=slopes[use] * lower[inputs[use]], minlength=n_out)
    decided = np.flatnonzero(candidates.decided)
    upper_map = sp.csr_array(
        (
            np.concatenate([np.ones(decided.size), slopes[use]]),
            (
                np.concatenate([decided, window[use]]),
                np.concatenate([candidates.leader[decided], inputs[use]]),
            ),
        ),
        shape=(n_out, n_in),
    )
    return upper_map, intercept, lower_map


def back_substitute(layer: MaxPool2d, coefficients: Coefficients, substitution: Substitution) -> None:
    """Each output by its upper or lower linear bound, whichever the coefficient's sign pushes toward."""
    upper_map, upper_intercept, lower_map = max_pool_relaxation(layer, *substitution.boxes[layer.input])
    positive, negative = coef.split_signs(coefficients)
    toward_upper, toward_lower = (positive, negative) if substitution.maximise else (negative, positive)
    relaxed = coef.add(coef.product(toward_upper, upper_map), coef.product(toward_lower, lower_map))
    substitution.pass_on(layer.input, relaxed)
    substitution.add_constant(
        coef.dot(toward_upper, upper_intercept),
        coef.dot(coef.absolute(toward_upper), np.abs(upper_intercept)),
    )


class MaxPoolOpenInputs:
    """An input that may be the maximum of an undecided window needs tighter bounds."""

    dead_needs_no_lower = False

    def open_inputs(
        self, network: Network, boxes: Boxes, layer: MaxPool2d, output_open: object
    ) -> list[np.ndarray | None]:
        candidates = layer.candidates(*boxes[layer.input])
        mask = np.zeros(network.sizes[layer.input], dtype=bool)
        mask[candidates.windows[candidates.candidate & ~candidates.decided[:, None]]] = True
        return [mask]


class MaxPoolRows:
    """Fischetti & Jo's rows over the input's columns (d binary, or in [0, 1] for the LP)."""

    reads_rows = False

    def add(self, builder: RelaxationBuilder, layer: MaxPool2d) -> np.ndarray:
        x = builder.input_columns(layer.input)
        in_box, out_box = builder.boxes[layer.input], builder.boxes[layer.name]
        candidates = layer.candidates(*in_box)
        y = builder.columns(*out_box)
        decided = np.flatnonzero(candidates.decided)
        window, slot = np.nonzero(candidates.candidate & ~candidates.decided[:, None])
        inputs = candidates.windows[window, slot]
        d = builder.columns(np.zeros(window.size), np.ones(window.size), binary=True)
        big_m = candidates.upper[window] - in_box[0][inputs]
        pairs = np.arange(window.size)
        # y - x_lead = 0 (decided); y - x_i >= 0; y - x_i + M d <= M; sum d = 1 (undecided)
        count = np.arange(decided.size)
        builder.rows(
            [
                (count, y[decided], np.ones(decided.size)),
                (count, x[candidates.leader[decided]], -np.ones(decided.size)),
            ],
            np.zeros(decided.size),
            np.zeros(decided.size),
        )
        above = [(pairs, y[window], np.ones(pairs.size)), (pairs, x[inputs], -np.ones(pairs.size))]
        builder.rows(above, np.zeros(pairs.size), np.full(pairs.size, np.inf))
        builder.rows([*above, (pairs, d, big_m)], np.full(pairs.size, -np.inf), big_m)
        undecided, position = np.unique(window, return_inverse=True)
        builder.rows([(position, d, np.ones(pairs.size))], np.ones(undecided.size), np.ones(undecided.size))
        return y


# -- the block ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MaxPoolBigMEncoded:
    """The (window, input) pairs that carry a binary, kept for the warm start."""

    pairs: list[tuple[int, int]]
    stats: LayerStats


@dataclass(frozen=True)
class _OpenWindows:
    """What every max-pool encoding needs from the layer's input bounds: the output box, the
    decided windows (and the input that is their maximum), the (window, input) pairs of the
    undecided ones, ``gap[k, i]`` = window k's upper bound minus input i's lower bound (the
    most ``y_k`` can exceed ``x_i``), and the inputs of each undecided window."""

    out_lower: np.ndarray
    out_upper: np.ndarray
    decided: list[int]
    leaders: np.ndarray
    pairs: list[tuple[int, int]]
    gap: dict[tuple[int, int], float]
    members: dict[int, list[int]]


def _open_windows(layer: MaxPool2d, lower: np.ndarray, upper: np.ndarray) -> _OpenWindows:
    candidates = layer.candidates(lower, upper)
    out_lower, out_upper = layer.interval(lower, upper)
    window, slot = np.nonzero(candidates.candidate & ~candidates.decided[:, None])
    inputs = candidates.windows[window, slot]
    pairs = list(zip(window.tolist(), inputs.tolist(), strict=True))
    gap = {
        pair: float(candidates.upper[k] - lower[i]) for pair, k, i in zip(pairs, window, inputs, strict=True)
    }
    members: dict[int, list[int]] = {k: [] for k in sorted(set(window.tolist()))}
    for k, i in pairs:
        members[k].append(i)
    decided = np.flatnonzero(candidates.decided).tolist()
    return _OpenWindows(out_lower, out_upper, decided, candidates.leader, pairs, gap, members)


def _window_maxima(pairs: list[tuple[int, int]], x: np.ndarray) -> dict[int, int]:
    """For each undecided window, the input holding its maximum at the input values ``x``."""
    chosen: dict[int, int] = {}
    for k, i in pairs:
        if k not in chosen or x[i] > x[chosen[k]]:
            chosen[k] = i
    return chosen


class MaxPoolBigM:
    """Fischetti & Jo's encoding (see the module docstring) in the layer's sub-block."""

    accepts_rows = False

    def encode(
        self, block: pyo.Block, layer: MaxPool2d, source: list, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, MaxPoolBigMEncoded]:
        open_ = _open_windows(layer, lower, upper)
        n, decided, pairs, members = open_.out_lower.size, open_.decided, open_.pairs, open_.members
        big_m, undecided = open_.gap, list(members)
        block.y = bounded_var(range(n), open_.out_lower, open_.out_upper)
        block.d = pyo.Var(pairs, domain=pyo.Binary)
        y, d, leaders = block.y, block.d, open_.leaders
        block.decided = constraint_rows(decided, lambda k: y[k] - source[leaders[k]] == 0)
        block.above = constraint_rows(pairs, lambda k, i: y[k] - source[i] >= 0)
        block.chosen = constraint_rows(
            pairs, lambda k, i: y[k] - source[i] + big_m[k, i] * d[k, i] <= big_m[k, i]
        )
        block.one_max = constraint_rows(undecided, lambda k: sum(d[k, i] for i in members[k]) == 1)
        stats = LayerStats(
            name=layer.name,
            kind="maxpool",
            neurons=n,
            active=len(decided),
            dead=0,
            split=len(undecided),
            variables=n + len(pairs),
            constraints=len(decided) + 2 * len(pairs) + len(undecided),
            binaries=len(pairs),
        )
        return [block.y[k] for k in range(n)], MaxPoolBigMEncoded(pairs, stats)

    def warm_start(
        self, block: pyo.Block, layer: MaxPool2d, encoded: MaxPoolBigMEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        """``y``, and ``d`` = 1 for the input holding each undecided window's maximum."""
        for k in range(y.size):
            block.y[k].set_value(float(y[k]), skip_validation=True)
        chosen = _window_maxima(encoded.pairs, x)
        for k, i in encoded.pairs:
            block.d[k, i].set_value(float(chosen[k] == i), skip_validation=True)


def _pool_pair(block: pyo.Block, k: int, i: int) -> list:
    """The SOS1 set of (window k, input i): its slack and its weight (pickles: a module function)."""
    return [block.s[k, i], block.d[k, i]]


class _MaxPoolSlack:
    """A max pool without binaries: for window k and each input i that can be its maximum,
    ``y_k = x_i + s_ki`` with ``s_ki`` in [0, U_k - L_i], weights ``d_ki`` in [0, 1] with
    ``sum_i d_ki = 1``, and ``s_ki d_ki = 0`` (:meth:`exclusive`): some input with a positive
    weight equals ``y_k``, and none exceeds it. Decided windows as in Big-M. Components:
    ``y``, ``s``, ``d``, ``decided``, ``slack``, ``one_max`` and the exclusive rows."""

    accepts_rows = False
    need = ""

    def exclusive(self, block: pyo.Block, pairs: list[tuple[int, int]]) -> int:
        raise NotImplementedError

    def encode(
        self, block: pyo.Block, layer: MaxPool2d, source: list, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, MaxPoolBigMEncoded]:
        open_ = _open_windows(layer, lower, upper)
        n, decided, pairs, members = open_.out_lower.size, open_.decided, open_.pairs, open_.members
        undecided = list(members)
        block.y = bounded_var(range(n), open_.out_lower, open_.out_upper)
        block.s = pyo.Var(pairs, bounds={pair: (0.0, max(open_.gap[pair], 0.0)) for pair in pairs})
        block.d = pyo.Var(pairs, bounds=(0.0, 1.0))
        y, s, d, leaders = block.y, block.s, block.d, open_.leaders
        block.decided = constraint_rows(decided, lambda k: y[k] - source[leaders[k]] == 0)
        block.slack = constraint_rows(pairs, lambda k, i: y[k] - source[i] - s[k, i] == 0)
        block.one_max = constraint_rows(undecided, lambda k: sum(d[k, i] for i in members[k]) == 1)
        rows = self.exclusive(block, pairs)
        stats = LayerStats(
            name=layer.name,
            kind="maxpool",
            neurons=n,
            active=len(decided),
            dead=0,
            split=len(undecided),
            variables=n + 2 * len(pairs),
            constraints=len(decided) + len(pairs) + len(undecided) + rows,
            binaries=0,
            needs=frozenset({self.need}) if pairs else frozenset(),
        )
        return [block.y[k] for k in range(n)], MaxPoolBigMEncoded(pairs, stats)

    def warm_start(
        self, block: pyo.Block, layer: MaxPool2d, encoded: MaxPoolBigMEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        """``y``, the slacks, and weight 1 on the input holding each undecided window's maximum."""
        for k in range(y.size):
            block.y[k].set_value(float(y[k]), skip_validation=True)
        chosen = _window_maxima(encoded.pairs, x)
        for k, i in encoded.pairs:
            block.s[k, i].set_value(float(y[k] - x[i]) if chosen[k] != i else 0.0, skip_validation=True)
            block.d[k, i].set_value(float(chosen[k] == i), skip_validation=True)


class MaxPoolSos1(_MaxPoolSlack):
    """:class:`_MaxPoolSlack` with ``{s_ki, d_ki}`` an SOS1 set (``sos[k, i]``)."""

    need = "sos1"

    def exclusive(self, block: pyo.Block, pairs: list[tuple[int, int]]) -> int:
        block.sos = pyo.SOSConstraint(pairs, rule=_pool_pair, sos=1)
        return len(pairs)


class MaxPoolComplementarity(_MaxPoolSlack):
    """:class:`_MaxPoolSlack` with ``s_ki d_ki <= 0`` (``complementarity[k, i]``), for NLP solvers."""

    need = "nonlinear"

    def exclusive(self, block: pyo.Block, pairs: list[tuple[int, int]]) -> int:
        block.complementarity = constraint_rows(pairs, lambda k, i: block.s[k, i] * block.d[k, i] <= 0.0)
        return len(pairs)


# -- export and the attack ----------------------------------------------------------------------
def export(writer: GraphWriter, layer: MaxPool2d, inputs: list[str], output: str) -> None:
    """Reshape to (batch, C, H, W), MaxPool, Flatten."""
    name = layer.name
    image = writer.tensor(name, inputs[0], layer.input_shape)
    result = writer.node(
        "MaxPool", [image], f"{name}.out", name, kernel_shape=list(layer.kernel), **window_attributes(layer)
    )
    writer.flat(name, result, output)


class MaxPoolGradient:
    """Each window's gradient goes to the input holding the window's maximum."""

    def prepare(self, layer: MaxPool2d) -> None:
        return None

    def backward(
        self, layer: MaxPool2d, values: dict[str, np.ndarray], grad: np.ndarray, leak: float, prepared: None
    ) -> list[np.ndarray]:
        x = values[layer.input]
        windows = layer.window.channel_windows
        safe = np.where(windows >= 0, windows, 0)
        window_values = np.where(windows >= 0, x[:, safe], -np.inf)
        winners = safe[np.arange(windows.shape[0]), np.argmax(window_values, axis=2)]
        result = np.zeros_like(x)
        batch = np.repeat(np.arange(x.shape[0]), windows.shape[0])
        np.add.at(result, (batch, winners.ravel()), grad.ravel())
        return [result]


register(
    MaxPool2d,
    naive=largest_input,
    symbolic=back_substitute,
    lp=MaxPoolRows(),
    tightening=MaxPoolOpenInputs(),
    milp=ENCODED,
    bigm=MaxPoolBigM(),
    sos1=MaxPoolSos1(),
    partition=MaxPoolBigM(),  # the partition formulation is the ReLU's; a max pool keeps Fischetti & Jo
    complementarity=MaxPoolComplementarity(),
    export=export,
    gradient=MaxPoolGradient(),
)
