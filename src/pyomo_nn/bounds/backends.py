"""Solver backends for bound tightening: load one layer's problem once, then re-optimise
it per neuron, changing only the objective (warm-started from the previous basis).

A backend answers ``bound(neuron, maximise, time_limit)`` with a *valid* bound or None:
an LP bound is certified by weak duality from the solver's duals (so it holds whatever the
solver's tolerances, and even for an LP stopped by its time limit while its duals are
valid); a MILP's is its dual bound (never its incumbent) widened by the safety margin of
:mod:`pyomo_nn.tolerances`. None means the time limit left no bound; a solver that fails
raises :class:`~pyomo_nn.errors.SolverFailedError` instead, so a broken solver can never
pass for a loose bound.
"""

from __future__ import annotations

from typing import Protocol

import highspy
import numpy as np

from pyomo_nn.bounds.duality import DualCertificate
from pyomo_nn.bounds.relaxation import LayerProblem
from pyomo_nn.errors import SolverFailedError
from pyomo_nn.highs_instance import new_highs, scheduler_for
from pyomo_nn.tolerances import LP_BOUND_ABS, LP_BOUND_REL

#: HiGHS options for the LP relaxations. Without scaling, HiGHS re-optimised the layer-2
#: neurons of mnist-net_256x2 over the box [0, 1] in 0.079 s per LP (589 dual simplex
#: iterations) instead of 0.214 s (859): re-optimising after a cost change skips the
#: rescaling, and these rows (weights, Big-M slopes) are well scaled already. Soundness
#: does not depend on it: the bound is certified from the duals.
LP_OPTIONS = {"simplex_scale_strategy": 0}


#: HiGHS model statuses that mean the run failed (not a limit, not an answer).
FAILED_STATUSES = (
    highspy.HighsModelStatus.kNotset,
    highspy.HighsModelStatus.kLoadError,
    highspy.HighsModelStatus.kModelError,
    highspy.HighsModelStatus.kPresolveError,
    highspy.HighsModelStatus.kSolveError,
    highspy.HighsModelStatus.kPostsolveError,
    highspy.HighsModelStatus.kMemoryLimit,
)


class TighteningBackend(Protocol):
    """What the tightening loop needs from a solver."""

    def __init__(self, problem: LayerProblem) -> None: ...

    def bound(self, neuron: int, maximise: bool, time_limit: float | None) -> float | None:
        """Valid upper (``maximise``) or lower bound of the neuron's pre-activation, or None."""
        ...


#: HiGHS' simplex strategy "primal". After a cost change the previous basis stays primal
#: feasible, so primal simplex continues from it. The objective cut-off's LPs (the whole network
#: plus the cut-off row) re-solve faster so: its LPs on the six digits instances of
#: benchmarks/defaults_vs_omlt.py took 0.05-0.27 s against 0.09-0.29 s (the two smallest
#: equal). OBBT's layer problems do not: ``method="lp"`` took 5.3-6.0 s against 3.4 s on
#: mnist-net_256x2 and 2.0 s against 1.9 s on the digits CNN, so only the cut-off uses it.
PRIMAL_SIMPLEX = 4


class HighsBackend:
    """HiGHS through highspy: the problem is passed once, costs change per neuron. ``threads``
    is the HiGHS thread count of the caller's solve (None: any), for the process's scheduler."""

    def __init__(self, problem: LayerProblem, threads: int | None = None) -> None:
        self.problem = problem
        self.threads = threads
        self.highs = new_highs()
        if threads is not None:
            self.highs.setOptionValue("threads", int(threads))
        self.integer = problem.integer_columns.size > 0
        if self.integer:
            self.highs.setOptionValue("mip_rel_gap", 0.0)
        else:
            for option, value in LP_OPTIONS.items():
                self.highs.setOptionValue(option, value)
            self.certificate = DualCertificate(problem)
        lower = np.where(np.isfinite(problem.column_lower), problem.column_lower, -highspy.kHighsInf)
        upper = np.where(np.isfinite(problem.column_upper), problem.column_upper, highspy.kHighsInf)
        self.highs.addVars(lower.size, lower, upper)
        rows = problem.rows
        if rows.lower.size:
            self.highs.addRows(
                rows.lower.size,
                np.where(np.isfinite(rows.lower), rows.lower, -highspy.kHighsInf),
                np.where(np.isfinite(rows.upper), rows.upper, highspy.kHighsInf),
                rows.values.size,
                rows.starts,
                rows.indices,
                rows.values,
            )
        if self.integer:
            kinds = np.full(problem.integer_columns.size, highspy.HighsVarType.kInteger)
            self.highs.changeColsIntegrality(problem.integer_columns.size, problem.integer_columns, kinds)
        self.previous_neuron: int | None = None

    def bound(self, neuron: int, maximise: bool, time_limit: float | None) -> float | None:
        self.optimise(neuron, maximise, time_limit)
        return self.proved_bound(neuron, maximise)

    def optimise(self, neuron: int, maximise: bool, time_limit: float | None) -> None:
        """Maximise (or minimise) the neuron's pre-activation from the previous basis; raises
        SolverFailedError when HiGHS fails."""
        problem = self.problem
        if self.previous_neuron != neuron:
            if self.previous_neuron is not None:
                columns, _ = problem.objective.row(self.previous_neuron)
                self.highs.changeColsCost(columns.size, columns.astype(np.int32), np.zeros(columns.size))
            columns, costs = problem.objective.row(neuron)
            self.highs.changeColsCost(columns.size, columns.astype(np.int32), costs)
            self.previous_neuron = neuron
        self.highs.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        )
        self.highs.setOptionValue("time_limit", float(time_limit) if time_limit else highspy.kHighsInf)
        with scheduler_for(self.threads):
            run_status = self.highs.run()
        model_status = self.highs.getModelStatus()
        if run_status == highspy.HighsStatus.kError or model_status in FAILED_STATUSES:
            raise SolverFailedError(
                f"HiGHS failed while bounding neuron {neuron} "
                f"({self.highs.modelStatusToString(model_status)}); no bound was computed. "
                "Report this with the network, or use method='alpha' or 'symbolic' meanwhile",
                None,
            )

    def proved_bound(self, neuron: int, maximise: bool) -> float | None:
        """The valid bound the last :meth:`optimise` of ``neuron`` proves, or None."""
        value = self._milp_bound(maximise) if self.integer else self._certified_lp_bound(neuron, maximise)
        if value is None or not np.isfinite(value) or abs(value) >= highspy.kHighsInf:
            return None
        return value + float(self.problem.objective_offsets[neuron])

    def resolve_with_primal_simplex(self) -> None:
        """From now on re-solve with primal simplex (for cost changes on a solved problem)."""
        self.highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)

    def optimum(self, neuron: int) -> float | None:
        """The last LP's optimum as HiGHS reports it (not certified: a guide to whether
        :meth:`proved_bound` is worth computing), None unless it ended optimal."""
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return float(self.highs.getInfo().objective_function_value) + float(
            self.problem.objective_offsets[neuron]
        )

    def primal_values(self) -> np.ndarray:
        """The last solve's column values."""
        return np.asarray(self.highs.getSolution().col_value, dtype=np.float64)

    def fix_column(self, column: int, value: float) -> None:
        """Fix a column of the loaded problem (e.g. a neuron's phase once it is decided); the
        certificates of later bounds use the fixed value too."""
        self.highs.changeColBounds(int(column), float(value), float(value))
        if not self.integer:
            self.certificate.fix_column(int(column), float(value))

    def _milp_bound(self, maximise: bool) -> float | None:
        """The MILP's dual bound, widened by the safety margin."""
        status = self.highs.getModelStatus()
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
            return None
        value = float(self.highs.getInfo().mip_dual_bound)
        margin = LP_BOUND_ABS + LP_BOUND_REL * abs(value)
        return value + margin if maximise else value - margin

    def _certified_lp_bound(self, neuron: int, maximise: bool) -> float | None:
        """The weak-duality bound of the LP from HiGHS' duals (None without valid duals)."""
        solution = self.highs.getSolution()
        if not solution.dual_valid:
            return None
        columns, values = self.problem.objective.row(neuron)
        costs = np.zeros(self.problem.column_lower.size)
        costs[columns] = values
        return self.certificate.bound(costs, np.asarray(solution.row_dual, dtype=np.float64), maximise)
