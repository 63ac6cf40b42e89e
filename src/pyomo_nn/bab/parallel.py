"""Bounding a batch of branches on an executor: the batch is cut into one chunk per worker.

Any ``concurrent.futures.Executor`` works (the package's process pool, a Dask client's
``get_executor()``); ``None`` bounds in this process (numpy's BLAS already uses every core
for the matrix products). A chunk whose worker is lost (a killed process, a Dask worker
gone) is bounded again here: its branches are never dropped, so the answer stays sound.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Executor

import numpy as np

from pyomo_nn.bab.bounding import BatchBounder, BatchBounds, BranchBatch
from pyomo_nn.bounds.executors import worker_count

#: Chunks smaller than this are not worth sending to another process.
MIN_CHUNK = 16


def bound_in_chunks(
    bounder: BatchBounder,
    batch: BranchBatch,
    iterations: int,
    executor: Executor | None,
    state,
    seconds: float | None = None,
) -> BatchBounds:
    """Optimised bounds of ``batch``, each chunk's steps held to ``seconds`` (a duration, so it
    means the same on a worker of another machine); ``state.lost_chunks`` counts chunks re-run
    here."""
    size = batch.splits.shape[0]
    if executor is None or size < 2 * MIN_CHUNK:
        return bounder.optimise(batch, iterations, seconds)
    chunks = max(1, min(worker_count(executor), size // MIN_CHUNK))
    edges = np.linspace(0, size, chunks + 1).astype(int)
    parts = [_slice(batch, start, stop) for start, stop in itertools.pairwise(edges)]
    futures = [executor.submit(_optimise, bounder, part, iterations, seconds) for part in parts]
    results = []
    for part, future in zip(parts, futures, strict=True):
        try:
            results.append(future.result())
        except Exception:  # a lost worker: its branches are bounded again here
            state.lost_chunks += 1
            results.append(bounder.optimise(part, iterations, seconds))
    return BatchBounds(*(np.concatenate([getattr(r, name) for r in results]) for name in _FIELDS))


_FIELDS = ("lower", "points", "coefficients", "alpha", "beta")


def _optimise(
    bounder: BatchBounder, batch: BranchBatch, iterations: int, seconds: float | None
) -> BatchBounds:
    """Worker entry point (module level so that it pickles)."""
    return bounder.optimise(batch, iterations, seconds)


def _slice(batch: BranchBatch, start: int, stop: int) -> BranchBatch:
    return batch.subset(slice(start, stop))
