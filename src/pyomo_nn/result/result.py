"""``Result``: what a solve found, in solver-independent terms, with its re-check."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pyomo_nn.result.block_check import BlockCheck
from pyomo_nn.result.summary import HasGap, number, percent, table


@dataclass(frozen=True)
class Result(HasGap):
    """Status is one of :data:`~pyomo_nn.result.summary.STATUSES` (``optimal``,
    ``time_limit``, ``other_limit``, ``infeasible``, ``unbounded``, ``error``).
    ``objective`` is the incumbent (None without a solution), ``dual_bound`` the solver's
    best bound, ``gap`` their relative distance, ``wall_time`` the seconds of the solve (with
    its start's search and cut-off). ``blocks`` re-checks every
    :class:`~pyomo_nn.NetworkBlock` of the model at the solution; ``verified`` says they all
    match (re-checked, not "verified" in the sense of the verification problem). ``start``
    describes the MIP start a gradient search gave the solver (empty without one); ``cutoff``
    what the objective cut-off decided before the solve (empty without one)."""

    status: str
    solver: str
    objective: float | None
    dual_bound: float | None
    wall_time: float
    message: str
    blocks: dict[str, BlockCheck] = field(default_factory=dict)
    start: str = ""
    cutoff: str = ""

    @property
    def has_solution(self) -> bool:
        return self.objective is not None

    @property
    def x(self) -> np.ndarray | None:
        """The input found, flat (of the first network block; all blocks share it when tied)."""
        return next(iter(self.blocks.values())).x if self.blocks else None

    @property
    def verified(self) -> bool:
        """True when there is a solution and every block's outputs match the reference."""
        return self.has_solution and all(check.matches for check in self.blocks.values())

    def __str__(self) -> str:
        lines = table(
            [
                ("status", f"{self.status} ({self.solver}: {self.message})"),
                ("objective", number(self.objective)),
                ("dual bound", number(self.dual_bound)),
                ("gap", percent(self.gap)),
                ("time", f"{self.wall_time:.2f} s"),
                *([("start", self.start)] if self.start else []),
                *([("cut-off", self.cutoff)] if self.cutoff else []),
            ]
        )
        for check in self.blocks.values():
            lines.append(
                f"block {check.name}: MILP class {check.milp_class}, {check.reference} class "
                f"{check.reference_class}, max |MILP - {check.reference}| = {check.max_abs_diff:.2e} "
                f"({'match' if check.matches else 'MISMATCH'})"
            )
        return "\n".join(lines)
