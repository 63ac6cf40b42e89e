"""``Result``: what a solve found, in solver-independent terms, with its re-check."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pyomo_nn.result.recheck import BlockCheck


@dataclass(frozen=True)
class Result:
    """Status is one of ``optimal``, ``time_limit``, ``other_limit``, ``infeasible``,
    ``unbounded``, ``error``. ``objective`` is the incumbent (None without a solution),
    ``dual_bound`` the solver's best bound, ``gap`` their relative distance. ``blocks``
    re-checks every :class:`~pyomo_nn.NetworkBlock` of the model at the solution."""

    status: str
    solver: str
    objective: float | None
    dual_bound: float | None
    wall_time: float
    message: str
    blocks: dict[str, BlockCheck] = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.objective is not None

    @property
    def gap(self) -> float | None:
        """``|objective - dual_bound| / max(|objective|, 1e-10)`` (HiGHS' definition); None if
        either is missing."""
        if self.objective is None or self.dual_bound is None:
            return None
        return abs(self.objective - self.dual_bound) / max(abs(self.objective), 1e-10)

    @property
    def x(self) -> np.ndarray | None:
        """The input found, flat (of the first network block; all blocks share it when tied)."""
        return next(iter(self.blocks.values())).x if self.blocks else None

    @property
    def verified(self) -> bool:
        """True when there is a solution and every block's outputs match the reference."""
        return self.has_solution and all(check.matches for check in self.blocks.values())

    def __str__(self) -> str:
        def number(value: float | None) -> str:
            return "-" if value is None else f"{value:.6g}"

        gap = self.gap
        lines = [
            f"status      {self.status} ({self.solver}: {self.message})",
            f"objective   {number(self.objective)}",
            f"dual bound  {number(self.dual_bound)}",
            f"gap         {'-' if gap is None else f'{100 * gap:.4g}%'}",
            f"time        {self.wall_time:.2f} s",
        ]
        for check in self.blocks.values():
            lines.append(
                f"block {check.name}: MILP class {check.milp_class}, {check.reference} class "
                f"{check.reference_class}, max |MILP - {check.reference}| = {check.max_abs_diff:.2e} "
                f"({'match' if check.matches else 'MISMATCH'})"
            )
        return "\n".join(lines)
