"""``MinEps``: the smallest L-infinity perturbation of x0 that network 1 still classifies as C0
while network 2 does not (thesis (4.16)-(4.19), comparator "mineps")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks.components import constraint_rows
from pyomo_nn.domains import LinfBall
from pyomo_nn.errors import ObjectiveConfigError
from pyomo_nn.objectives.base import Evaluation, Objective, ProblemView, check_class
from pyomo_nn.objectives.maxdiff import check_same_outputs
from pyomo_nn.tolerances import CLASS_MARGIN

if TYPE_CHECKING:
    from pyomo_nn.domains import InputDomain
    from pyomo_nn.ir import Network


class MinEps(Objective):
    """Minimise eps over ``x in B_inf(x0, eps) ∩ box`` with network 1 choosing class C0 and
    network 2 choosing another class.

    The comparison's domain must be a :class:`~pyomo_nn.LinfBall`: its centre is x0 and its
    radius the largest eps searched (the bounds, hence every Big-M, hold over that ball).
    ``true_class`` is C0 (default: network 1's class at x0). Constraints, with the thesis'
    typo in (4.17) fixed (both sides belong to network 1) and ``m`` =
    :data:`~pyomo_nn.tolerances.CLASS_MARGIN`:

    * (4.16) ``x0 - eps <= x <= x0 + eps`` (the box is in the variables' bounds);
    * (4.17) ``a1[C0] >= a1[k] + m`` for every k != C0;
    * (4.18) ``b_k = 1  =>  a2[k] - a2[C0] >= m`` and ``b_k = 0  =>  a2[k] - a2[C0] <= m``,
      Big-M from network 2's output bounds;
    * (4.19) ``sum_k b_k >= 1``.
    """

    name = "mineps"
    min_networks = 2
    max_networks = 2

    def __init__(self, true_class: int | None = None) -> None:
        self.true_class = true_class

    def check_networks(self, networks: Sequence[Network], domain: InputDomain) -> None:
        super().check_networks(networks, domain)
        check_same_outputs(networks)
        if not isinstance(domain, LinfBall):
            raise ObjectiveConfigError(
                "MinEps needs an L-infinity ball as the comparison's domain: its centre is x0 and its "
                "radius the largest eps searched, e.g. LinfBall(x0, eps=0.3, lower=0, upper=1); "
                f"got {domain!r}"
            )
        if self.true_class is not None:
            check_class("MinEps true_class", self.true_class, networks[0].output_size)

    def reference_class(self, problem: ProblemView) -> int:
        """C0: the given true class, else network 1's class at x0."""
        ball: LinfBall = problem.domain  # type: ignore[assignment]
        if self.true_class is not None:
            return self.true_class
        return int(np.argmax(problem.networks[0].forward(ball.x0)))

    def build(self, problem: ProblemView) -> None:
        ball: LinfBall = problem.domain  # type: ignore[assignment]
        x0, x = ball.x0, problem.x
        c0 = self.reference_class(problem)
        others = [k for k in range(problem.networks[0].output_size) if k != c0]
        first, second = problem.outputs(0), problem.outputs(1)
        lower, upper = problem.output_bounds(1)
        block = problem.block
        block.eps = pyo.Var(bounds=(0.0, ball.eps))
        block.within_eps_above = constraint_rows(range(x0.size), lambda i: x[i] - float(x0[i]) <= block.eps)
        block.within_eps_below = constraint_rows(range(x0.size), lambda i: float(x0[i]) - x[i] <= block.eps)
        block.first_chooses_c0 = constraint_rows(others, lambda k: first[c0] >= first[k] + CLASS_MARGIN)
        block.second_prefers = pyo.Var(others, domain=pyo.Binary)
        b = block.second_prefers
        big_below = {k: max(0.0, CLASS_MARGIN - (lower[k] - upper[c0])) for k in others}
        big_above = {k: max(0.0, (upper[k] - lower[c0]) - CLASS_MARGIN) for k in others}
        block.second_prefers_if_chosen = constraint_rows(
            others, lambda k: second[k] - second[c0] >= CLASS_MARGIN - big_below[k] * (1 - b[k])
        )
        block.second_prefers_only_if_chosen = constraint_rows(
            others, lambda k: second[k] - second[c0] <= CLASS_MARGIN + big_above[k] * b[k]
        )
        block.second_errs = pyo.Constraint(expr=pyo.quicksum(b[k] for k in others) >= 1)
        block.objective = pyo.Objective(expr=block.eps, sense=pyo.minimize)

    def evaluate(self, problem: ProblemView, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        ball: LinfBall = problem.domain  # type: ignore[assignment]
        c0 = self.reference_class(problem)
        first, second = (int(np.argmax(values)) for values in logits)
        return Evaluation(
            value=float(np.max(np.abs(x - ball.x0))),
            holds=first == c0 and second != c0,
            details={
                "true_class": c0,
                "net1_class": first,
                "net2_class": second,
                "max_eps_searched": ball.eps,
            },
        )

    def infeasible_meaning(self, problem: ProblemView) -> str:
        ball: LinfBall = problem.domain  # type: ignore[assignment]
        c0 = self.reference_class(problem)
        return (
            f"certified: no input within eps = {ball.eps:g} of x0 is classified {c0} by "
            f"{problem.names[0]} and otherwise by {problem.names[1]}"
        )
