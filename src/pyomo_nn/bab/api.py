"""``branch_and_bound``: optimise a linear function of a network's outputs over a domain, or
prove it stays on one side of a threshold, by branching on ReLU phases."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from pyomo_nn.bab.bounding import REFINE_BOUNDS, BatchBounder
from pyomo_nn.bab.chain import relu_chain
from pyomo_nn.bab.leaf import MilpLeaves
from pyomo_nn.bab.objective import LinearOutputs
from pyomo_nn.bab.search import BranchAndBoundSearch
from pyomo_nn.bounds import Bounds, compute_bounds
from pyomo_nn.bounds.alpha import supports_alpha
from pyomo_nn.bounds.compute import checked_time_limit
from pyomo_nn.domains import InputDomain
from pyomo_nn.errors import InvalidArgumentError, StaleBoundsError
from pyomo_nn.ir import Network
from pyomo_nn.solvers.config import DEFAULT_TIME_LIMIT
from pyomo_nn.tolerances import BAB_PROOF_MARGIN

#: Share of the time limit the root's bounds may take when the caller gives none (their LP
#: stage stops there; the solver-free stages before it are not interruptible). A call with
#: ``time_limit=10`` took 115 s on a 800x2 / 200x5 pair before this.
ROOT_BOUNDS_SHARE = 0.3

#: Statuses of a :class:`BranchAndBoundResult`.
STATUSES = ("proved", "counterexample", "optimal", "undecided", "time_limit", "branch_limit")


@dataclass(frozen=True)
class BranchAndBoundResult:
    """``lower <= optimum <= upper`` of the objective (in its own sense and units).

    ``status``: ``proved`` (with a threshold: no input reaches it), ``counterexample`` (an
    input reaches it, ``point``, confirmed on the source model by onnxruntime), ``optimal``
    (no threshold: the gap closed), ``undecided`` (the optimum lies within
    :data:`~pyomo_nn.tolerances.BAB_PROOF_MARGIN` below the threshold: no input reaches it,
    but not by the margin a proof needs), ``time_limit`` / ``branch_limit`` (stopped: the
    bounds hold, ``point`` is the best input found). ``objective`` is the objective at ``point``.
    """

    status: str
    lower: float
    upper: float
    point: np.ndarray | None
    objective: float | None
    root_bound: float
    branches: int
    leaves: int
    seconds: float
    #: Chunks of branches bounded again in this process because their worker was lost.
    rebounded_chunks: int = 0

    @property
    def gap(self) -> float:
        return self.upper - self.lower

    def __str__(self) -> str:
        return (
            f"{self.status}: {self.lower:.6g} <= objective <= {self.upper:.6g} (root bound "
            f"{self.root_bound:.6g}), {self.branches} branches, {self.leaves} leaves, {self.seconds:.2f} s"
        )


def branch_and_bound(
    network: Network,
    domain: InputDomain,
    objective: LinearOutputs,
    *,
    sense: str = "maximize",
    threshold: float | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    executor: Executor | None = None,
    leaf_solver: str = "highs",
    bounds: Bounds | None = None,
    max_branches: int | None = None,
    refine_bounds: bool = REFINE_BOUNDS,
    log: Callable[[str], None] | None = None,
) -> BranchAndBoundResult:
    """Maximise (or minimise) ``objective`` over ``domain``; with ``threshold``, stop at the
    proof that it stays below (above, when minimising) or at an input that reaches it.

    ``objective`` is a linear function of :func:`~pyomo_nn.bab.outputs`
    (``c @ y + d``). ``bounds`` (default: alpha bounds on Dense/ReLU chains, else
    ``compute_bounds(network, domain)``) are the root's pre-activation bounds. ``executor``
    bounds batches of branches in parallel (None: this process); ``leaf_solver`` (any Pyomo
    solver) solves branches with every split neuron fixed; ``refine_bounds``: each branch
    refines its intermediate bounds after a split
    (:meth:`~pyomo_nn.bab.bounding.BatchBounder.refine`); ``log`` gets a progress line every
    few seconds.
    """
    if sense not in ("maximize", "minimize"):
        raise InvalidArgumentError(f"sense must be 'maximize' or 'minimize', got {sense!r}")
    limit = checked_time_limit(time_limit)
    started = time.perf_counter()
    deadline = started + (limit if limit is not None else np.inf)
    if not isinstance(objective, LinearOutputs) or not objective.is_scalar():
        raise InvalidArgumentError(
            "objective must be one linear function of the outputs, e.g. y = pnn.bab."
            f"outputs(net); objective = y[3] - y[5]; got {objective!r}"
        )
    if objective.size != network.output_size:
        raise InvalidArgumentError(
            f"objective is written over {objective.size} outputs; the network has {network.output_size}"
        )
    if max_branches is not None and (not isinstance(max_branches, int) or max_branches < 1):
        raise InvalidArgumentError(f"max_branches must be a positive integer or None, got {max_branches!r}")
    if threshold is not None and not np.isfinite(threshold):
        raise InvalidArgumentError(f"threshold must be a finite number or None, got {threshold!r}")
    lower, upper = domain.box(network.input_size)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise InvalidArgumentError(
            "branch and bound needs a bounded domain: every input needs a finite lower and upper "
            "bound (use pnn.Box or pnn.LinfBall)"
        )
    sign = -1.0 if sense == "maximize" else 1.0
    chain = relu_chain(network, sign * objective.coefficients[None], sign * objective.offset[None])
    bounds = _root_bounds(network, domain, lower, upper, bounds, limit)
    bounder = BatchBounder.from_bounds(chain, lower, upper, bounds, refine=refine_bounds)
    if threshold is None:
        prove_above, stop_below = np.array([np.inf]), np.array([-np.inf])
    else:
        prove_above = np.array([sign * threshold + BAB_PROOF_MARGIN])
        stop_below = np.array([sign * threshold])
    search = BranchAndBoundSearch(
        bounder,
        prove_above,
        stop_below,
        leaf_solver=MilpLeaves(bounder, leaf_solver),
        executor=executor,
        log=log,
    )
    state = search.run(deadline, max_branches)
    root_bound = float(search.root_bounds[0])
    point = state.points[0]
    value = None if point is None else _objective_at(network, objective, point)
    reached = threshold is not None and value is not None and _reaches(value, threshold, sense)
    if reached and not _confirmed(network, objective, point, threshold, sense):
        reached = False
    if reached:
        status = "counterexample"
    elif search.proved(0):
        status = "proved" if threshold is not None else "optimal"
    elif 0 in state.undecided:
        status = "undecided"
    elif max_branches is not None and state.branches >= max_branches and time.perf_counter() < deadline:
        status = "branch_limit"
    else:
        status = "time_limit"
    best = np.inf if value is None else sign * value
    internal_lower = min(float(state.lower[0]), best)
    low, high = (internal_lower, best) if sign > 0 else (-best, -internal_lower)
    return BranchAndBoundResult(
        status=status,
        lower=low,
        upper=high,
        point=point,
        objective=value,
        root_bound=sign * root_bound,
        branches=state.branches,
        leaves=state.leaves,
        seconds=time.perf_counter() - started,
        rebounded_chunks=state.lost_chunks,
    )


def _root_bounds(
    network: Network,
    domain: InputDomain,
    lower: np.ndarray,
    upper: np.ndarray,
    bounds: Bounds | None,
    time_limit: float | None,
) -> Bounds:
    """The given bounds (checked), or alpha bounds where the network takes them, else
    ``compute_bounds``' default with its LP stage held to :data:`ROOT_BOUNDS_SHARE` of the time
    limit (the search gets the rest). Not ``auto`` on Dense chains: it keeps symbolic bounds
    below 128 undecided neurons, which suits one MILP, but every branch starts from the root's
    intermediate bounds: mnist-net_256x2, eps 0.02, adversarial margin around test image 0,
    3,000 branches: symbolic root bounds (80 undecided) left the gap open (-0.1016 <= optimum
    <= -0.0262), alpha's (53, 1.1 s) proved the optimum -0.1011 in 2,331 branches."""
    if bounds is None:
        if supports_alpha(network):
            return compute_bounds(network, domain, method="alpha")
        share = None if time_limit is None else ROOT_BOUNDS_SHARE * time_limit
        return compute_bounds(network, domain, time_limit=share)
    if bounds.fingerprint != network.fingerprint():
        raise StaleBoundsError("the bounds were computed for another network; compute them for this one")
    bounds.check_covers(lower, upper)
    return bounds


def _objective_at(network: Network, objective: LinearOutputs, x: np.ndarray) -> float:
    return float(objective.coefficients[0] @ network.forward(x) + objective.offset[0])


def _reaches(value: float, threshold: float, sense: str) -> bool:
    return value >= threshold if sense == "maximize" else value <= threshold


def _confirmed(
    network: Network, objective: LinearOutputs, x: np.ndarray, threshold: float, sense: str
) -> bool:
    """Whether the source model (onnxruntime) agrees that ``x`` reaches the threshold."""
    if network.source is None:
        return True
    outputs = np.asarray(network.source.run(x)[0], dtype=np.float64).ravel()
    return _reaches(float(objective.coefficients[0] @ outputs + objective.offset[0]), threshold, sense)
