"""Building blocks shared by objectives: |d| of a maximised sum, and softmax as exp() constraints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks.components import bounded_var, constraint_rows


@dataclass(frozen=True)
class Difference:
    """A Pyomo expression ``d`` with valid bounds ``lower <= d <= upper`` over the domain."""

    expr: object
    lower: float
    upper: float


@dataclass(frozen=True)
class MaximisedAbs:
    """``t_k <= |d_k|`` for every difference; with ``sum t`` maximised, ``t_k = |d_k|`` at an optimum.

    Encoding (Big-M from the bounds ``L <= d <= U``): ``t <= d + 2(-L)(1 - s)`` and
    ``t <= -d + 2U s`` with ``s`` binary (``s = 1`` picks the branch ``d >= 0``). A difference
    whose bounds do not straddle 0 needs no binary: ``t <= d`` or ``t <= -d``. Maximising
    ``|d|`` is non-convex, which is why each split term needs a binary (a minimised ``|d|``
    would not).
    """

    t: pyo.Var
    positive: pyo.Var
    differences: tuple[Difference, ...]

    @property
    def total(self) -> object:
        return pyo.quicksum(self.t[k] for k in range(len(self.differences)))

    def warm_start(self, values: np.ndarray) -> None:
        """Set ``t = |d|`` and the sign binaries from the differences' values at one input."""
        for k, value in enumerate(values):
            self.t[k].set_value(min(abs(float(value)), self.t[k].ub), skip_validation=True)
            if k in self.positive:
                self.positive[k].set_value(float(value >= 0), skip_validation=True)


def add_maximised_abs(block: pyo.Block, name: str, differences: Sequence[Difference]) -> MaximisedAbs:
    """Add ``<name>_abs[k]`` (t), ``<name>_positive[k]`` (s) and their constraints to ``block``."""
    differences = tuple(differences)
    n = len(differences)
    reach = [max(abs(d.lower), abs(d.upper)) for d in differences]
    t = bounded_var(range(n), np.zeros(n), reach)
    split = [k for k, d in enumerate(differences) if d.lower < 0 < d.upper]
    positive = pyo.Var(split, domain=pyo.Binary)
    block.add_component(f"{name}_abs", t)
    block.add_component(f"{name}_positive", positive)

    def upper_by_positive_branch(k: int) -> object:
        d = differences[k]
        if d.upper <= 0:
            return pyo.Constraint.Skip
        if d.lower >= 0:
            return t[k] <= d.expr
        return t[k] <= d.expr + 2.0 * (-d.lower) * (1 - positive[k])

    def upper_by_negative_branch(k: int) -> object:
        d = differences[k]
        if d.lower >= 0:
            return pyo.Constraint.Skip
        if d.upper <= 0:
            return t[k] <= -d.expr
        return t[k] <= -d.expr + 2.0 * d.upper * positive[k]

    block.add_component(f"{name}_abs_positive", constraint_rows(range(n), upper_by_positive_branch))
    block.add_component(f"{name}_abs_negative", constraint_rows(range(n), upper_by_negative_branch))
    return MaximisedAbs(t, positive, differences)


@dataclass(frozen=True)
class SoftmaxVars:
    """Probabilities ``p[k]`` of one network with their valid bounds."""

    p: pyo.Var
    log_partition: pyo.Var
    lower: np.ndarray
    upper: np.ndarray

    def warm_start(self, logits: np.ndarray) -> None:
        partition = float(np.log(np.sum(np.exp(logits - logits.max()))) + logits.max())
        self.log_partition.set_value(partition, skip_validation=True)
        for k, value in enumerate(np.exp(logits - partition)):
            self.p[k].set_value(float(value), skip_validation=True)


def add_softmax(
    block: pyo.Block, name: str, logits: pyo.Var, lower: np.ndarray, upper: np.ndarray
) -> SoftmaxVars:
    """``p_k = exp(y_k - s)`` with ``sum_k p_k = 1`` (so ``s = log sum_j exp(y_j)``): softmax.

    Written with the log-partition ``s`` as a variable, every exponent ``y_k - s`` is <= 0, so
    no exp() in the model can overflow whatever the logit bounds. ``lower``/``upper`` bound
    the logits ``y``; they give ``s`` in ``[logsumexp(lower), logsumexp(upper)]`` and hence
    ``p_k`` in ``[exp(lower_k - s_max), min(1, exp(upper_k - s_min))]``.
    """
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    s_min, s_max = _logsumexp(lower), _logsumexp(upper)
    p_lower = np.exp(lower - s_max)
    p_upper = np.exp(np.minimum(upper - s_min, 0.0))  # min(1, exp(.)) without overflow
    n = lower.size
    p = bounded_var(range(n), p_lower, p_upper)
    s = pyo.Var(bounds=(s_min, s_max))
    block.add_component(f"{name}_probability", p)
    block.add_component(f"{name}_log_partition", s)
    block.add_component(
        f"{name}_softmax", constraint_rows(range(n), lambda k: p[k] == pyo.exp(logits[k] - s))
    )
    block.add_component(f"{name}_sums_to_one", pyo.Constraint(expr=pyo.quicksum(p[k] for k in range(n)) == 1))
    return SoftmaxVars(p, s, p_lower, p_upper)


def _logsumexp(values: np.ndarray) -> float:
    top = float(np.max(values))
    return top + float(np.log(np.sum(np.exp(values - top))))
