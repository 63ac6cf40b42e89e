"""``fit_pairwise``: a one-vs-one ensemble of small MIP-trained nets with a majority vote (BeMi)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass

import numpy as np
from scipy.linalg import block_diag

from pyomo_nn.bounds.executors import LocalProcessPool
from pyomo_nn.errors import InvalidArgumentError, NoTrainedNetworkError, TrainingDataError
from pyomo_nn.training.classifier import StepsClassifier
from pyomo_nn.training.fit import Fit, fit_mip
from pyomo_nn.training.spec import BinarizedMLP, check_features, check_labels


@dataclass
class PairwiseEnsemble(StepsClassifier):
    """One :class:`Fit` per pair of classes ``(a, b)``, ``a`` before ``b`` in ``classes``; each
    votes for ``a`` when its score for ``a`` is >= its score for ``b``, else for ``b``. The
    predicted class has the most votes (the first class on ties); ``scores`` are the votes
    per class."""

    spec: BinarizedMLP
    classes: np.ndarray
    pairs: list[tuple[int, int]]  # class indices
    fits: list[Fit]

    @property
    def n_inputs(self) -> int:
        return self.fits[0].n_inputs

    @property
    def solve_time(self) -> float:
        return float(sum(f.solve_time for f in self.fits))

    @property
    def nonzero_weights(self) -> int:
        return int(sum(f.nonzero_weights for f in self.fits))

    @property
    def statuses(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.fits:
            out[f.status] = out.get(f.status, 0) + 1
        return out

    @property
    def max_gap(self) -> float | None:
        gaps = [f.gap for f in self.fits if f.gap is not None]
        return max(gaps) if gaps else None

    def steps(self) -> list:
        """The whole ensemble as one op sequence: all pair nets side by side (block-diagonal
        weights), each pair's score difference through a 0/1 step, then the votes per class."""
        layers = [f.export_layers() for f in self.fits]
        lo, hi = self.spec.activation_values
        steps: list = []
        depth = len(layers[0])
        for k in range(depth - 1):
            W = np.vstack([ls[k][0] for ls in layers]) if k == 0 else block_diag(*[ls[k][0] for ls in layers])
            b = np.concatenate([ls[k][1] for ls in layers])
            steps += [("affine", W, b), ("binary", lo, hi)]
        # output layer folded with the difference score_a - score_b of each pair
        W = block_diag(*[ls[-1][0][0:1] - ls[-1][0][1:2] for ls in layers])
        b = np.array([ls[-1][1][0] - ls[-1][1][1] for ls in layers])
        steps += [("affine", W, b), ("binary", 0, 1)]
        A = np.zeros((len(self.classes), len(self.pairs)))
        c = np.zeros(len(self.classes))
        for p, (a, bb) in enumerate(self.pairs):
            A[a, p] += 1.0
            A[bb, p] -= 1.0
            c[bb] += 1.0
        steps.append(("affine", A, c))
        return steps

    def __str__(self) -> str:
        statuses = ", ".join(f"{v} {k}" for k, v in sorted(self.statuses.items()))
        return (
            f"PairwiseEnsemble({len(self.fits)} pairs: {statuses}; {self.nonzero_weights} non-zero "
            f"weights, solve {self.solve_time:.1f} s)"
        )


def _fit_pair(spec, X, labels, objective, solver, time_limit, classes, options, progress) -> Fit:
    """One pair's net. When a fit-all objective's MIP stops without any network, the pair is
    first trained with ``accuracy`` (which starts from the all-zero net, so it always has one);
    if that net fits every sample it starts the original objective again, else it is kept."""
    try:
        return fit_mip(
            spec, X, labels, objective, solver=solver, time_limit=time_limit, classes=classes, **options
        )
    except NoTrainedNetworkError:
        if objective == "accuracy":
            raise
    first = fit_mip(
        spec, X, labels, "accuracy", solver=solver, time_limit=time_limit, classes=classes, **options
    )
    options = {k: v for k, v in options.items() if k != "start"}
    if progress is not None:
        progress(f"  {objective} found no network in time; accuracy: {first}")
    if first.train_accuracy < 1.0:
        return first
    try:
        return fit_mip(
            spec,
            X,
            labels,
            objective,
            solver=solver,
            time_limit=time_limit,
            classes=classes,
            start=first,
            **options,
        )
    except NoTrainedNetworkError:
        return first


def fit_pairwise(
    spec: BinarizedMLP,
    X: object,
    y: object,
    objective: str = "lexicographic",
    *,
    solver: str = "highs",
    time_limit: float | None = 60,
    classes: object | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    **options: object,
) -> PairwiseEnsemble:
    """Train one ``spec`` net per pair of classes on that pair's samples (``fit_mip`` with
    ``objective``, ``time_limit`` per MIP) and combine them by majority vote. ``progress``
    receives a line per trained pair. A pair whose ``objective`` MIP finds no network in time is
    trained with ``accuracy`` first and, if that net fits all its samples, again with
    ``objective`` from it (each pair's ``Fit.objective`` says what it is). A pair that cannot be
    trained raises the error of :func:`fit_mip`; no partial ensemble is returned. ``options``
    go to every ``fit_mip``: ``start="ste"`` starts each pair's MIP from a gradient-trained net
    of that pair (what reaches BeMi's accuracy with 40 MNIST images per class).
    ``workers > 1`` solves that many pairs at once in separate processes (give each solver one
    thread: ``threads=1``). ``executor``: any ``concurrent.futures.Executor`` instead, e.g. a
    Dask cluster's ``client.get_executor()`` (as for bound tightening); its workers must
    import pyomo_nn and reach the solver."""
    if not isinstance(spec, BinarizedMLP):
        raise InvalidArgumentError(f"spec: expected a training.BinarizedMLP, got {type(spec).__name__}")
    X = check_features(X)
    labels, known = check_labels(y, X.shape[0], classes)
    check_parallel(workers, executor)
    pairs = list(itertools.combinations(range(len(known)), 2))
    jobs = []
    for a, b in pairs:
        rows = np.flatnonzero((labels == a) | (labels == b))
        if not np.any(labels[rows] == a) or not np.any(labels[rows] == b):
            raise TrainingDataError(
                f"y: classes {known[a]!r} and {known[b]!r} need samples each for a pairwise ensemble"
            )
        jobs.append((spec, X[rows], labels[rows], objective, solver, time_limit, (a, b), options, None))
    fits: list[Fit | None] = [None] * len(jobs)

    def done(k: int, fit: Fit) -> None:
        fits[k] = fit
        if progress is not None:
            a, b = pairs[k]
            progress(f"pair {known[a]} vs {known[b]}: {fit}")

    run_jobs(_fit_pair, jobs, done, workers, executor, progress)
    return PairwiseEnsemble(spec, known, pairs, fits)


def check_parallel(workers: object, executor: object) -> None:
    """``workers`` a whole number >= 1; ``executor`` None or a ``concurrent.futures.Executor``."""
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise InvalidArgumentError(f"workers={workers!r}: a whole number >= 1")
    if executor is not None and not isinstance(executor, Executor):
        raise InvalidArgumentError(
            f"executor: expected a concurrent.futures.Executor (e.g. a Dask client's "
            f"get_executor()), got {type(executor).__name__}"
        )
    if executor is not None and workers != 1:
        raise InvalidArgumentError("give workers= or executor=, not both")


def run_jobs(fn, jobs, done, workers, executor, progress) -> None:
    """``done(k, fn(*jobs[k]))`` for every job: in this process (``workers == 1``, no
    executor), on ``workers`` local processes, or on ``executor``. Each job's last argument is
    its progress callback, which stays in this process when the job runs elsewhere."""
    if executor is None and workers == 1:
        for k, job in enumerate(jobs):
            done(k, fn(*job[:-1], progress))
        return
    pool = executor if executor is not None else LocalProcessPool(int(workers))
    try:
        futures = {pool.submit(fn, *job): k for k, job in enumerate(jobs)}
        for future in as_completed(futures):
            done(futures[future], future.result())
    finally:
        if executor is None:
            pool.shutdown(cancel_futures=True)
