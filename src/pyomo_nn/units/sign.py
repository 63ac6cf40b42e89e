"""Sign, ONNX ``Sign`` (-1, 0, +1): the activation of binarised networks, in every stage.

* Bounds: ``interval`` is exact ([sign(l), sign(u)]); ``symbolic`` bounds the output by those
  constants (no linear term); ``naive``: 1.
* The block (every encoding) and the LP/MILP relaxation: for a pre-activation ``a`` in [L, U]
  that can have both signs, binaries ``p`` (positive) and ``n`` (negative) with
  ``a <= U p``, ``a >= L n``, ``p + n <= 1`` and ``y = p - n``: ``a > 0`` forces ``p = 1``,
  ``a < 0`` forces ``n = 1``. At ``a = 0`` exactly the rows allow any of -1, 0, +1 (closed rows
  cannot say "strictly"), so the encoding contains the true graph (sound: bounds and proofs
  hold) and a solution on the threshold is caught by the onnxruntime re-check. A neuron with
  ``L > 0`` or ``U < 0`` is decided (no binary); with ``L = 0`` or ``U = 0`` it needs one.
* The attack passes ``leak`` times the gradient through (a straight-through surrogate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks.components import bounded_var, constraint_rows, set_values
from pyomo_nn.blocks.network_block import ENCODED, LinearRows
from pyomo_nn.blocks.stats import LayerStats
from pyomo_nn.bounds import coefficients as coef
from pyomo_nn.bounds.coefficients import Coefficients
from pyomo_nn.bounds.relaxation import RelaxationBuilder, entries
from pyomo_nn.bounds.symbolic import Substitution
from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import Network
from pyomo_nn.ir.sign import Sign
from pyomo_nn.units.stages import register

Boxes = dict[str, tuple[np.ndarray, np.ndarray]]


def _sides(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which neurons can be positive, which negative."""
    return upper > 0, lower < 0


# -- bounds -------------------------------------------------------------------------------------
def magnitude(layer: Sign, incoming: list[float]) -> float:
    return 1.0


def back_substitute(layer: Sign, coefficients: Coefficients, substitution: Substitution) -> None:
    """Each output by the constant sign(u) or sign(l), whichever the coefficient pushes toward."""
    lower, upper = substitution.boxes[layer.input]
    zero = np.zeros(lower.size)
    relaxed, shift_up, size_up = coef.relax(coefficients, substitution.maximise, zero, np.sign(upper), zero)
    _, shift_down, size_down = coef.relax(coefficients, not substitution.maximise, zero, np.sign(lower), zero)
    substitution.pass_on(layer.input, relaxed)
    substitution.add_constant(shift_up + shift_down, size_up + size_down)


class SignOpenInputs:
    """A neuron whose input can have both signs (or touches 0) needs tighter bounds."""

    dead_needs_no_lower = False

    def open_inputs(
        self, network: Network, boxes: Boxes, layer: Sign, output_open: object
    ) -> list[np.ndarray | None]:
        lower, upper = boxes[layer.input]
        return [(lower <= 0) & (upper >= 0) & ~((lower == 0) & (upper == 0))]


class SignRows:
    """LP/MILP relaxation rows: columns ``p`` in [0, 1] (0 where ``a`` cannot be positive),
    ``n`` in [0, 1] (0 where it cannot be negative), ``y`` in [sign(L), sign(U)];
    ``y - p + n = 0``, ``a - U p <= 0``, ``a - L n >= 0``, ``p + n <= 1``."""

    reads_rows = True

    def add(self, builder: RelaxationBuilder, layer: Sign) -> np.ndarray:
        pre = builder.pre_activations(layer.input)
        lower, upper = builder.boxes[layer.input]
        n = lower.size
        positive, negative = _sides(lower, upper)
        p = builder.columns(np.where(lower > 0, 1.0, 0.0), positive.astype(float), binary=True)
        q = builder.columns(np.where(upper < 0, 1.0, 0.0), negative.astype(float), binary=True)
        y = builder.columns(np.sign(lower), np.sign(upper))
        neurons = np.arange(n)
        ones = np.ones(n)
        builder.rows([(neurons, y, ones), (neurons, p, -ones), (neurons, q, ones)], np.zeros(n), np.zeros(n))
        local, columns, values = entries(pre.matrix, neurons)
        # a - U p <= 0 and a - L n >= 0, a = M x + offset
        builder.rows(
            [(local, columns, values), (neurons, p, -np.maximum(upper, 0.0))],
            np.full(n, -np.inf),
            -pre.offset,
        )
        builder.rows(
            [(local, columns, values), (neurons, q, -np.minimum(lower, 0.0))],
            -pre.offset,
            np.full(n, np.inf),
        )
        builder.rows([(neurons, p, ones), (neurons, q, ones)], np.full(n, -np.inf), ones)
        return y


# -- the block ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignEncoded:
    """What the encoding keeps: its counts."""

    stats: LayerStats


class SignBigM:
    """``y[j] = p[j] - n[j]`` with ``a <= U p``, ``a >= L n``, ``p + n <= 1``, p, n binary, for a
    neuron whose input can be positive and negative (or 0); ``y`` fixed when the sign is
    decided. Components: ``y``, ``p``, ``n``, ``value``, ``positive``, ``negative``, ``one_side``.
    The same in every encoding (there is no slack form to choose)."""

    accepts_rows = True

    def encode(
        self, block: pyo.Block, layer: Sign, pre: LinearRows, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, SignEncoded]:
        size = lower.size
        positive, negative = _sides(lower, upper)
        decided = (lower > 0) | (upper < 0) | ((lower == 0) & (upper == 0))
        can_p = np.flatnonzero(positive & ~decided).tolist()
        can_n = np.flatnonzero(negative & ~decided).tolist()
        open_ = np.flatnonzero(~decided).tolist()
        block.y = bounded_var(range(size), np.sign(lower), np.sign(upper))
        for j in np.flatnonzero(decided).tolist():
            block.y[j].fix(float(np.sign(lower[j])) if lower[j] != 0 else float(np.sign(upper[j])))
        block.p = pyo.Var(can_p, domain=pyo.Binary)
        block.n = pyo.Var(can_n, domain=pyo.Binary)
        with_p, with_n = set(can_p), set(can_n)
        p = {j: (block.p[j] if j in with_p else 0) for j in open_}
        n = {j: (block.n[j] if j in with_n else 0) for j in open_}
        block.value = constraint_rows(open_, lambda j: (0.0, block.y[j] - p[j] + n[j], 0.0))
        block.positive = constraint_rows(
            open_, lambda j: pre.expression(j) - float(max(upper[j], 0.0)) * p[j] <= 0.0
        )
        block.negative = constraint_rows(
            open_, lambda j: pre.expression(j) - float(min(lower[j], 0.0)) * n[j] >= 0.0
        )
        both = [j for j in open_ if j in with_p and j in with_n]
        block.one_side = constraint_rows(both, lambda j: block.p[j] + block.n[j] <= 1)
        stats = LayerStats(
            layer.name,
            "sign",
            size,
            int(np.sum(lower > 0)),
            int(np.sum(upper < 0)),
            len(open_),
            size + len(can_p) + len(can_n),
            3 * len(open_) + len(both),
            len(can_p) + len(can_n),
        )
        return [block.y[j] for j in range(size)], SignEncoded(stats)

    def warm_start(
        self, block: pyo.Block, layer: Sign, encoded: SignEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        set_values(block.y, np.sign(x))
        set_values(block.p, (x > 0).astype(float))
        set_values(block.n, (x < 0).astype(float))


# -- export and the attack ----------------------------------------------------------------------
def export(writer: GraphWriter, layer: Sign, inputs: list[str], output: str) -> None:
    writer.node("Sign", inputs, output, layer.name)


class SignGradient:
    """Sign's gradient is 0 almost everywhere (useless to an attack): the surrogate passes
    ``leak`` times the gradient (a straight-through estimator; exact, 0, with ``leak = 0``)."""

    def prepare(self, layer: Sign) -> None:
        return None

    def backward(
        self, layer: Sign, values: dict[str, np.ndarray], grad: np.ndarray, leak: float, prepared: None
    ) -> list[np.ndarray]:
        return [grad * leak]


_ENCODING = SignBigM()

register(
    Sign,
    naive=magnitude,
    symbolic=back_substitute,
    lp=SignRows(),
    tightening=SignOpenInputs(),
    milp=ENCODED,
    bigm=_ENCODING,
    sos1=_ENCODING,
    partition=_ENCODING,
    complementarity=_ENCODING,
    export=export,
    gradient=SignGradient(),
)
