"""Coefficient matrices of the symbolic back-substitution: dense numpy while they are dense,
scipy CSR while they are sparse (a conv neuron reaches only its receptive field).

Every function accepts and returns either kind; rows are target neurons, columns the values
of the tensor the coefficients currently multiply.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from pyomo_nn.ir import SparseMatrix

Coefficients = np.ndarray | sp.csr_array

#: A sparse coefficient matrix with more than this fraction of non-zeros becomes dense.
DENSE_FRACTION = 0.2


def to_scipy(matrix: np.ndarray | SparseMatrix) -> np.ndarray | sp.csr_array:
    """A layer's linear map as numpy (dense) or scipy CSR (sparse)."""
    if isinstance(matrix, np.ndarray):
        return matrix
    return sp.csr_array((matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape)


def tidy(matrix: Coefficients) -> Coefficients:
    """CSR with explicit zeros removed, or dense once it is mostly non-zero."""
    if isinstance(matrix, np.ndarray):
        return matrix
    matrix = sp.csr_array(matrix)
    if matrix.nnz > DENSE_FRACTION * matrix.shape[0] * matrix.shape[1]:
        return matrix.toarray()
    matrix.eliminate_zeros()
    return matrix


def add(first: Coefficients | None, second: Coefficients) -> Coefficients:
    if first is None:
        return second
    if isinstance(first, np.ndarray) or isinstance(second, np.ndarray):
        return _dense(first) + _dense(second)
    return tidy(first + second)


def product(coefficients: Coefficients, matrix: np.ndarray | sp.csr_array) -> Coefficients:
    """``coefficients @ matrix``."""
    if isinstance(coefficients, np.ndarray) and not isinstance(matrix, np.ndarray):
        return (matrix.T @ coefficients.T).T
    return tidy(coefficients @ matrix)


def dot(coefficients: Coefficients, vector: np.ndarray) -> np.ndarray:
    """``coefficients @ vector`` as a 1-D array."""
    return np.asarray(coefficients @ vector).ravel()


def absolute(coefficients: Coefficients) -> Coefficients:
    return abs(coefficients)


def split_signs(coefficients: Coefficients) -> tuple[Coefficients, Coefficients]:
    """(positive part, negative part)."""
    if isinstance(coefficients, np.ndarray):
        return np.maximum(coefficients, 0.0), np.minimum(coefficients, 0.0)
    positive, negative = coefficients.copy(), coefficients.copy()
    positive.data = np.maximum(positive.data, 0.0)
    negative.data = np.minimum(negative.data, 0.0)
    return tidy(positive), tidy(negative)


def columns(coefficients: Coefficients, start: int, stop: int) -> Coefficients:
    return (
        coefficients[:, start:stop]
        if isinstance(coefficients, np.ndarray)
        else tidy(coefficients[:, start:stop])
    )


def relax(
    coefficients: Coefficients,
    maximise: bool,
    upper_slope: np.ndarray,
    upper_intercept: np.ndarray,
    lower_slope: np.ndarray,
) -> tuple[Coefficients, np.ndarray, np.ndarray]:
    """Replace each output ``y_j`` of a piecewise-linear layer by one of its linear bounds
    ``lower_slope_j x_j <= y_j <= upper_slope_j x_j + upper_intercept_j``: the upper one where
    the coefficient pushes the bound up (positive when maximising, negative when minimising).

    Returns the new coefficients (on ``x``), the constant added per row, and the sum of the
    absolute values of the terms that make up that constant (for the rounding margin).
    """
    if isinstance(coefficients, np.ndarray):
        use_upper = coefficients > 0 if maximise else coefficients < 0
        terms = np.where(use_upper, coefficients * upper_intercept, 0.0)
        slopes = np.where(use_upper, upper_slope, lower_slope)
        return coefficients * slopes, terms.sum(axis=1), np.abs(terms).sum(axis=1)
    matrix = sp.csr_array(coefficients, copy=True)
    values, where = matrix.data, matrix.indices
    use_upper = values > 0 if maximise else values < 0
    terms = np.where(use_upper, values * upper_intercept[where], 0.0)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    constant = np.bincount(rows, weights=terms, minlength=matrix.shape[0])
    magnitude = np.bincount(rows, weights=np.abs(terms), minlength=matrix.shape[0])
    matrix.data = values * np.where(use_upper, upper_slope[where], lower_slope[where])
    return tidy(matrix), constant, magnitude


def _dense(coefficients: Coefficients) -> np.ndarray:
    return coefficients if isinstance(coefficients, np.ndarray) else coefficients.toarray()
