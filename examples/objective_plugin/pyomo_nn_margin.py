"""An objective written outside pyomo-nn: how far can class ``wrong`` overtake class ``right``?

Maximises ``logit[wrong] - logit[right]`` of one network over the domain: a positive optimum
is an input the network gets wrong, a negative dual bound proves there is none.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.objectives import Evaluation, Objective, SearchScore
from pyomo_nn.objectives.base import check_class


class Margin(Objective):
    name = "margin"  # registry name; the entry point's name should match it

    def __init__(self, right: int, wrong: int) -> None:
        self.right = right
        self.wrong = wrong

    def check_networks(self, networks, domain) -> None:
        super().check_networks(networks, domain)  # one network (min_networks = max_networks = 1)
        check_class("right", self.right, networks[0].output_size)
        check_class("wrong", self.wrong, networks[0].output_size)

    def build(self, problem) -> None:
        logits = problem.outputs(0)  # the network block's logit variables
        problem.block.objective = pyo.Objective(
            expr=logits[self.wrong] - logits[self.right], sense=pyo.maximize
        )

    def search_score(self, problem, logits: Sequence[np.ndarray]) -> SearchScore:
        """Optional: the margin over a batch (numpy logits) and its gradient in the logits, for
        the gradient search that gives the solver its start (every input is feasible here)."""
        gradient = np.zeros_like(logits[0])
        gradient[:, self.wrong], gradient[:, self.right] = 1.0, -1.0
        return SearchScore(logits[0][:, self.wrong] - logits[0][:, self.right], [gradient])

    def evaluate(self, problem, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        margin = float(logits[0][self.wrong] - logits[0][self.right])  # onnxruntime's logits at x
        return Evaluation(value=margin, holds=True, details={"network_wrong": margin > 0})
