"""The ideal per-neuron formulation's inequalities, separated over the LP relaxation before the MILP.

Anderson, Huchette, Ma, Tjandraatmadja, Vielma (2020), "Strong mixed-integer programming
formulations for trained neural networks", Math. Programming 183: for a ReLU
``y = max(0, w . x + b)`` with binary ``z`` and a box ``L <= x <= U``, write per input
``Lb_i = L_i, Ub_i = U_i`` if ``w_i >= 0`` else ``Lb_i = U_i, Ub_i = L_i``. Then for every
subset ``I`` of the inputs

    y <= sum_{i in I} w_i (x_i - Lb_i (1 - z)) + (b + sum_{i not in I} w_i Ub_i) z

is valid (``z = 0``: each term of I is >= 0; ``z = 1``: the right side is >= w . x + b), and
together with ``y >= w . x + b``, ``y >= 0`` and the box they describe the convex hull of the
neuron's graph (the formulation is ideal). There are 2^n of them, but the most violated one at
an LP point ``(x*, y*, z*)`` is found in linear time: put ``i`` in ``I`` exactly when
``w_i x*_i < w_i (Lb_i (1 - z*) + Ub_i z*)`` (the separation routine of the paper and of its IPCO
2019 version, arXiv:1811.08359).

:func:`add_ideal_cuts` runs the cut loop: the LP relaxation of the whole model (every binary
relaxed to [0, 1]) in HiGHS, the most violated inequality of every split ReLU of every block
written with a binary (``bigm``, ``partition``), the violated ones added to the LP (HiGHS
re-solves from its basis) and, as ordinary constraints, to the block (``block.ideal_cuts``), a
few rounds. The box of ``x`` is that of the
variables the neuron reads: the block's input box, or the previous ReLU's output box
``[max(0, l), max(0, u)]`` from the block's bounds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from pyomo_nn.blocks.network_block import NetworkBlock, network_blocks
from pyomo_nn.errors import InvalidArgumentError
from pyomo_nn.highs_instance import new_highs
from pyomo_nn.ir import Role
from pyomo_nn.solvers.highs_adapter import HIGHS_DEFAULT_OPTIONS, _compile, _pass_model

#: An inequality is added only when the LP point violates it by more than this (absolute, in
#: the units of the neuron's output; the bounds of these networks' activations are 0.1-100).
IDEAL_CUT_MIN_VIOLATION = 1e-4

#: Default number of separation rounds.
IDEAL_CUT_ROUNDS = 10

#: Default time budget of the whole cut loop, seconds (its LPs take milliseconds on the digits
#: nets; the budget guards against simplex cycling, seen once on a degenerate LP).
IDEAL_CUT_TIME_LIMIT = 10.0

#: Formulations whose ReLU rows hold ``h = max(0, a)`` with a binary ``z`` (1: active), to which
#: the inequalities apply; the others (``sos1``, ``complementarity``) have no binary.
CUT_FORMULATIONS = ("bigm", "partition")

#: Name of the ConstraintList a block's cuts go in.
CUTS_COMPONENT = "ideal_cuts"


@dataclass
class _Neuron:
    """One split ReLU: ``y = max(0, w . x + b)`` over the columns ``x`` (indices into the
    LP's columns; -1 for a fixed variable, whose value is in ``constant``)."""

    block: NetworkBlock
    y: object
    z: object
    x_vars: list
    columns: np.ndarray
    weights: np.ndarray
    bias: float
    lower: np.ndarray
    upper: np.ndarray
    y_column: int
    z_column: int


@dataclass
class CutReport:
    """What :func:`add_ideal_cuts` did: the LP relaxation's value before the first and after
    each round (``lp_bounds[0]`` is the plain Big-M relaxation), cuts added per round, seconds."""

    lp_bounds: list[float] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)
    neurons: int = 0
    seconds: float = 0.0
    stopped: str = ""  # why the loop stopped early, if an LP was not solved

    @property
    def total_cuts(self) -> int:
        return sum(self.cuts)

    def __str__(self) -> str:
        if not self.lp_bounds:
            return f"ideal cuts: nothing to separate ({self.neurons} split neurons)"
        return (
            f"ideal cuts: {self.total_cuts} over {len(self.cuts)} round(s) on {self.neurons} split "
            f"neurons; LP bound {self.lp_bounds[0]:.9g} -> {self.lp_bounds[-1]:.9g}; {self.seconds:.3g} s"
            + (f"; {self.stopped}" if self.stopped else "")
        )


def add_ideal_cuts(
    model: pyo.Block,
    rounds: int = IDEAL_CUT_ROUNDS,
    *,
    min_violation: float = IDEAL_CUT_MIN_VIOLATION,
    time_limit: float = IDEAL_CUT_TIME_LIMIT,
) -> CutReport:
    """Separate the ideal ReLU inequalities over the LP relaxation of ``model`` for ``rounds``
    rounds (fewer if none is violated) and add them to the blocks as ``block.ideal_cuts``.

    The model must be linear with one active objective (or none: the LP then has objective 0
    and finds nothing to cut). Layers of other formulations (``sos1``, ``complementarity``) and
    other piecewise kinds (max pooling) are skipped. ``time_limit`` bounds the whole loop
    (seconds): an LP not solved in time (or at all) ends it, keeping the cuts added so far
    (each is valid on its own). Returns a :class:`CutReport`.
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise InvalidArgumentError(f"rounds must be a whole number >= 1, got {rounds!r}")
    if not min_violation > 0:
        raise InvalidArgumentError(f"min_violation must be positive, got {min_violation!r}")
    if not time_limit > 0:
        raise InvalidArgumentError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    started = time.perf_counter()
    report = CutReport()
    blocks = [block for block in network_blocks(model) if _cut_layers(block)]
    if not blocks:
        return report
    try:
        form = _compile(model)
    except ValueError as error:  # e.g. SOS1 rows of another block
        raise InvalidArgumentError(
            f"the cut loop solves the model's LP relaxation with HiGHS, which cannot take this model: {error}"
        ) from error
    column_of = {id(var): j for j, var in enumerate(form.columns)}
    neurons = [n for block in blocks for n in _split_neurons(block, column_of)]
    report.neurons = len(neurons)
    if not neurons:
        return report
    highs = new_highs()
    for name, value in HIGHS_DEFAULT_OPTIONS.items():
        highs.setOptionValue(name, value)
    _pass_model(highs, form, np.zeros(len(form.columns), dtype=bool))  # the LP relaxation
    offset = float(form.c_offset[0]) if form.c_offset.size else 0.0
    lists: dict[int, pyo.ConstraintList] = {}
    deadline = started + time_limit
    for _ in range(rounds):
        if not _solved(highs, deadline):
            report.stopped = f"LP not solved ({highs.modelStatusToString(highs.getModelStatus())})"
            break
        report.lp_bounds.append(float(highs.getInfo().objective_function_value) + offset)
        values = np.asarray(highs.getSolution().col_value, dtype=np.float64)
        added = 0
        for neuron in neurons:
            cut = _most_violated(neuron, values, min_violation)
            if cut is None:
                continue
            x_coefficients, z_coefficient, rhs = cut
            _add_row(highs, neuron, x_coefficients, z_coefficient, rhs)
            constraints = lists.get(id(neuron.block))
            if constraints is None:
                constraints = _cut_list(neuron.block)
                lists[id(neuron.block)] = constraints
            constraints.add(_expression(neuron, x_coefficients, z_coefficient) <= rhs)
            added += 1
        if not added:
            break
        report.cuts.append(added)
    else:
        if _solved(highs, deadline):  # the bound after the last round
            report.lp_bounds.append(float(highs.getInfo().objective_function_value) + offset)
    report.seconds = time.perf_counter() - started
    return report


def _solved(highs: highspy.Highs, deadline: float) -> bool:
    """Solve the LP within the time left: from the previous basis with an iteration limit,
    then once more from scratch (the dual simplex cycled from the previous basis once, on the
    degenerate LP of a model holding the objective's bound row)."""
    size = highs.getNumRow() + highs.getNumCol()
    for attempt in range(2):
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        if attempt:
            highs.clearSolver()
        highs.setOptionValue("time_limit", float(left))
        highs.setOptionValue("simplex_iteration_limit", 10 * size + 1000 if not attempt else 2**31 - 1)
        highs.run()
        if highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            return True
    return False


def _cut_layers(block: NetworkBlock) -> list[str]:
    """The ReLU layers of ``block`` written with ``h = max(0, a)`` and a binary ``z`` (1: active)."""
    found = []
    for name, encoded in block._encoded.items():
        sub = block.layers[name]
        formulation = block.layer_formulations.get(name, block.formulation)
        if (
            formulation in CUT_FORMULATIONS
            and sub.component("z") is not None
            and sub.component("h") is not None
            and getattr(encoded, "pre", None) is not None
        ):
            found.append(name)
    return found


def _split_neurons(block: NetworkBlock, column_of: dict[int, int]) -> list[_Neuron]:
    """The split ReLUs of ``block`` written with a binary, with their input boxes."""
    boxes = block.bounds.tensor_boxes(block.network)
    box_of: dict[int, tuple[float, float]] = {}
    input_lower, input_upper = block.input_box()
    for i, var in enumerate(block.input_vars()):
        box_of[id(var)] = (float(input_lower[i]), float(input_upper[i]))
    for layer in block.network.layers:
        if layer.role is not Role.PIECEWISE or layer.name not in block._encoded:
            continue
        sub = block.layers[layer.name]
        h = sub.component("h")
        if h is None or layer.name not in boxes:
            continue
        lo, hi = boxes[layer.name]
        for j in h:
            box_of[id(h[j])] = (float(lo[j]), float(hi[j]))
    found = []
    for name in _cut_layers(block):
        sub = block.layers[name]
        z, h, pre = sub.z, sub.h, block._encoded[name].pre
        for j in z:
            columns, weights = pre.matrix.row(j)
            x_vars = [pre.vars[i] for i in columns]
            lower, upper = np.empty(len(x_vars)), np.empty(len(x_vars))
            for k, var in enumerate(x_vars):
                if var.fixed:
                    lower[k] = upper[k] = float(var.value)
                    continue
                lo, hi = box_of.get(id(var), (-math.inf, math.inf))
                lower[k] = max(lo, -math.inf if var.lb is None else var.lb)
                upper[k] = min(hi, math.inf if var.ub is None else var.ub)
            if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
                continue
            if id(h[j]) not in column_of or id(z[j]) not in column_of:
                continue
            found.append(
                _Neuron(
                    block,
                    h[j],
                    z[j],
                    x_vars,
                    np.array([-1 if v.fixed else column_of.get(id(v), -1) for v in x_vars], dtype=np.int64),
                    np.asarray(weights, dtype=np.float64),
                    float(pre.offset[j]),
                    lower,
                    upper,
                    column_of[id(h[j])],
                    column_of[id(z[j])],
                )
            )
    return found


def _most_violated(
    neuron: _Neuron, values: np.ndarray, min_violation: float
) -> tuple[np.ndarray, float, float] | None:
    """The most violated inequality at the LP point as ``(a, c, r)``: ``y - a . x - c z <= r``
    (``a`` is zero outside I), or None if it is violated by no more than ``min_violation``."""
    w = neuron.weights
    fixed = neuron.columns < 0
    x = np.where(fixed, neuron.lower, values[np.maximum(neuron.columns, 0)])
    y, z = values[neuron.y_column], values[neuron.z_column]
    low = np.where(w >= 0, neuron.lower, neuron.upper)  # Lb: where w . x is smallest
    high = np.where(w >= 0, neuron.upper, neuron.lower)  # Ub: where w . x is largest
    inside = w * (x - low * (1.0 - z))
    outside = w * high * z
    in_set = (inside < outside) & ~fixed
    bound = float(np.sum(np.where(in_set, inside, outside)) + neuron.bias * z)
    if y - bound <= min_violation:
        return None
    # y <= sum_I w_i x_i - sum_I w_i Lb_i + (sum_I w_i Lb_i + b + sum_notI w_i Ub_i) z
    x_coefficients = np.where(in_set, w, 0.0)
    z_coefficient = float(np.sum(np.where(in_set, w * low, w * high)) + neuron.bias)
    rhs = -float(np.sum(np.where(in_set, w * low, 0.0)))
    return x_coefficients, z_coefficient, rhs


def _add_row(highs: highspy.Highs, neuron: _Neuron, a: np.ndarray, c: float, rhs: float) -> None:
    """``y - a . x - c z <= rhs`` as a row of the LP."""
    used = np.flatnonzero(a)
    columns = np.concatenate([[neuron.y_column, neuron.z_column], neuron.columns[used]]).astype(np.int32)
    coefficients = np.concatenate([[1.0, -c], -a[used]])
    merged: dict[int, float] = {}
    for column, value in zip(columns.tolist(), coefficients.tolist(), strict=True):
        merged[column] = merged.get(column, 0.0) + value
    index = np.array(list(merged), dtype=np.int32)
    highs.addRow(-highspy.kHighsInf, rhs, index.size, index, np.array(list(merged.values())))


def _expression(neuron: _Neuron, a: np.ndarray, c: float) -> LinearExpression:
    used = np.flatnonzero(a)
    return LinearExpression(
        constant=0.0,
        linear_coefs=[1.0, -c, *(-a[used]).tolist()],
        linear_vars=[neuron.y, neuron.z, *(neuron.x_vars[i] for i in used)],
    )


def _cut_list(block: NetworkBlock) -> pyo.ConstraintList:
    """The block's ``ideal_cuts`` list (made on first use)."""
    existing = block.component(CUTS_COMPONENT)
    if existing is None:
        existing = pyo.ConstraintList()
        block.add_component(CUTS_COMPONENT, existing)
    return existing
