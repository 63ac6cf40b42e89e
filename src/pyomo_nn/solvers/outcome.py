"""``SolveOutcome``: what one solver run produced, in one solver-independent shape."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Statuses an adapter may report.
STATUSES = ("optimal", "time_limit", "other_limit", "infeasible", "unbounded", "error")


@dataclass(frozen=True)
class SolveOutcome:
    """What a solver run produced; ``has_solution`` means values were loaded into the model."""

    status: str
    has_solution: bool
    objective: float | None
    dual_bound: float | None
    wall_time: float
    message: str


def finite(value: object) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or infinite."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
