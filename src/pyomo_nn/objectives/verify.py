"""``Verify``: the worst input of the domain, as far from the network's answer at x0 as it gets
(the thesis' verification problem (PV), ch. 3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo
from numpy.typing import ArrayLike

from pyomo_nn.errors import ObjectiveConfigError, ShapeMismatchError
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
from pyomo_nn.objectives.encoding import Difference, MaximisedAbs, add_maximised_abs, add_softmax
from pyomo_nn.objectives.maxdiff import SPACES

if TYPE_CHECKING:
    from pyomo_nn.domains import InputDomain
    from pyomo_nn.ir import Network


class Verify(Objective):
    """Maximise ``||N(x) - N(x0)||_1`` over the domain (PV).

    ``space="logits"`` compares logits (a MILP, one binary per split ``|d_k|``);
    ``space="probabilities"`` compares softmax outputs as the thesis does (a MINLP for SCIP).
    ``N(x0)`` is the network's IR evaluated at x0, the same function the model encodes.
    """

    name = "verify"

    def __init__(self, x0: ArrayLike, space: str = "logits") -> None:
        if space not in SPACES:
            raise ObjectiveConfigError(f"Verify space must be one of {SPACES}, got {space!r}")
        self.x0 = np.asarray(x0, dtype=np.float64).ravel()
        self.space = space

    @property
    def nonlinear(self) -> bool:
        return self.space == "probabilities"

    def check_networks(self, networks: Sequence[Network], domain: InputDomain) -> None:
        super().check_networks(networks, domain)
        if self.x0.size != networks[0].input_size:
            raise ShapeMismatchError(
                f"Verify x0 has {self.x0.size} values but the network has {networks[0].input_size} inputs"
            )

    def _reference(self, network: Network) -> np.ndarray:
        logits = network.forward(self.x0)
        return logits if self.space == "logits" else softmax(logits)

    def build(self, problem: ProblemView) -> None:
        reference = self._reference(problem.networks[0])
        if self.space == "logits":
            values = problem.outputs(0)
            lower, upper = problem.output_bounds(0)
        else:
            probabilities = add_softmax(problem.block, "net", problem.outputs(0), *problem.output_bounds(0))
            values, lower, upper = probabilities.p, probabilities.lower, probabilities.upper
        differences = [
            Difference(values[k] - float(reference[k]), lower[k] - reference[k], upper[k] - reference[k])
            for k in range(reference.size)
        ]
        absolute = add_maximised_abs(problem.block, "difference", differences)
        problem.state["difference"] = absolute
        problem.block.objective = pyo.Objective(expr=absolute.total, sense=pyo.maximize)

    def warm_start(self, problem: ProblemView, x: np.ndarray) -> None:
        if self.space == "logits":
            network = problem.networks[0]
            absolute: MaximisedAbs = problem.state["difference"]
            absolute.warm_start(network.forward(x) - self._reference(network))

    def search_score(self, problem: ProblemView, logits: Sequence[np.ndarray]) -> SearchScore:
        """The L1 distance of the outputs (logits or probabilities) from those at x0, and its
        gradient."""
        probabilities = self.space == "probabilities"
        values = softmax_rows(logits[0]) if probabilities else logits[0]
        reference = np.broadcast_to(self._reference(problem.networks[0]), values.shape)
        total, gradient = l1_score(values, reference)
        return SearchScore(total, [through_softmax(values, gradient) if probabilities else gradient])

    def evaluate(self, problem: ProblemView, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        at_x = logits[0]
        at_x0 = problem.reference_logits(0, self.x0)
        logit_l1 = float(np.sum(np.abs(at_x - at_x0)))
        probability_l1 = float(np.sum(np.abs(softmax(at_x) - softmax(at_x0))))
        return Evaluation(
            value=logit_l1 if self.space == "logits" else probability_l1,
            holds=True,
            details={
                "logit_l1_distance": logit_l1,
                "probability_l1_distance": probability_l1,
                "class_at_x0": int(np.argmax(at_x0)),
                "class_at_x": int(np.argmax(at_x)),
            },
        )
