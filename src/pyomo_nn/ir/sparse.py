"""A minimal compressed-sparse-row (CSR) matrix: the linear map of a conv or pooling layer
without its zeros (a 28x28 conv with 16 channels is 784 x 12544 when dense, 9 non-zeros a row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SparseMatrix:
    """Row ``i`` holds ``data[indptr[i]:indptr[i + 1]]`` at columns ``indices[...]``.

    Only non-zero entries are stored; columns within a row are in increasing order.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def from_coo(
        cls, rows: np.ndarray, columns: np.ndarray, values: np.ndarray, shape: tuple[int, int]
    ) -> SparseMatrix:
        """From coordinates (no duplicates); zero values are dropped."""
        keep = values != 0
        rows, columns, values = rows[keep], columns[keep], values[keep]
        order = np.lexsort((columns, rows))
        counts = np.bincount(rows, minlength=shape[0])
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(indptr, columns[order].astype(np.int64), values[order].astype(np.float64), shape)

    @classmethod
    def from_dense(cls, matrix: np.ndarray) -> SparseMatrix:
        rows, columns = np.nonzero(matrix)  # already in row-major order
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=matrix.shape[0]))])
        return cls(indptr.astype(np.int64), columns.astype(np.int64), matrix[rows, columns], matrix.shape)

    @classmethod
    def diagonal(cls, values: np.ndarray) -> SparseMatrix:
        index = np.arange(values.size)
        return cls.from_coo(index, index, np.asarray(values, dtype=np.float64), (values.size, values.size))

    @classmethod
    def identity(cls, size: int) -> SparseMatrix:
        return cls.diagonal(np.ones(size))

    @classmethod
    def hstack(cls, blocks: Sequence[SparseMatrix]) -> SparseMatrix:
        """``[A | B | ...]``: the blocks side by side (equal row counts)."""
        rows = np.concatenate([np.repeat(np.arange(b.shape[0]), np.diff(b.indptr)) for b in blocks])
        offsets = np.cumsum([0] + [b.shape[1] for b in blocks])
        columns = np.concatenate([b.indices + offset for b, offset in zip(blocks, offsets, strict=False)])
        values = np.concatenate([b.data for b in blocks])
        return cls.from_coo(rows, columns, values, (blocks[0].shape[0], int(offsets[-1])))

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values) of row ``i``."""
        start, stop = self.indptr[i], self.indptr[i + 1]
        return self.indices[start:stop], self.data[start:stop]

    def row_indices(self) -> np.ndarray:
        """The row of every stored entry (COO rows)."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def row_abs_sums(self) -> np.ndarray:
        """``sum_j |A_ij|`` per row."""
        return np.bincount(self.row_indices(), weights=np.abs(self.data), minlength=self.shape[0])

    def to_dense(self) -> np.ndarray:
        dense = np.zeros(self.shape)
        dense[self.row_indices(), self.indices] = self.data
        return dense
