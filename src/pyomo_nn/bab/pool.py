"""The open branches, as arrays: each row a branch with its problem, phases, parameters
(warm starts for its children), its own intermediate bounds when the bounder refines them,
bound and the neuron it will branch on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.bab.bounding import BranchBatch


@dataclass
class BranchPool:
    problems: np.ndarray
    splits: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    lower: np.ndarray
    next_neuron: np.ndarray
    #: The branches' own pre-activation bounds of the split neurons (float32, rounded
    #: outward), or None when every branch uses the root's.
    pre_lower: np.ndarray | None = None
    pre_upper: np.ndarray | None = None

    @classmethod
    def empty(cls, split_count: int, rows: int, refined: bool = False) -> BranchPool:
        """A pool with no branch; ``refined``: its branches carry their own bounds."""
        bounds = (np.zeros((0, split_count), dtype=np.float32),) * 2 if refined else (None, None)
        return cls(
            np.zeros(0, dtype=np.int64),
            np.zeros((0, split_count), dtype=np.int8),
            np.zeros((0, rows, split_count)),
            np.zeros((0, rows, split_count)),
            np.zeros(0),
            np.zeros(0, dtype=np.int64),
            *bounds,
        )

    def __len__(self) -> int:
        return self.lower.size

    def add(self, batch: BranchBatch, lower: np.ndarray, next_neuron: np.ndarray) -> None:
        self.problems = np.concatenate([self.problems, batch.problems])
        self.splits = np.concatenate([self.splits, batch.splits])
        self.alpha = np.concatenate([self.alpha, batch.alpha])
        self.beta = np.concatenate([self.beta, batch.beta])
        self.lower = np.concatenate([self.lower, lower])
        self.next_neuron = np.concatenate([self.next_neuron, next_neuron])
        if self.pre_lower is not None:
            self.pre_lower = np.concatenate([self.pre_lower, batch.lower])
            self.pre_upper = np.concatenate([self.pre_upper, batch.upper])

    def take(self, indices: np.ndarray) -> tuple[BranchBatch, np.ndarray, np.ndarray]:
        """Remove branches ``indices``; returns them (batch, bounds, next neurons)."""
        taken = self.batch().subset(indices)
        lower, neurons = self.lower[indices], self.next_neuron[indices]
        self.keep(np.setdiff1d(np.arange(len(self)), indices))
        return taken, lower, neurons

    def keep(self, indices: np.ndarray) -> None:
        """Keep only branches ``indices``."""
        self.problems = self.problems[indices]
        self.splits = self.splits[indices]
        self.alpha = self.alpha[indices]
        self.beta = self.beta[indices]
        self.lower = self.lower[indices]
        self.next_neuron = self.next_neuron[indices]
        if self.pre_lower is not None:
            self.pre_lower, self.pre_upper = self.pre_lower[indices], self.pre_upper[indices]

    def batch(self) -> BranchBatch:
        """Every open branch as one batch (views of the pool's arrays)."""
        return BranchBatch(self.problems, self.splits, self.alpha, self.beta, self.pre_lower, self.pre_upper)

    def lowest(self, count: int, problems: np.ndarray | None = None) -> np.ndarray:
        """Indices of the ``count`` branches with the lowest bounds (of ``problems`` only)."""
        candidates = np.arange(len(self))
        if problems is not None:
            candidates = candidates[np.isin(self.problems, problems)]
        if candidates.size <= count:
            return candidates
        order = np.argpartition(self.lower[candidates], count)[:count]
        return candidates[order]

    def problem_lower(self, problem_count: int) -> np.ndarray:
        """The lowest bound per problem (``+inf`` for problems with no open branch)."""
        result = np.full(problem_count, np.inf)
        np.minimum.at(result, self.problems, self.lower)
        return result
