"""``ProblemResult``: what solving an objective found, judged by onnxruntime at the found input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.objectives.base import Evaluation
from pyomo_nn.result import Result
from pyomo_nn.result.summary import HasGap, number, percent, table
from pyomo_nn.tolerances import OBJECTIVE_MATCH_ATOL, OBJECTIVE_MATCH_RTOL


@dataclass(frozen=True)
class NetworkEvaluation:
    """One network at the found input: logits from the reference evaluation (onnxruntime for a
    network loaded from ONNX, numpy for one built in code), their softmax, the predicted class,
    and the MILP's own logits with whether they agree."""

    name: str
    logits: np.ndarray
    probabilities: np.ndarray
    predicted_class: int
    reference: str
    milp_logits: np.ndarray
    matches: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "reference": self.reference,
            "logits": self.logits.tolist(),
            "probabilities": self.probabilities.tolist(),
            "predicted_class": self.predicted_class,
            "milp_logits": self.milp_logits.tolist(),
            "milp_matches_reference": self.matches,
        }


@dataclass(frozen=True)
class ProblemResult(HasGap):
    """An objective solved over networks sharing one input.

    ``objective`` is the solver's incumbent in the objective's own units (MinEps: the radius
    eps) and ``dual_bound`` its proven bound; ``evaluation`` recomputes the objective at ``x``
    from the reference logits and says whether ``x`` does what the objective claims.
    ``status`` is that of :class:`~pyomo_nn.Result`; a proof of infeasibility is a result
    too (status ``infeasible``, no ``x``), and ``meaning`` says what it proves.
    """

    objective_name: str
    settings: dict[str, object]
    sense: str
    status: str
    solver: str
    message: str
    objective: float | None
    dual_bound: float | None
    bounds_method: str
    bounds_time: float
    build_time: float
    solve_time: float
    x: np.ndarray | None
    networks: tuple[NetworkEvaluation, ...]
    evaluation: Evaluation | None
    meaning: str
    solve_result: Result

    @property
    def has_solution(self) -> bool:
        return self.x is not None

    @property
    def value_at_x(self) -> float | None:
        """The objective recomputed at ``x`` from the reference logits."""
        return None if self.evaluation is None else self.evaluation.value

    @property
    def details(self) -> dict[str, object]:
        return {} if self.evaluation is None else self.evaluation.details

    @property
    def objective_reproduced(self) -> bool:
        """True when the value at ``x`` is at least as good as the solver's objective claims,
        within the tolerances of :mod:`pyomo_nn.tolerances` (an incumbent may even be better
        than its objective value, e.g. a maximised ``t <= |d|`` not yet tight)."""
        if self.objective is None or self.evaluation is None:
            return False
        slack = OBJECTIVE_MATCH_ATOL + OBJECTIVE_MATCH_RTOL * abs(self.evaluation.value)
        if self.sense == "maximize":
            return self.evaluation.value >= self.objective - slack
        return self.evaluation.value <= self.objective + slack

    @property
    def verified(self) -> bool:
        """A solution exists, every network's MILP logits match the reference, the objective's
        claim holds at ``x`` and its value reproduces."""
        return (
            self.solve_result.verified
            and self.evaluation is not None
            and self.evaluation.holds
            and self.objective_reproduced
        )

    def to_dict(self) -> dict[str, object]:
        """Everything as plain JSON types."""
        return {
            "objective": self.objective_name,
            "settings": {key: _plain(value) for key, value in self.settings.items()},
            "sense": self.sense,
            "status": self.status,
            "solver": self.solver,
            "message": self.message,
            "objective_value": self.objective,
            "dual_bound": self.dual_bound,
            "gap": self.gap,
            "value_at_x": self.value_at_x,
            "holds": None if self.evaluation is None else self.evaluation.holds,
            "objective_reproduced": self.objective_reproduced,
            "verified": self.verified,
            "meaning": self.meaning,
            "bounds_method": self.bounds_method,
            "bounds_time": self.bounds_time,
            "build_time": self.build_time,
            "solve_time": self.solve_time,
            "start": self.solve_result.start,
            "details": {key: _plain(value) for key, value in self.details.items()},
            "networks": [network.to_dict() for network in self.networks],
            "x": None if self.x is None else self.x.tolist(),
        }

    def __str__(self) -> str:
        rows = [
            ("objective", f"{self.objective_name} {self.settings} ({self.sense})"),
            ("status", f"{self.status} ({self.solver}: {self.message})"),
            (
                "value",
                f"{number(self.objective)}   dual bound {number(self.dual_bound)}   gap {percent(self.gap)}",
            ),
            (
                "times",
                f"bounds ({self.bounds_method}) {self.bounds_time:.2f} s, build {self.build_time:.2f} s, "
                f"solve {self.solve_time:.2f} s",
            ),
        ]
        if self.solve_result.start:
            rows.append(("start", self.solve_result.start))
        if self.meaning:
            rows.append(("meaning", self.meaning))
        if self.evaluation is not None:
            rows.append(
                (
                    "at x",
                    f"value {number(self.evaluation.value)} (reference), claim "
                    f"{'holds' if self.evaluation.holds else 'DOES NOT HOLD'}, "
                    f"{'verified' if self.verified else 'NOT verified'}",
                )
            )
        lines = table(rows)
        if self.evaluation is not None:
            for key, value in self.evaluation.details.items():
                lines.append(f"  {key}: {_short(value)}")
        for net in self.networks:
            lines.append(
                f"network {net.name}: class {net.predicted_class} (p = "
                f"{net.probabilities[net.predicted_class]:.3f}, {net.reference}), MILP logits "
                f"{'match' if net.matches else 'MISMATCH'}"
            )
        return "\n".join(lines)


def _plain(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def _short(value: object) -> str:
    if isinstance(value, float):
        return number(value)
    return str(_plain(value))
