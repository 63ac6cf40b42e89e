"""``SolveOutcome``: what one solver run produced, in one solver-independent shape."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyomo_nn.result.summary import STATUSES


@dataclass(frozen=True)
class SolveOutcome:
    """What a solver run produced; ``status`` is one of
    :data:`pyomo_nn.result.summary.STATUSES`, ``has_solution`` means values were loaded into
    the model."""

    status: str
    has_solution: bool
    objective: float | None
    dual_bound: float | None
    wall_time: float
    message: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"solver adapter bug: status {self.status!r} is not one of {STATUSES}")


def finite(value: object) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or infinite."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
