"""The branch-and-bound loop over ReLU phases, for several problems at once.

Problem ``p`` minimises ``F_p(x) = max_r row_{p,r}(x)`` over the input box (one row: a
linear function of the outputs; several: a conjunction, as in a VNN-LIB disjunct). The open
branches of all problems share one pool; each step takes the branches with the lowest
bounds, splits each on the neuron chosen when it was bounded, bounds the children in one
batch (:mod:`.bounding`; on an executor in chunks, :mod:`.parallel`), keeps their relaxed
minimisers as candidate points, closes children whose bound reaches their problem's
threshold and hands branches with no free split neuron left to the exact leaf solver. When
the bounder refines intermediate bounds, the children's bounds of the layers after the split
neuron's are refined before they are bounded (:meth:`.BatchBounder.refine`).

Sound at any moment: a problem's bound is the lowest bound of its open branches (each valid
on its branch, and the branches cover the box); it is proved when none is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pyomo_nn.bab.bounding import BatchBounder, BatchBounds, BranchBatch
from pyomo_nn.bab.branching import choose_neurons, intercept_scores
from pyomo_nn.bab.parallel import bound_in_chunks
from pyomo_nn.bab.pool import BranchPool

#: Parameter optimisation steps at the root and per batch of children (warm-started from the
#: parent, so fewer are needed; beta-CROWN uses 20 in both places).
ROOT_ITERATIONS = 50
CHILD_ITERATIONS = 20

#: Parents split per step (twice as many children are bounded in one batch).
PARENTS_PER_STEP = 128

#: Seconds between progress lines.
PROGRESS_SECONDS = 2.0

#: In optimisation mode a branch is pruned once its bound is within this absolute or relative
#: distance of the best point found (the usual MIP gap tolerances).
ABSOLUTE_GAP = 1e-6
RELATIVE_GAP = 1e-6

#: A leaf solver: (problem, phases of the split neurons, deadline) -> (bound on the branch,
#: a point of the branch or None, whether that point is the branch's minimum).
LeafSolver = Callable[[int, np.ndarray, float], tuple[float, np.ndarray | None, bool]]


@dataclass
class SearchState:
    """What the search knows per problem: ``lower`` bound of the minimum, ``best`` value
    found at ``points``; counts of branches bounded and leaves solved."""

    lower: np.ndarray
    best: np.ndarray
    points: list[np.ndarray | None]
    branches: int = 0
    leaves: int = 0
    lost_chunks: int = 0
    #: Problems whose exact minimum (a leaf's) lies between ``stop_below`` and ``prove_above``:
    #: neither answer holds with its margin, so the search stops on them.
    undecided: set[int] = field(default_factory=set)
    closed_by: dict[str, int] = field(default_factory=dict)


class BranchAndBoundSearch:
    """Minimise problems ``0..P-1`` of ``bounder.chain`` over its box.

    ``prove_above[p]``: a branch whose bound reaches it is closed (``+inf``: no threshold,
    the search optimises, pruning against the best point). ``stop_below[p]``: a point with
    ``F_p <= stop_below[p]`` decides problem ``p`` (``-inf``: never).
    """

    def __init__(
        self,
        bounder: BatchBounder,
        prove_above: np.ndarray,
        stop_below: np.ndarray,
        *,
        leaf_solver: LeafSolver | None = None,
        executor=None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.bounder = bounder
        self.chain = bounder.chain
        problems, rows = self.chain.rows.shape[:2]
        self.prove_above = np.asarray(prove_above, dtype=np.float64)
        self.stop_below = np.asarray(stop_below, dtype=np.float64)
        self.leaf_solver = leaf_solver
        self.executor = executor
        self.log = log
        self.pool = BranchPool.empty(bounder.split_count, rows, refined=bounder.refine_bounds)
        self.state = SearchState(np.full(problems, -np.inf), np.full(problems, np.inf), [None] * problems)
        self.started = time.perf_counter()
        self._last_progress = self.started
        self._root_done = False
        self.root_bounds = np.full(problems, -np.inf)

    # -- status -----------------------------------------------------------------------------
    @property
    def problem_count(self) -> int:
        return self.chain.rows.shape[0]

    def found(self, problem: int) -> bool:
        return bool(self.state.best[problem] <= self.stop_below[problem])

    def proved(self, problem: int) -> bool:
        """No open branch left and the bound reached (optimisation: the gap closed)."""
        return (
            self._root_done
            and problem not in self.state.undecided
            and not np.any(self.pool.problems == problem)
            and not self.found(problem)
        )

    def open_problems(self) -> np.ndarray:
        return np.array(
            [
                p
                for p in range(self.problem_count)
                if not self.found(p) and not self.proved(p) and p not in self.state.undecided
            ],
            dtype=np.int64,
        )

    def _threshold(self, problems: np.ndarray) -> np.ndarray:
        """Bound at which a branch of each problem closes: the proof threshold when there is
        one (never the incumbent then: a point between the two thresholds proves neither
        answer), else the best point found minus the gap tolerance."""
        best = self.state.best[problems]
        pruning = best - np.maximum(ABSOLUTE_GAP, RELATIVE_GAP * np.abs(best))
        threshold = self.prove_above[problems]
        return np.where(np.isfinite(threshold), threshold, pruning)

    # -- the loop -------------------------------------------------------------------------------
    def run(self, deadline: float, max_branches: int | None = None) -> SearchState:
        """Search until every problem is decided, ``deadline`` (a ``time.perf_counter()``)
        passes or ``max_branches`` branches were bounded; may be called again to go on."""
        if not self._root_done:
            self._root(deadline)
        while True:
            open_problems = self.open_problems()
            if open_problems.size == 0 or time.perf_counter() >= deadline:
                break
            if max_branches is not None and self.state.branches >= max_branches:
                break
            self._step(open_problems, deadline)
            self._progress(force=False)
        self._update_lower()
        self._progress(force=True)
        return self.state

    def _root(self, deadline: float) -> None:
        problems = np.arange(self.problem_count)
        alpha, beta = self.bounder.initial_parameters(self.chain.rows.shape[1])
        batch = BranchBatch(
            problems,
            np.zeros((problems.size, self.bounder.split_count), dtype=np.int8),
            np.repeat(alpha[None], problems.size, axis=0),
            np.repeat(beta[None], problems.size, axis=0),
        )
        if self.bounder.refine_bounds:
            batch = self.bounder.with_root_bounds(batch)
        bounds = self.bounder.optimise(batch, ROOT_ITERATIONS, _remaining(deadline))
        self.root_bounds = bounds.lower.max(axis=1)
        self.state.branches += problems.size
        self._file(batch, bounds, np.full(problems.size, -np.inf), "root bound")
        self._root_done = True
        self._update_lower()

    def _step(self, open_problems: np.ndarray, deadline: float) -> None:
        chosen = self.pool.lowest(PARENTS_PER_STEP, open_problems)
        parents, parent_lower, neurons = self.pool.take(chosen)
        leaves = neurons < 0
        for index in np.flatnonzero(leaves):
            self._solve_leaf(parents, parent_lower, int(index), deadline)
        keep = ~leaves
        if not keep.any():
            return
        children = self._children(parents.subset(np.flatnonzero(keep)), neurons[keep])
        bounds = bound_in_chunks(
            self.bounder, children, CHILD_ITERATIONS, self.executor, self.state, _remaining(deadline)
        )
        self.state.branches += children.splits.shape[0]
        self._file(children, bounds, np.repeat(parent_lower[keep], 2), "bound")

    def _children(self, parents: BranchBatch, neurons: np.ndarray) -> BranchBatch:
        """Both children of each parent (active, then inactive on its neuron), with the
        parent's parameters; their bounds refined when the bounder refines."""
        rows = np.arange(neurons.size)
        twice = parents.subset(np.repeat(rows, 2))
        twice.splits[2 * rows, neurons] = 1
        twice.splits[2 * rows + 1, neurons] = -1
        layers = np.repeat(self.bounder.layer_of(neurons), 2)
        deep = np.flatnonzero(layers < len(self.chain.weights) - 1)  # a layer after theirs
        if not self.bounder.refine_bounds or deep.size == 0:
            return twice
        scores = np.zeros(twice.splits.shape)
        some = twice.subset(deep)
        scores[deep] = intercept_scores(self.bounder, some, *self.bounder.split_coefficients(some))
        return self.bounder.refine(twice, layers, scores)

    def _file(self, batch: BranchBatch, bounds: BatchBounds, inherited: np.ndarray, how: str) -> None:
        """Record candidate points, close what is proved, put the rest in the pool."""
        self._candidates(batch.problems, bounds.points)
        lower = np.maximum(bounds.lower.max(axis=1), inherited)
        closed = lower >= self._threshold(batch.problems)
        if closed.any():
            self.state.closed_by[how] = self.state.closed_by.get(how, 0) + int(closed.sum())
        kept = np.flatnonzero(~closed)
        if kept.size == 0:
            return
        survivors = batch.subset(kept)
        survivors.alpha, survivors.beta = bounds.alpha[kept], bounds.beta[kept]
        best_rows = np.argmax(bounds.lower[kept], axis=1)
        neurons = choose_neurons(self.bounder, survivors, bounds.coefficients[kept], best_rows)
        self.pool.add(survivors, lower[kept], neurons)

    def _candidates(self, problems: np.ndarray, points: np.ndarray) -> None:
        """Evaluate the relaxed minimisers (one per branch and row) on the network: screened
        in float32, the best per problem evaluated again in float64 before it is kept."""
        size, rows, inputs = points.shape
        flat = points.reshape(size * rows, inputs)
        screened = self.bounder.single.chain.objective(flat.astype(np.float32), np.repeat(problems, rows))
        values = screened.max(axis=1).reshape(size, rows)
        best_row = np.argmin(values, axis=1)
        best = values[np.arange(size), best_row]
        for p in np.unique(problems):
            members = np.flatnonzero(problems == p)
            b = members[np.argmin(best[members])]
            point = points[b, best_row[b]]
            value = float(self.chain.objective(point[None], problems[b : b + 1]).max())
            if value < self.state.best[p]:
                self.state.best[p] = value
                self.state.points[p] = point.copy()

    def _solve_leaf(
        self, parents: BranchBatch, parent_lower: np.ndarray, index: int, deadline: float
    ) -> None:
        """A branch with every split neuron fixed: solve it exactly (or put it back)."""
        problem = int(parents.problems[index])
        if self.leaf_solver is None:
            raise RuntimeError("internal: a leaf was reached without a leaf solver")
        lower, point, exact = self.leaf_solver(problem, parents.splits[index], deadline)
        self.state.leaves += 1
        if point is not None:
            self._candidates(np.array([problem]), point[None, None, :])
        lower = max(lower, float(parent_lower[index]))
        optimising = not np.isfinite(self.prove_above[problem])
        if lower >= self._threshold(np.array([problem]))[0] or (exact and optimising):
            self.state.closed_by["leaf"] = self.state.closed_by.get("leaf", 0) + 1
            return
        if exact:  # its minimum is known and lies between the thresholds: no answer holds
            if not self.found(problem):
                self.state.undecided.add(problem)
            return
        branch = parents.subset(slice(index, index + 1))
        self.pool.add(branch, np.array([lower]), np.array([-1]))

    # -- reporting -------------------------------------------------------------------------------
    def _update_lower(self) -> None:
        """Each problem's bound: its threshold once proved, else the lowest of its open
        branches and its best point (a found or undecided problem keeps its best point)."""
        open_lower = self.pool.problem_lower(self.problem_count)
        proved = np.array([self.proved(p) for p in range(self.problem_count)], dtype=bool)
        closed_at = self._threshold(np.arange(self.problem_count))
        self.state.lower = np.where(
            proved, closed_at, np.maximum(self.state.lower, np.minimum(open_lower, self.state.best))
        )

    def _progress(self, force: bool) -> None:
        now = time.perf_counter()
        if self.log is None or (not force and now - self._last_progress < PROGRESS_SECONDS):
            return
        self._last_progress = now
        self._update_lower()
        worst = int(np.argmin(self.state.lower))
        self.log(
            f"{len(self.pool)} open branches, {self.state.branches} bounded, {self.state.leaves} leaves; "
            f"lowest bound {self.state.lower[worst]:.6g} (problem {worst}), "
            f"best value {np.min(self.state.best):.6g}; closed by {self.state.closed_by}"
        )


def _remaining(deadline: float) -> float | None:
    """Seconds until ``deadline`` (None without one): the bounding steps' budget."""
    return None if not np.isfinite(deadline) else max(deadline - time.perf_counter(), 0.0)
