"""The stages of the smooth activations (Sigmoid, Tanh, Softplus), shared by their units.

* Bounds: ``interval`` is exact (the functions increase). ``symbolic`` and the LP/MILP
  relaxation use two parallel lines over the input's box [l, u]: slope ``k`` = the secant's,
  ``k x + c_lo <= f(x) <= k x + c_hi`` with ``c_lo``/``c_hi`` the least/largest value of
  ``f(x) - k x`` on [l, u], found exactly at the ends and the points where ``f' = k``
  (:meth:`where_slope` of the IR class), widened by a rounding margin. Sound for every input of
  the box; exact where l = u up to that margin.
* The block, in every encoding: ``y = f(a)`` as a nonlinear Pyomo expression (``exp``,
  ``log``), with ``y`` in [f(l), f(u)]; no binary. A MILP solver is refused before the solve
  (``needs`` = nonlinear); SCIP solves it globally, Ipopt locally.
* The attack multiplies by ``f'``.
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
from pyomo_nn.ir.activations import Sigmoid, Softplus, Tanh, _Smooth
from pyomo_nn.tolerances import BOUND_SAFETY_ABS, BOUND_SAFETY_REL, SYMBOLIC_ROUNDING
from pyomo_nn.units.stages import register

Boxes = dict[str, tuple[np.ndarray, np.ndarray]]


def parallel_lines(
    layer: _Smooth, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per value: (slope k, c_lo, c_hi) with ``k x + c_lo <= f(x) <= k x + c_hi`` on [l, u]."""
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    width = upper - lower
    wide = width > 1e-12 * np.maximum(1.0, np.abs(lower))
    f_lower, f_upper = layer.function(lower), layer.function(upper)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(wide, (f_upper - f_lower) / np.where(wide, width, 1.0), layer.derivative(lower))
    candidates = [lower, upper]
    for point in layer.where_slope(slope):
        inside = np.isfinite(point) & (point > lower) & (point < upper)
        candidates.append(np.where(inside, point, lower))
    gaps = np.array([layer.function(x) - slope * x for x in candidates])
    margin = BOUND_SAFETY_ABS + BOUND_SAFETY_REL * (np.abs(slope) * np.maximum(abs(lower), abs(upper)) + 1.0)
    margin = margin + SYMBOLIC_ROUNDING * (np.abs(slope) * np.maximum(abs(lower), abs(upper)) + 1.0)
    return slope, gaps.min(axis=0) - margin, gaps.max(axis=0) + margin


def output_box(layer: _Smooth, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[f(l), f(u)], widened by the rounding margin (the solver evaluates f its own way)."""
    low, high = layer.interval(lower, upper)
    margin = BOUND_SAFETY_ABS + BOUND_SAFETY_REL * np.maximum(np.abs(low), np.abs(high))
    return low - margin, high + margin


# -- bounds -------------------------------------------------------------------------------------
def back_substitute(layer: _Smooth, coefficients: Coefficients, substitution: Substitution) -> None:
    """Each output by the upper or lower line, whichever the coefficient's sign pushes toward."""
    slope, c_lo, c_hi = parallel_lines(layer, *substitution.boxes[layer.input])
    relaxed, shift_up, size_up = coef.relax(coefficients, substitution.maximise, slope, c_hi, slope)
    _, shift_down, size_down = coef.relax(coefficients, not substitution.maximise, slope, c_lo, slope)
    substitution.pass_on(layer.input, relaxed)
    substitution.add_constant(shift_up + shift_down, size_up + size_down)


def magnitude(layer: _Smooth, incoming: list[float]) -> float:
    """The largest |f(x)| for |x| <= the input's bound (f increases)."""
    m = max(incoming)
    return float(max(abs(layer.function(np.array(m))), abs(layer.function(np.array(-m)))))


class SmoothOpenInputs:
    """The encoding is exact whatever the bounds: no input needs tightening for it."""

    dead_needs_no_lower = False

    def open_inputs(
        self, network: Network, boxes: Boxes, layer: _Smooth, output_open: object
    ) -> list[np.ndarray | None]:
        lower, _ = boxes[layer.input]
        return [np.zeros(lower.size, dtype=bool)]


class SmoothRows:
    """LP/MILP relaxation rows: ``y`` in [f(l), f(u)] and the two parallel lines over ``a``.
    Not exact with a fixed input (the lines come from the bounds' box): ``exact = False``."""

    reads_rows = True
    exact = False

    def add(self, builder: RelaxationBuilder, layer: _Smooth) -> np.ndarray:
        pre = builder.pre_activations(layer.input)
        lower, upper = builder.boxes[layer.input]
        n = lower.size
        y = builder.columns(*output_box(layer, lower, upper))
        slope, c_lo, c_hi = parallel_lines(layer, lower, upper)
        neurons = np.arange(n)
        local, columns, values = entries(pre.matrix, neurons)
        # y - k (M x + offset) in [c_lo, c_hi]
        builder.rows(
            [(neurons, y, np.ones(n)), (local, columns, -slope[local] * values)],
            c_lo + slope * pre.offset,
            c_hi + slope * pre.offset,
        )
        return y


# -- the block ----------------------------------------------------------------------------------
def _expression(layer: _Smooth, a: object) -> object:
    if isinstance(layer, Sigmoid):
        return 1 / (1 + pyo.exp(-a))
    if isinstance(layer, Tanh):
        return 2 / (1 + pyo.exp(-2 * a)) - 1
    return pyo.log(1 + pyo.exp(a))


@dataclass(frozen=True)
class SmoothEncoded:
    """What the encoding keeps: only its counts."""

    stats: LayerStats


class SmoothExact:
    """``y[j] = f(a_j)`` (``exact[j]``), ``y`` in [f(l), f(u)]: the same in every encoding."""

    accepts_rows = True

    def encode(
        self, block: pyo.Block, layer: _Smooth, pre: LinearRows, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, SmoothEncoded]:
        n = lower.size
        block.y = bounded_var(range(n), *output_box(layer, lower, upper))
        block.exact = constraint_rows(range(n), lambda j: block.y[j] == _expression(layer, pre.expression(j)))
        stats = LayerStats(layer.name, layer.op.lower(), n, 0, 0, 0, n, n, 0, frozenset({"nonlinear"}))
        return [block.y[j] for j in range(n)], SmoothEncoded(stats)

    def warm_start(
        self, block: pyo.Block, layer: _Smooth, encoded: SmoothEncoded, x: np.ndarray, y: np.ndarray
    ) -> None:
        set_values(block.y, y)


# -- export and the attack ----------------------------------------------------------------------
def export(writer: GraphWriter, layer: _Smooth, inputs: list[str], output: str) -> None:
    writer.node(layer.op, inputs, output, layer.name)


class SmoothGradient:
    """The gradient times ``f'`` at the input."""

    def prepare(self, layer: _Smooth) -> None:
        return None

    def backward(
        self, layer: _Smooth, values: dict[str, np.ndarray], grad: np.ndarray, leak: float, prepared: None
    ) -> list[np.ndarray]:
        return [grad * layer.derivative(values[layer.input])]


def register_smooth(kind: type[_Smooth]) -> None:
    """Register ``kind`` in every stage (one call per unit: ``units/sigmoid.py``, ...)."""
    exact = SmoothExact()
    register(
        kind,
        naive=magnitude,
        symbolic=back_substitute,
        lp=SmoothRows(),
        tightening=SmoothOpenInputs(),
        milp=ENCODED,
        bigm=exact,
        sos1=exact,
        partition=exact,
        complementarity=exact,
        export=export,
        gradient=SmoothGradient(),
    )


__all__ = ["Sigmoid", "Softplus", "Tanh", "register_smooth"]
