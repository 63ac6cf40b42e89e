"""Solver backends for bound tightening: load one layer's problem once, then re-optimise
it per neuron, changing only the objective (warm-started from the previous basis).

A backend answers ``bound(neuron, maximise, time_limit)`` with a *valid* bound or None:
for a MILP stopped early that is the solver's dual bound, never its incumbent.
"""

from __future__ import annotations

from typing import Protocol

import highspy
import numpy as np

from pyomo_nn.bounds.relaxation import LayerProblem


class TighteningBackend(Protocol):
    """What the tightening loop needs from a solver."""

    def __init__(self, problem: LayerProblem) -> None: ...

    def bound(self, neuron: int, maximise: bool, time_limit: float | None) -> float | None:
        """Valid upper (``maximise``) or lower bound of the neuron's pre-activation, or None."""
        ...


class HighsBackend:
    """HiGHS through highspy: the problem is passed once, costs change per neuron."""

    def __init__(self, problem: LayerProblem) -> None:
        self.problem = problem
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        self.integer = problem.integer_columns.size > 0
        if self.integer:
            self.highs.setOptionValue("mip_rel_gap", 0.0)
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
        self.highs.run()
        status = self.highs.getModelStatus()
        info = self.highs.getInfo()
        offset = float(problem.objective_offsets[neuron])
        if self.integer:
            if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
                return None
            value = info.mip_dual_bound
        else:
            if status != highspy.HighsModelStatus.kOptimal:
                return None
            value = info.objective_function_value
        if not np.isfinite(value) or abs(value) >= highspy.kHighsInf:
            return None
        return float(value) + offset
