"""What the result types share: the status vocabulary, the relative gap and the printed table.

Three result types report to users: :class:`~pyomo_nn.Result` (one solve of a model),
:class:`~pyomo_nn.problem_result.ProblemResult` (an objective solved and judged) and
:class:`~pyomo_nn.vnnlib.PropertyResult` (the answer to a VNN-LIB property). Their words,
their gap and their layout are defined here once.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Statuses of a solve, whatever the solver (every adapter maps its own codes onto these).
STATUSES = ("optimal", "time_limit", "other_limit", "infeasible", "unbounded", "error")

#: Answers to a VNN-LIB property, as in the VNN-COMP result files: ``sat`` (a counterexample,
#: confirmed by onnxruntime), ``unsat`` (proved), ``timeout``, ``unknown``.
ANSWERS = ("sat", "unsat", "timeout", "unknown")

#: Smallest denominator of the relative gap (HiGHS' definition), so an objective of 0 works.
GAP_DENOMINATOR_FLOOR = 1e-10

#: Width of the label column of a printed result.
LABEL_WIDTH = 12


def relative_gap(objective: float | None, dual_bound: float | None) -> float | None:
    """``|objective - dual_bound| / max(|objective|, 1e-10)`` (HiGHS' definition); None if
    either is missing."""
    if objective is None or dual_bound is None:
        return None
    return abs(objective - dual_bound) / max(abs(objective), GAP_DENOMINATOR_FLOOR)


class HasGap:
    """Mixin for results with an incumbent ``objective`` and a ``dual_bound``: their ``gap``."""

    objective: float | None
    dual_bound: float | None

    @property
    def gap(self) -> float | None:
        """Relative distance of the incumbent and the dual bound (:func:`relative_gap`)."""
        return relative_gap(self.objective, self.dual_bound)


def number(value: float | None) -> str:
    """A value as printed in results: 6 significant digits, ``-`` when missing."""
    return "-" if value is None else f"{value:.6g}"


def percent(fraction: float | None) -> str:
    """A fraction (a gap) as a percentage, ``-`` when missing."""
    return "-" if fraction is None else f"{100 * fraction:.4g}%"


def table(rows: Iterable[tuple[str, str]]) -> list[str]:
    """``label value`` lines with the labels in one column of :data:`LABEL_WIDTH`."""
    return [f"{label:<{LABEL_WIDTH}}{value}" for label, value in rows]
