"""``Adversarial``: the closest input that the network assigns to a target class (Fischetti & Jo)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo
from numpy.typing import ArrayLike

from pyomo_nn.blocks.components import bounded_var, constraint_rows
from pyomo_nn.errors import ObjectiveConfigError, ShapeMismatchError
from pyomo_nn.objectives.base import Evaluation, Objective, ProblemView, check_class
from pyomo_nn.tolerances import CLASS_MARGIN

if TYPE_CHECKING:
    from pyomo_nn.domains import InputDomain
    from pyomo_nn.ir import Network

#: Distances to x0 that can be minimised (both are linear programs in x, no binary needed).
NORMS = ("l1", "linf")


class Adversarial(Objective):
    """Minimise ``||x - x0||`` (``norm="l1"`` or ``"linf"``) over the domain subject to
    ``logit[target] >= logit[k] + margin`` for every other class k.

    Minimised norms need no binaries: ``u_i >= +-(x_i - x0_i)`` with ``sum u`` (L1) or a
    single ``r >= +-(x_i - x0_i)`` (L-infinity) as the objective.
    """

    name = "adversarial"

    def __init__(self, x0: ArrayLike, target: int, margin: float = CLASS_MARGIN, norm: str = "l1") -> None:
        if norm not in NORMS:
            raise ObjectiveConfigError(f"Adversarial norm must be one of {NORMS}, got {norm!r}")
        if not np.isfinite(margin) or margin < 0:
            raise ObjectiveConfigError(f"Adversarial margin must be finite and >= 0, got {margin}")
        self.x0 = np.asarray(x0, dtype=np.float64).ravel()
        self.target = target
        self.margin = float(margin)
        self.norm = norm

    def check_networks(self, networks: Sequence[Network], domain: InputDomain) -> None:
        super().check_networks(networks, domain)
        if self.x0.size != networks[0].input_size:
            raise ShapeMismatchError(
                f"Adversarial x0 has {self.x0.size} values but the network has "
                f"{networks[0].input_size} inputs"
            )
        check_class("Adversarial target", self.target, networks[0].output_size)

    def build(self, problem: ProblemView) -> None:
        x, x0, block = problem.x, self.x0, problem.block
        outputs = problem.outputs(0)
        others = [k for k in range(problem.networks[0].output_size) if k != self.target]
        block.target_wins = constraint_rows(
            others, lambda k: outputs[self.target] >= outputs[k] + self.margin
        )
        lower, upper = problem.input_box()
        reach = np.maximum(np.abs(lower - x0), np.abs(upper - x0))
        inputs = range(x0.size)
        if self.norm == "l1":
            block.distance = bounded_var(inputs, np.zeros(x0.size), reach)
            distance = block.distance
            block.objective = pyo.Objective(
                expr=pyo.quicksum(distance[i] for i in inputs), sense=pyo.minimize
            )
        else:
            block.radius = pyo.Var(bounds=(0.0, float(np.max(reach))))
            distance = {i: block.radius for i in inputs}
            block.objective = pyo.Objective(expr=block.radius, sense=pyo.minimize)
        block.distance_above = constraint_rows(inputs, lambda i: x[i] - float(x0[i]) <= distance[i])
        block.distance_below = constraint_rows(inputs, lambda i: float(x0[i]) - x[i] <= distance[i])

    def evaluate(self, problem: ProblemView, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        values = logits[0]
        margin = float(values[self.target] - np.max(np.delete(values, self.target)))
        step = x - self.x0
        return Evaluation(
            value=float(np.sum(np.abs(step)) if self.norm == "l1" else np.max(np.abs(step))),
            holds=margin > 0,
            details={
                "target": self.target,
                "class_at_x": int(np.argmax(values)),
                "class_at_x0": int(np.argmax(problem.reference_logits(0, self.x0))),
                "target_margin_at_x": margin,
                "l1_distance": float(np.sum(np.abs(step))),
                "linf_distance": float(np.max(np.abs(step))),
            },
        )

    def infeasible_meaning(self, problem: ProblemView) -> str:
        return (
            f"no input of the domain makes class {self.target} beat every other class by "
            f"{self.margin:g}: the network is robust to this target here"
        )
