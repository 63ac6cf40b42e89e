"""LeakyReLU, ``y = max(a, alpha a)`` with ``0 <= alpha <= 1`` (ONNX LeakyRelu), in every stage.

* Bounds: interval is exact (increasing); ``symbolic`` uses ReLU's triangle with the two lines
  of a split neuron: upper, the secant ``(l, alpha l)``-``(u, u)``; lower, ``a`` or ``alpha a``
  (both are below ``y``), whichever loses less (``a`` when ``u > -l``).
* LP/MILP rows and the Big-M (and partition) block: for a split neuron with ``L < 0 < U``,
  ``y >= a``, ``y >= alpha a``, ``y <= a - (1 - alpha) L (1 - z)``,
  ``y <= alpha a + (1 - alpha) U z``, z binary (z = 1: ``y = a >= 0``; z = 0: ``y = alpha a``,
  ``a <= 0``); stable: ``y = a`` or ``y = alpha a``. The partition encoding writes a LeakyReLU
  this way too.
* ``sos1`` / ``complementarity``: ``a = h - hbar``, ``y = h - alpha hbar`` with ``{h, hbar}`` an
  SOS1 set / ``h * hbar <= 0``, no binary.
* The attack passes ``alpha`` times the gradient where the input is negative.
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
from pyomo_nn.bounds.naive import largest_input
from pyomo_nn.bounds.relaxation import RelaxationBuilder, entries
from pyomo_nn.bounds.symbolic import Substitution
from pyomo_nn.exporters.onnx_exporter import GraphWriter
from pyomo_nn.ir import LeakyReLU, Network
from pyomo_nn.units.stages import register

Boxes = dict[str, tuple[np.ndarray, np.ndarray]]


def _split(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return (lower < 0) & (upper > 0)


def relaxation(
    alpha: float, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neuron: (upper slope, upper intercept, lower slope) of the linear bounds."""
    split = _split(lower, upper)
    stable = np.where(lower >= 0, 1.0, alpha)
    denominator = np.where(split, upper - lower, 1.0)
    upper_slope = np.where(split, (upper - alpha * lower) / denominator, stable)
    upper_intercept = np.where(split, (alpha - 1.0) * upper * lower / denominator, 0.0)
    lower_slope = np.where(split, np.where(upper > -lower, 1.0, alpha), stable)
    return upper_slope, upper_intercept, lower_slope


def back_substitute(layer: LeakyReLU, coefficients: Coefficients, substitution: Substitution) -> None:
    relaxed, shift, size = coef.relax(
        coefficients, substitution.maximise, *relaxation(layer.alpha, *substitution.boxes[layer.input])
    )
    substitution.pass_on(layer.input, relaxed)
    substitution.add_constant(shift, size)


class LeakyOpenInputs:
    """A split input neuron needs tighter bounds."""

    dead_needs_no_lower = False

    def open_inputs(
        self, network: Network, boxes: Boxes, layer: LeakyReLU, output_open: object
    ) -> list[np.ndarray | None]:
        return [_split(*boxes[layer.input])]


class LeakyRows:
    """LP/MILP relaxation rows over the pre-activation rows ``a`` (module docstring)."""

    reads_rows = True

    def add(self, builder: RelaxationBuilder, layer: LeakyReLU) -> np.ndarray:
        pre = builder.pre_activations(layer.input)
        lower, upper = builder.boxes[layer.input]
        alpha = layer.alpha
        y = builder.columns(*layer.interval(lower, upper))
        split = np.flatnonzero(_split(lower, upper))
        stable = np.flatnonzero(~_split(lower, upper))
        z = builder.columns(np.zeros(split.size), np.ones(split.size), binary=True)
        slope = np.where(lower >= 0, 1.0, alpha)
        offset = pre.offset

        def rows(neurons, a_scale, z_coefficient, low, high):
            # y - a_scale * (M x + offset) + z_coefficient * z in [low, high]
            local, columns, values = entries(pre.matrix, neurons)
            parts = [
                (np.arange(neurons.size), y[neurons], np.ones(neurons.size)),
                (local, columns, -a_scale[local] * values),
            ]
            if z_coefficient is not None:
                parts.append((np.arange(neurons.size), z, z_coefficient))
            builder.rows(parts, low + a_scale * offset[neurons], high + a_scale * offset[neurons])

        ones, alphas = np.ones(split.size), np.full(split.size, alpha)
        inf = np.full(split.size, np.inf)
        rows(stable, slope[stable], None, np.zeros(stable.size), np.zeros(stable.size))
        rows(split, ones, None, np.zeros(split.size), inf)
        rows(split, alphas, None, np.zeros(split.size), inf)
        # y - a - (1 - alpha) L z <= -(1 - alpha) L ; y - alpha a - (1 - alpha) U z <= 0
        rows(split, ones, -(1 - alpha) * lower[split], -inf, -(1 - alpha) * lower[split])
        rows(split, alphas, -(1 - alpha) * upper[split], -inf, np.zeros(split.size))
        return y


# -- the block ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeakyEncoded:
    """What the block keeps: the split neurons (for the warm start) and the counts."""

    split: list[int]
    stats: LayerStats


def _stable_rows(block: pyo.Block, layer: LeakyReLU, pre: LinearRows, lower: np.ndarray, upper: np.ndarray):
    n = lower.size
    split = np.flatnonzero(_split(lower, upper)).tolist()
    stable = np.flatnonzero(~_split(lower, upper)).tolist()
    block.y = bounded_var(range(n), *layer.interval(lower, upper))
    scale = {j: 1.0 if lower[j] >= 0 else layer.alpha for j in stable}
    block.linear = constraint_rows(stable, lambda j: (0.0, scale[j] * pre.expression(j) - block.y[j], 0.0))
    return split, stable


class LeakyBigM:
    """The four rows of the module docstring with a binary ``z`` per split neuron. Components:
    ``y``, ``z``, ``linear``, ``above``, ``above_scaled``, ``active_bound``, ``inactive_bound``."""

    accepts_rows = True

    def encode(
        self, block: pyo.Block, layer: LeakyReLU, pre: LinearRows, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, LeakyEncoded]:
        split, stable = _stable_rows(block, layer, pre, lower, upper)
        alpha, y = layer.alpha, block.y
        block.z = pyo.Var(split, domain=pyo.Binary)
        z = block.z
        block.above = constraint_rows(split, lambda j: y[j] - pre.expression(j) >= 0.0)
        block.above_scaled = constraint_rows(split, lambda j: y[j] - alpha * pre.expression(j) >= 0.0)
        block.active_bound = constraint_rows(
            split, lambda j: y[j] - pre.expression(j) + (1 - alpha) * float(lower[j]) * (1 - z[j]) <= 0.0
        )
        block.inactive_bound = constraint_rows(
            split, lambda j: y[j] - alpha * pre.expression(j) - (1 - alpha) * float(upper[j]) * z[j] <= 0.0
        )
        n = lower.size
        active = int(np.sum(lower >= 0))
        stats = LayerStats(
            layer.name,
            "leakyrelu",
            n,
            active,
            len(stable) - active,
            len(split),
            n + len(split),
            len(stable) + 4 * len(split),
            len(split),
        )
        return [block.y[j] for j in range(n)], LeakyEncoded(split, stats)

    def warm_start(
        self, block: pyo.Block, layer: LeakyReLU, encoded: LeakyEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        set_values(block.y, y)
        set_values(block.z, (x > 0).astype(float))


def _pair(block: pyo.Block, j: int) -> list:
    return [block.h[j], block.hbar[j]]


class _LeakySlack:
    """``a = h - hbar``, ``y = h - alpha hbar`` for a split neuron, one of ``h``, ``hbar`` zero
    (:meth:`exclusive`); no binary. Components: ``y``, ``h``, ``hbar``, ``linear``,
    ``pre_activation``, ``output`` and the exclusive rows."""

    accepts_rows = True
    need = ""

    def exclusive(self, block: pyo.Block, split: list[int]) -> None:
        raise NotImplementedError

    def encode(
        self, block: pyo.Block, layer: LeakyReLU, pre: LinearRows, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, LeakyEncoded]:
        split, stable = _stable_rows(block, layer, pre, lower, upper)
        n = lower.size
        block.h = bounded_var(split, np.zeros(n), np.maximum(upper, 0.0))
        block.hbar = bounded_var(split, np.zeros(n), np.maximum(-lower, 0.0))
        h, hbar, y = block.h, block.hbar, block.y
        block.pre_activation = constraint_rows(
            split, lambda j: (0.0, pre.expression(j) - h[j] + hbar[j], 0.0)
        )
        block.output = constraint_rows(split, lambda j: (0.0, y[j] - h[j] + layer.alpha * hbar[j], 0.0))
        self.exclusive(block, split)
        active = int(np.sum(lower >= 0))
        stats = LayerStats(
            layer.name,
            "leakyrelu",
            n,
            active,
            len(stable) - active,
            len(split),
            n + 2 * len(split),
            len(stable) + 3 * len(split),
            0,
            frozenset({self.need}) if split else frozenset(),
        )
        return [block.y[j] for j in range(n)], LeakyEncoded(split, stats)

    def warm_start(
        self, block: pyo.Block, layer: LeakyReLU, encoded: LeakyEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        set_values(block.y, y)
        for j in encoded.split:
            block.h[j].set_value(float(max(x[j], 0.0)), skip_validation=True)
            block.hbar[j].set_value(float(max(-x[j], 0.0)), skip_validation=True)


class LeakySos1(_LeakySlack):
    need = "sos1"

    def exclusive(self, block: pyo.Block, split: list[int]) -> None:
        block.sos = pyo.SOSConstraint(split, rule=_pair, sos=1)


class LeakyComplementarity(_LeakySlack):
    need = "nonlinear"

    def exclusive(self, block: pyo.Block, split: list[int]) -> None:
        block.complementarity = constraint_rows(split, lambda j: block.h[j] * block.hbar[j] <= 0.0)


# -- export and the attack ----------------------------------------------------------------------
def export(writer: GraphWriter, layer: LeakyReLU, inputs: list[str], output: str) -> None:
    writer.node("LeakyRelu", inputs, output, layer.name, alpha=float(layer.alpha))


class LeakyGradient:
    """The gradient where the input is positive, ``alpha`` times it elsewhere."""

    def prepare(self, layer: LeakyReLU) -> None:
        return None

    def backward(
        self, layer: LeakyReLU, values: dict[str, np.ndarray], grad: np.ndarray, leak: float, prepared: None
    ) -> list[np.ndarray]:
        return [grad * np.where(values[layer.input] > 0, 1.0, layer.alpha)]


register(
    LeakyReLU,
    naive=largest_input,
    symbolic=back_substitute,
    lp=LeakyRows(),
    tightening=LeakyOpenInputs(),
    milp=ENCODED,
    bigm=LeakyBigM(),
    sos1=LeakySos1(),
    partition=LeakyBigM(),
    complementarity=LeakyComplementarity(),
    export=export,
    gradient=LeakyGradient(),
)
