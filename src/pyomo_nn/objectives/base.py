"""The objective plug-in protocol: what an objective adds to a model and how it judges an answer.

An objective is an object with settings (classes, margins, a reference input, ...) that,
given a problem (a Pyomo model holding one NetworkBlock per network, all sharing one input;
:class:`ProblemView` is what an objective may read and write of it), adds its own variables,
constraints and exactly one Pyomo ``Objective`` to ``problem.block``; and that, given the
input a solver found and every network's logits re-computed there by onnxruntime, says what
the objective's value really is at that input and whether the answer does what the
objective claims.

This module is the contract between the objectives and :class:`pyomo_nn.problem.Problem`
(which implements :class:`ProblemView` and calls the objective): it imports neither, so
``problem`` -> ``objectives.base`` is the only direction between them.

Third-party objectives subclass :class:`Objective` and register under the entry-point group
``pyomo_nn.objectives`` (see :mod:`pyomo_nn.objectives.registry`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from pyomo_nn.errors import ObjectiveConfigError

if TYPE_CHECKING:
    import pyomo.environ as pyo

    from pyomo_nn.blocks import NetworkBlock
    from pyomo_nn.bounds import Bounds
    from pyomo_nn.domains import InputDomain
    from pyomo_nn.ir import Network

#: Solver used when the caller names none and the objective is a MILP.
DEFAULT_MILP_SOLVER = "highs"

#: Solver used when the caller names none and the objective needs exp() (a MINLP).
DEFAULT_MINLP_SOLVER = "scip_direct"

#: Pyomo solver names that solve MINLPs with exp() to global optimality.
EXP_CAPABLE_SOLVERS = (
    "scip_direct",
    "scip_persistent",
    "scip",
    "gurobi_direct_minlp",
    "baron",
    "couenne",
)


@dataclass(frozen=True)
class Evaluation:
    """The objective judged at a found input from the reference logits (onnxruntime).

    ``value`` is the objective's quantity recomputed there (same units as the solver's
    objective), ``holds`` whether the input does what the objective claims (e.g. the networks
    pick the required classes), ``details`` objective-specific figures for reports and JSON.
    """

    value: float
    holds: bool
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchScore:
    """An objective's value per input of a batch and its gradient with respect to each
    network's logits (one batch x outputs array per network)."""

    values: np.ndarray
    logit_gradients: list[np.ndarray]


class ProblemView(Protocol):
    """What an objective reads from, and adds to, the problem it is built into.

    :class:`pyomo_nn.problem.Problem` implements it: networks ``networks[i]`` called
    ``names[i]``, each with its :class:`~pyomo_nn.NetworkBlock` ``blocks[i]`` built from
    ``bounds[i]`` over ``domain``, all sharing the input ``x``; ``block`` is the objective's own
    Pyomo block and ``state`` scratch space for what it wants to keep between ``build``,
    ``warm_start`` and ``evaluate``.
    """

    networks: tuple[Network, ...]
    names: tuple[str, ...]
    domain: InputDomain
    bounds: tuple[Bounds, ...]
    blocks: tuple[NetworkBlock, ...]
    model: pyo.ConcreteModel
    block: pyo.Block
    state: dict[str, Any]

    @property
    def x(self) -> pyo.Var:
        """The shared input variables."""

    @property
    def input_size(self) -> int:
        """Number of inputs of every network."""

    def outputs(self, i: int) -> pyo.Var:
        """Logit variables of network ``i``."""

    def output_bounds(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Valid (lower, upper) bounds of network ``i``'s logits over the domain."""

    def input_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-input (lower, upper) of the shared input."""

    def reference_logits(self, i: int, x: np.ndarray) -> np.ndarray:
        """Logits of network ``i`` at ``x`` from the reference evaluation (onnxruntime)."""


class Objective(ABC):
    """Base class of every objective plug-in.

    Class attributes: ``name`` (registry name), ``min_networks``/``max_networks`` (how many
    networks it compares; ``None`` means any number). Instances say whether they need a
    solver that handles ``exp`` (:attr:`nonlinear`).
    """

    name: ClassVar[str]
    min_networks: ClassVar[int] = 1
    max_networks: ClassVar[int | None] = 1

    @property
    def nonlinear(self) -> bool:
        """True when the model this objective adds needs ``exp`` (a MINLP solver)."""
        return False

    @property
    def default_solver(self) -> str:
        return DEFAULT_MINLP_SOLVER if self.nonlinear else DEFAULT_MILP_SOLVER

    def check_networks(self, networks: Sequence[Network], domain: InputDomain) -> None:
        """Refuse networks or a domain this objective cannot work with (called before bounds)."""
        count = len(networks)
        upper = self.max_networks
        if count < self.min_networks or (upper is not None and count > upper):
            wanted = (
                f"exactly {upper}"
                if upper == self.min_networks
                else f"at least {self.min_networks}"
                if upper is None
                else f"{self.min_networks} to {upper}"
            )
            raise ObjectiveConfigError(f"objective {self.name!r} compares {wanted} network(s), got {count}")

    @abstractmethod
    def build(self, problem: ProblemView) -> None:
        """Add variables, constraints and exactly one active Pyomo Objective to ``problem.block``."""

    def warm_start(self, problem: ProblemView, x: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Give the objective's own variables their values at input ``x`` (blocks are set already).

        Only worth overriding when every ``x`` of the domain is feasible for the objective, so
        a solver taking a MIP start always holds an incumbent."""

    def search_score(self, problem: ProblemView, logits: Sequence[np.ndarray]) -> SearchScore | None:
        """For the gradient-search start of ``Problem.solve``: the objective's value over a batch
        of inputs from each network's logits there (``logits[i]``: batch x outputs, numpy forward
        pass) and its gradient with respect to each network's logits. Only for objectives that
        every input of the domain satisfies (with :meth:`warm_start` completing the start);
        None, the default, means no search."""
        return None

    @abstractmethod
    def evaluate(self, problem: ProblemView, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        """Judge the found input ``x`` from each network's reference ``logits`` there."""

    def infeasible_meaning(self, problem: ProblemView) -> str:
        """What a proof of infeasibility means for this objective, in one sentence."""
        return "no input of the domain satisfies the objective's constraints"

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in self.settings().items())
        return f"{type(self).__name__}({settings})"

    def settings(self) -> dict[str, object]:
        """The objective's settings, for reports and JSON (arrays summarised)."""
        return {
            key: (f"<{value.size} values>" if isinstance(value, np.ndarray) else value)
            for key, value in vars(self).items()
            if not key.startswith("_")
        }


def check_class(label: str, value: int, classes: int) -> int:
    """``value`` as a class index of a network with ``classes`` outputs, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ObjectiveConfigError(f"{label} must be an integer class index, got {value!r}")
    if not 0 <= value < classes:
        raise ObjectiveConfigError(f"{label} = {value} is not a class of a network with {classes} outputs")
    return int(value)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax of a logit vector."""
    shifted = np.exp(logits - np.max(logits))
    return shifted / np.sum(shifted)


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a batch of logit vectors."""
    shifted = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    return shifted / np.sum(shifted, axis=1, keepdims=True)


def through_softmax(probabilities: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """A gradient with respect to softmax outputs, taken back to the logits (row-wise)."""
    return probabilities * (gradient - np.sum(probabilities * gradient, axis=1, keepdims=True))


def l1_score(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise L1 distance ``|a - b|`` of two batches and its (sub)gradient with respect to
    ``a`` (the one with respect to ``b`` is its negation)."""
    difference = a - b
    return np.abs(difference).sum(axis=1), np.sign(difference)
