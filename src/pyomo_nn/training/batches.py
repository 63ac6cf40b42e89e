"""``fit_batches``: batch training (Thorbjarnarson and Yorke-Smith): split the training data
into batches, train a MIP (or a one-vs-one ensemble) per batch, combine the batch networks by
a majority vote or by picking the one most accurate on the training samples outside its batch."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from pyomo_nn.errors import InvalidArgumentError, TrainingDataError
from pyomo_nn.training.classifier import StepsClassifier
from pyomo_nn.training.export import one_hot_argmax, side_by_side
from pyomo_nn.training.fit import Fit, fit_mip
from pyomo_nn.training.pairwise import PairwiseEnsemble, check_parallel, fit_pairwise, run_jobs
from pyomo_nn.training.spec import BinarizedMLP, check_features, check_labels

COMBINES = ("vote", "best")


@dataclass
class BatchEnsemble(StepsClassifier):
    """One network per batch (a :class:`Fit`, or a :class:`PairwiseEnsemble` with
    ``pairwise=True``). ``batches``: the training rows of each; ``validation``: each member's
    accuracy on the training samples outside its batch (on its own batch when there is one
    batch). ``combine="vote"``: each member votes for its predicted class, the most votes win
    (the first class on ties); ``"best"``: the member of highest ``validation`` (the first on
    ties) predicts alone. ``scores``: the votes per class, or the best member's output."""

    classes: np.ndarray
    members: list
    batches: list[np.ndarray]
    validation: list[float]
    combine: str

    @property
    def n_inputs(self) -> int:
        return self.members[0].n_inputs

    @property
    def best(self) -> int:
        """Index of the member of highest validation accuracy."""
        return int(np.argmax(self.validation))

    @property
    def solve_time(self) -> float:
        return float(sum(m.solve_time for m in self.members))

    @property
    def nonzero_weights(self) -> int:
        """Non-zero weights of the networks that predict (all members for a vote)."""
        if self.combine == "best":
            return self.members[self.best].nonzero_weights
        return int(sum(m.nonzero_weights for m in self.members))

    def steps(self) -> list:
        """The op sequence: the best member's, or every member's one-hot argmax side by side
        and summed per class (the votes)."""
        if self.combine == "best":
            return self.members[self.best].steps()
        n = len(self.classes)
        votes = [
            one_hot_argmax(m.steps(), n, integer=isinstance(m, PairwiseEnsemble) or m.spec.integer_weights)
            for m in self.members
        ]
        return [*side_by_side(votes), ("affine", np.hstack([np.eye(n)] * len(self.members)), np.zeros(n))]


def split_batches(labels: np.ndarray, batches: int, seed: int) -> list[np.ndarray]:
    """Stratified batches: each class's samples shuffled (``seed``) and dealt round the
    batches, so every batch holds every class in (almost) equal numbers and the batch sizes
    differ by at most one."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in range(batches)]
    dealt = 0  # the next class continues where the last one stopped: sizes differ by <= 1
    for c in np.unique(labels):
        for row in rng.permutation(np.flatnonzero(labels == c)):
            parts[dealt % batches].append(int(row))
            dealt += 1
    return [np.array(sorted(p), dtype=int) for p in parts]


def _fit_batch(spec, X, y, objective, solver, time_limit, classes, options, progress) -> Fit:
    return fit_mip(spec, X, y, objective, solver=solver, time_limit=time_limit, classes=classes, **options)


def fit_batches(
    spec: BinarizedMLP,
    X: object,
    y: object,
    objective: str = "max-margin",
    *,
    batches: int = 2,
    combine: str = "vote",
    pairwise: bool = False,
    seed: int = 0,
    solver: str = "highs",
    time_limit: float | None = 60,
    classes: object | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    **options: object,
) -> BatchEnsemble:
    """Batch training: split ``X``, ``y`` into ``batches`` stratified batches (``seed``), train
    one network per batch (``fit_mip``, or ``fit_pairwise`` with ``pairwise=True``; same
    ``objective``, ``time_limit`` per MIP and ``options``) and combine them (``combine``:
    ``"vote"`` or ``"best"``, see :class:`BatchEnsemble`). ``workers``/``executor`` solve batches
    (for ``pairwise``, the pairs of each batch) in parallel as in :func:`fit_pairwise`. Every
    batch needs a sample of every class. A batch that cannot be trained raises the error of
    :func:`fit_mip` (no partial ensemble)."""
    if not isinstance(spec, BinarizedMLP):
        raise InvalidArgumentError(f"spec: expected a training.BinarizedMLP, got {type(spec).__name__}")
    if combine not in COMBINES:
        raise InvalidArgumentError(f"combine={combine!r}: choose one of {', '.join(COMBINES)}")
    if isinstance(batches, bool) or not isinstance(batches, int | np.integer) or batches < 1:
        raise InvalidArgumentError(f"batches={batches!r}: a whole number >= 1")
    check_parallel(workers, executor)
    X = check_features(X)
    indices, known = check_labels(y, X.shape[0], classes)
    smallest = int(np.bincount(indices, minlength=len(known)).min())
    if smallest < batches:
        raise TrainingDataError(
            f"batches={batches}: the smallest class has {smallest} samples; every batch needs a "
            "sample of every class"
        )
    y_known = known[indices]
    parts = split_batches(indices, int(batches), seed)
    members: list = [None] * len(parts)

    def done(k: int, member) -> None:
        members[k] = member
        if progress is not None:
            progress(f"batch {k + 1} of {len(parts)} ({parts[k].size} samples): {member}")

    if pairwise:
        for k, rows in enumerate(parts):
            member = fit_pairwise(
                spec,
                X[rows],
                y_known[rows],
                objective,
                solver=solver,
                time_limit=time_limit,
                classes=known,
                workers=workers,
                executor=executor,
                **options,
            )
            done(k, member)
    else:
        jobs = [
            (spec, X[rows], y_known[rows], objective, solver, time_limit, known, options, None)
            for rows in parts
        ]
        run_jobs(_fit_batch, jobs, done, workers, executor, progress)
    validation = []
    for rows, member in zip(parts, members, strict=True):
        held = np.setdiff1d(np.arange(X.shape[0]), rows)
        held = held if held.size else rows
        validation.append(member.accuracy(X[held], y_known[held]))
    return BatchEnsemble(known, members, parts, validation, combine)
