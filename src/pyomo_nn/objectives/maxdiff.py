"""``MaxDiff``: how far apart can the networks' outputs be? (thesis 4.2.1, comparator "maxdiff")."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.errors import IncompatibleNetworksError, ObjectiveConfigError
from pyomo_nn.objectives.base import (
    Evaluation,
    Objective,
    ProblemView,
    SearchScore,
    l1_score,
    softmax,
    softmax_rows,
    through_softmax,
)
from pyomo_nn.objectives.encoding import (
    Difference,
    MaximisedAbs,
    SoftmaxVars,
    add_maximised_abs,
    add_softmax,
)

if TYPE_CHECKING:
    from pyomo_nn.domains import InputDomain
    from pyomo_nn.ir import Network

#: Spaces in which the outputs can be compared.
SPACES = ("logits", "probabilities")


class MaxDiff(Objective):
    """Maximise ``||y_1(x) - y_2(x)||_1`` over the shared input (summed over all pairs for more
    than two networks).

    ``space="logits"`` compares logits: a MILP, each ``|d_k|`` linearised with one binary (Big-M
    from the output bounds). ``space="probabilities"`` compares softmax outputs as in the thesis:
    an exact MINLP with exp() for SCIP (``scip_direct``). Either way the result reports the
    exact L1 difference of logits and of probabilities at the found input.
    """

    name = "maxdiff"
    min_networks = 2
    max_networks = None

    def __init__(self, space: str = "logits") -> None:
        if space not in SPACES:
            raise ObjectiveConfigError(f"MaxDiff space must be one of {SPACES}, got {space!r}")
        self.space = space

    @property
    def nonlinear(self) -> bool:
        return self.space == "probabilities"

    def check_networks(self, networks: Sequence[Network], domain: InputDomain) -> None:
        super().check_networks(networks, domain)
        check_same_outputs(networks)

    def build(self, problem: ProblemView) -> None:
        count = len(problem.networks)
        if self.space == "logits":
            values = [problem.outputs(i) for i in range(count)]
            bounds = [problem.output_bounds(i) for i in range(count)]
        else:
            softmaxes = [
                add_softmax(problem.block, f"net{i + 1}", problem.outputs(i), *problem.output_bounds(i))
                for i in range(count)
            ]
            problem.state["softmax"] = softmaxes
            values = [s.p for s in softmaxes]
            bounds = [(s.lower, s.upper) for s in softmaxes]
        differences = [
            Difference(
                values[i][k] - values[j][k],
                bounds[i][0][k] - bounds[j][1][k],
                bounds[i][1][k] - bounds[j][0][k],
            )
            for i, j in itertools.combinations(range(count), 2)
            for k in range(problem.networks[0].output_size)
        ]
        absolute = add_maximised_abs(problem.block, "difference", differences)
        problem.state["difference"] = absolute
        problem.block.objective = pyo.Objective(expr=absolute.total, sense=pyo.maximize)

    def warm_start(self, problem: ProblemView, x: np.ndarray) -> None:
        logits = [net.forward(x) for net in problem.networks]
        values = logits
        if self.space == "probabilities":
            softmaxes: list[SoftmaxVars] = problem.state["softmax"]
            for probabilities, network_logits in zip(softmaxes, logits, strict=True):
                probabilities.warm_start(network_logits)
            values = [softmax(network_logits) for network_logits in logits]
        absolute: MaximisedAbs = problem.state["difference"]
        pairs = itertools.combinations(range(len(values)), 2)
        absolute.warm_start(np.concatenate([values[i] - values[j] for i, j in pairs]))

    def search_score(self, problem: ProblemView, logits: Sequence[np.ndarray]) -> SearchScore:
        """The pairwise L1 distance of the logits (or probabilities) and its gradient."""
        probabilities = self.space == "probabilities"
        values = [softmax_rows(batch) if probabilities else batch for batch in logits]
        total = np.zeros(len(values[0]))
        gradients = [np.zeros_like(batch) for batch in values]
        for i, j in itertools.combinations(range(len(values)), 2):
            distance, gradient = l1_score(values[i], values[j])
            total += distance
            gradients[i] += gradient
            gradients[j] -= gradient
        if probabilities:
            gradients = [through_softmax(p, g) for p, g in zip(values, gradients, strict=True)]
        return SearchScore(total, gradients)

    def evaluate(self, problem: ProblemView, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        logit_l1 = pairwise_l1(list(logits))
        probability_l1 = pairwise_l1([softmax(values) for values in logits])
        return Evaluation(
            value=logit_l1 if self.space == "logits" else probability_l1,
            holds=True,
            details={"logit_l1_difference": logit_l1, "probability_l1_difference": probability_l1},
        )


def pairwise_l1(outputs: list[np.ndarray]) -> float:
    """Sum over all pairs of networks of the L1 distance of their outputs."""
    return float(sum(np.sum(np.abs(a - b)) for a, b in itertools.combinations(outputs, 2)))


def check_same_outputs(networks: Sequence[Network]) -> None:
    sizes = [net.output_size for net in networks]
    if len(set(sizes)) != 1:
        raise IncompatibleNetworksError(
            f"networks compared output by output need equal output sizes, got {sizes}"
        )
