"""Which ReLU a branch splits next: filtered smart branching (De Palma et al., 2021).

A cheap score ranks the free split neurons of every branch (BaBSR-style, Bunel et al. 2020:
what the neuron's relaxation costs the bound), then the best few candidates are tried for
real: both children of each are bounded with the parent's parameters (one backward pass,
no optimisation) and the candidate whose worse child has the best bound wins.
"""

from __future__ import annotations

import numpy as np

from pyomo_nn.bab.bounding import BatchBounder, BranchBatch

#: Candidates per branch tried by bounding their children (the filter of smart branching).
CANDIDATES = 3


def intercept_scores(
    bounder: BatchBounder, batch: BranchBatch, coefficients: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Score per free split neuron (batch, m); fixed neurons score ``-inf``.

    For the bound's row ``rows[b]`` of branch ``b``: a neuron on its upper line costs the
    bound ``|lambda| * t`` (its intercept ``t = -u l / (u - l)``); one on its lower line is
    scored ``lambda * t / 2``, half that (a proxy: what splitting it gains depends on where
    its pre-activation ends up). ``t`` is the branch's own when it carries refined bounds."""
    splits = batch.splits
    lam = coefficients[np.arange(splits.shape[0]), rows]
    intercepts = bounder.intercepts_of(batch)
    scores = np.where(lam < 0, -lam * intercepts, lam * intercepts / 2)
    return np.where(splits == 0, scores, -np.inf)


def choose_neurons(
    bounder: BatchBounder, batch: BranchBatch, coefficients: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """The split neuron each branch of ``batch`` branches on next, or -1 when none is free."""
    scores = intercept_scores(bounder, batch, coefficients, rows)
    size, m = scores.shape
    if m == 0:
        return np.full(size, -1)
    count = min(CANDIDATES, m)
    candidates = np.argsort(-scores, axis=1)[:, :count]
    valid = np.isfinite(np.take_along_axis(scores, candidates, axis=1))
    worst = np.full((size, count), -np.inf)
    for c in range(count):
        children = []
        for phase in (1, -1):
            splits = batch.splits.copy()
            splits[np.arange(size), candidates[:, c]] = phase
            child = BranchBatch(batch.problems, splits, batch.alpha, batch.beta, batch.lower, batch.upper)
            children.append(bounder.estimate(child))
        worst[:, c] = np.minimum(children[0].max(axis=1), children[1].max(axis=1))
    worst[~valid] = -np.inf
    chosen = candidates[np.arange(size), np.argmax(worst, axis=1)]
    return np.where(valid.any(axis=1), chosen, -1)
