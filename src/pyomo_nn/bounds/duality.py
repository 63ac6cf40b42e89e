"""Certified LP bounds by weak duality.

For ``min c.x`` subject to rows ``L <= A x <= U`` and columns ``l <= x <= u``, *any* row
multipliers ``y`` give the lower bound

    min c.x  >=  sum_i (y_i L_i if y_i > 0 else y_i U_i) + sum_j min(r_j l_j, r_j u_j),
    r = c - A^T y,

provided every column is bounded (multipliers that would need an infinite row side are set
to 0). So a solver's duals prove a bound whatever its tolerances: an inaccurate ``y`` only
weakens it. float64 rounding of the sums is covered by
:data:`~pyomo_nn.tolerances.LP_CERTIFICATE_ROUNDING`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from pyomo_nn.bounds.relaxation import LayerProblem
from pyomo_nn.tolerances import LP_CERTIFICATE_ROUNDING


class DualCertificate:
    """Weak-duality bounds for the rows and columns of one :class:`LayerProblem`."""

    def __init__(self, problem: LayerProblem) -> None:
        rows = problem.rows
        row_pointers = np.append(rows.starts, rows.values.size)  # HiGHS' starts omit the end
        self.matrix = scipy.sparse.csr_matrix(
            (rows.values, rows.indices, row_pointers), shape=(rows.lower.size, problem.column_lower.size)
        )
        self.absolute = abs(self.matrix)
        self.row_lower, self.row_upper = rows.lower, rows.upper
        # copies: fix_column changes them, never the problem's own arrays
        self.column_lower, self.column_upper = problem.column_lower.copy(), problem.column_upper.copy()
        self.columns_bounded = bool(
            np.all(np.isfinite(self.column_lower)) and np.all(np.isfinite(self.column_upper))
        )

    def fix_column(self, column: int, value: float) -> None:
        """Certify over the problem with ``column`` fixed at ``value`` from now on."""
        self.column_lower[column] = self.column_upper[column] = value

    def lower_bound(self, costs: np.ndarray, duals: np.ndarray) -> float:
        """A lower bound of ``min costs.x`` over the LP, valid for any ``duals`` (-inf when a
        column is unbounded)."""
        if not self.columns_bounded:
            return -np.inf
        duals = np.where(
            ((duals > 0) & ~np.isfinite(self.row_lower)) | ((duals < 0) & ~np.isfinite(self.row_upper)),
            0.0,
            duals,
        )
        row_side = np.where(duals > 0, self.row_lower, np.where(duals < 0, self.row_upper, 0.0))
        row_terms = duals * np.where(np.isfinite(row_side), row_side, 0.0)
        reduced = costs - self.matrix.T @ duals
        column_terms = reduced * np.where(reduced > 0, self.column_lower, self.column_upper)
        magnitude = np.abs(costs) + self.absolute.T @ np.abs(duals)
        widest = np.maximum(np.abs(self.column_lower), np.abs(self.column_upper))
        scale = np.abs(row_terms).sum() + (magnitude * widest).sum()
        count = self.matrix.nnz + duals.size + costs.size
        return float(row_terms.sum() + column_terms.sum() - LP_CERTIFICATE_ROUNDING * count * scale)

    def bound(self, costs: np.ndarray, duals: np.ndarray, maximise: bool) -> float:
        """A valid lower (or, ``maximise``, upper) bound of ``costs.x`` from ``duals``, whatever
        their sign convention: both signs are tried, each is valid, the better one is kept."""
        if maximise:
            return -max(self.lower_bound(-costs, duals), self.lower_bound(-costs, -duals))
        return max(self.lower_bound(costs, duals), self.lower_bound(costs, -duals))
