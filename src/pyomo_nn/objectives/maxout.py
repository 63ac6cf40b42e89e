"""``MaxOut``: force each network to choose a given class and maximise those logits (thesis
(4.12)-(4.13), comparator "maxout")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks.components import constraint_rows
from pyomo_nn.errors import ObjectiveConfigError
from pyomo_nn.objectives.base import Evaluation, Objective, ProblemView, check_class
from pyomo_nn.tolerances import CLASS_MARGIN

if TYPE_CHECKING:
    from pyomo_nn.domains import InputDomain
    from pyomo_nn.ir import Network


class MaxOut(Objective):
    """Network i must classify x as ``classes[i]`` with a logit margin ``tolerance`` over its other
    logits ((4.12)-(4.13) plus the thesis' tolerance); maximise ``sum_i a_i[classes[i]]``.

    ``MaxOut(class_a=3, class_b=8)`` for two networks; further classes for further networks.
    The classes may not all be equal: the point is inputs on which the networks disagree.
    """

    name = "maxout"
    min_networks = 2
    max_networks = None

    def __init__(
        self, class_a: int, class_b: int, *more_classes: int, tolerance: float = CLASS_MARGIN
    ) -> None:
        self.classes = (class_a, class_b, *more_classes)
        if len(set(self.classes)) == 1:
            raise ObjectiveConfigError(
                f"MaxOut needs networks to choose different classes (thesis: C1 != C2), got {self.classes}"
            )
        if not np.isfinite(tolerance) or tolerance < 0:
            raise ObjectiveConfigError(f"MaxOut tolerance must be finite and >= 0, got {tolerance}")
        self.tolerance = float(tolerance)

    def check_networks(self, networks: Sequence[Network], domain: InputDomain) -> None:
        super().check_networks(networks, domain)
        if len(self.classes) != len(networks):
            raise ObjectiveConfigError(
                f"MaxOut got {len(self.classes)} classes {self.classes} for {len(networks)} networks; "
                "give one class per network"
            )
        for i, (cls, net) in enumerate(zip(self.classes, networks, strict=True)):
            check_class(f"MaxOut class of network {i + 1}", cls, net.output_size)

    def build(self, problem: ProblemView) -> None:
        pairs = [
            (i, k)
            for i, net in enumerate(problem.networks)
            for k in range(net.output_size)
            if k != self.classes[i]
        ]
        outputs = [problem.outputs(i) for i in range(len(problem.networks))]
        problem.block.chosen_class_wins = constraint_rows(
            pairs,
            lambda i, k: outputs[i][k] + self.tolerance <= outputs[i][self.classes[i]],
        )
        problem.block.objective = pyo.Objective(
            expr=pyo.quicksum(outputs[i][c] for i, c in enumerate(self.classes)), sense=pyo.maximize
        )

    def evaluate(self, problem: ProblemView, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        margins = [
            float(values[c] - np.max(np.delete(values, c)))
            for values, c in zip(logits, self.classes, strict=True)
        ]
        return Evaluation(
            value=float(sum(values[c] for values, c in zip(logits, self.classes, strict=True))),
            holds=all(margin > 0 for margin in margins),
            details={"required_classes": list(self.classes), "class_margins": margins},
        )

    def infeasible_meaning(self, problem: ProblemView) -> str:
        choices = ", ".join(f"{name} class {c}" for name, c in zip(problem.names, self.classes, strict=True))
        return f"no input of the domain makes {choices} (by a logit margin of {self.tolerance:g})"
