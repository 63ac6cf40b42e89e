"""HiGHS through highspy directly: the model is compiled to matrices by Pyomo's public
standard-form compiler and passed to HiGHS in one call.

Why not a Pyomo HiGHS interface: ``pyomo.contrib.appsi`` is superseded, and the HiGHS of
``pyomo.contrib.solver`` (Pyomo 6.10) takes no MIP start, which keeps every time-limited
solve of a network model with an incumbent (see ``NetworkBlock.warm_start``). Talking to
highspy also keeps its output off Pyomo's capture pipe and lets the thread scheduler be
managed (:mod:`pyomo_nn.highs_instance`).
"""

from __future__ import annotations

import math
import time
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException, InvalidConstraintError
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from pyomo_nn.errors import SolverCapabilityError, SolverConfigError
from pyomo_nn.highs_instance import new_highs, scheduler_for
from pyomo_nn.solvers.config import SolverConfig
from pyomo_nn.solvers.outcome import SolveOutcome, finite
from pyomo_nn.tolerances import HIGHS_FEASIBILITY_TOLERANCE, HIGHS_PRESOLVE

#: HiGHS options pyomo-nn sets unless the caller sets them: see HIGHS_FEASIBILITY_TOLERANCE and
#: HIGHS_PRESOLVE. A caller's options override them.
HIGHS_DEFAULT_OPTIONS = {
    "primal_feasibility_tolerance": HIGHS_FEASIBILITY_TOLERANCE,
    "mip_feasibility_tolerance": HIGHS_FEASIBILITY_TOLERANCE,
    "presolve": HIGHS_PRESOLVE,
}

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kIterationLimit: "other_limit",
    highspy.HighsModelStatus.kSolutionLimit: "other_limit",
    highspy.HighsModelStatus.kObjectiveBound: "other_limit",
    highspy.HighsModelStatus.kObjectiveTarget: "other_limit",
    highspy.HighsModelStatus.kInterrupt: "other_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
}

#: HiGHS' ``primal_solution_status`` value for a feasible point.
_FEASIBLE_POINT = 2


#: HiGHS options added when ``pnn.solve`` started from a gradient search's point (a near-optimal
#: incumbent): RINS and RENS sub-MIPs then cost more than they find. Measured on the six digits
#: instances of benchmarks/defaults_vs_omlt.py with the search's start: HiGHS 0.12-0.50 s with
#: them off against 0.5-2.5 s with them on, the same node counts (1-3) and optima. From the box
#: centre instead they pay on some instances (64-50-50-50-10, eps 0.1: 533 nodes without, 10 with).
HIGHS_OPTIONS_AFTER_SEARCH = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}


def run_highs(model: pyo.Block, config: SolverConfig) -> SolveOutcome:
    """Solve ``model`` with HiGHS; load the incumbent into the model if there is one."""
    start = time.perf_counter()
    form = _compile(model)
    highs = new_highs()
    options = _set_options(highs, config)
    columns = form.columns
    integer = np.array([var.is_integer() for var in columns], dtype=bool)
    _pass_model(highs, form, integer)
    _pass_start(highs, columns, integer)
    with scheduler_for(options.get("threads")):
        highs.run()
    wall = time.perf_counter() - start
    status = _STATUS.get(highs.getModelStatus(), "error")
    info = highs.getInfo()
    has_solution = info.primal_solution_status == _FEASIBLE_POINT
    offset = float(form.c_offset[0]) if form.c_offset.size else 0.0
    if has_solution:
        for var, value in zip(columns, highs.getSolution().col_value, strict=True):
            var.set_value(float(value), skip_validation=True)
    objective = finite(info.objective_function_value) if has_solution else None
    lp_bound = objective if status == "optimal" else None
    dual = finite(info.mip_dual_bound) if integer.any() else lp_bound
    return SolveOutcome(
        status=status,
        has_solution=has_solution,
        objective=None if objective is None else objective + offset,
        dual_bound=None if dual is None else dual + offset,
        wall_time=wall,
        message=highs.modelStatusToString(highs.getModelStatus()),
    )


def _compile(model: pyo.Block) -> object:
    try:
        return LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    except InvalidConstraintError as error:
        raise SolverCapabilityError(
            f"HiGHS solves linear models only and this model is not: {error}. Choose a solver "
            "for nonlinear models, e.g. solver='scip_direct'"
        ) from error
    except InfeasibleConstraintException as error:
        raise SolverCapabilityError(f"the model cannot be passed to HiGHS: {error}") from error


def _set_options(highs: highspy.Highs, config: SolverConfig) -> dict[str, Any]:
    """Apply the common settings and the caller's options (an unknown option is an error);
    returns them all, ``threads`` included however it was given (the scheduler needs it)."""
    options = {**HIGHS_DEFAULT_OPTIONS, **config.options}
    if config.time_limit is not None:
        options.setdefault("time_limit", float(config.time_limit))
    if config.mip_gap is not None:
        options.setdefault("mip_rel_gap", float(config.mip_gap))
    if config.threads is not None:
        options.setdefault("threads", int(config.threads))
    for name, value in options.items():
        if highs.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise SolverConfigError(
                f"HiGHS refused option {name}={value!r}: the name is unknown or the value out of "
                "range (HiGHS' option list: https://ergo-code.github.io/HiGHS/dev/options/definitions/)"
            )
    return options


def _pass_model(highs: highspy.Highs, form: object, integer: np.ndarray) -> None:
    """Columns with their bounds and integrality, rows in mixed form, objective and sense."""
    columns = form.columns
    lower = np.array([-math.inf if v.lb is None else v.lb for v in columns], dtype=np.float64)
    upper = np.array([math.inf if v.ub is None else v.ub for v in columns], dtype=np.float64)
    inf = highspy.kHighsInf
    highs.addVars(len(columns), np.maximum(lower, -inf), np.minimum(upper, inf))
    if integer.any():
        indices = np.flatnonzero(integer).astype(np.int32)
        kinds = np.full(indices.size, highspy.HighsVarType.kInteger)
        highs.changeColsIntegrality(indices.size, indices, kinds)
    rows = form.A.tocsr()
    rhs = np.asarray(form.rhs, dtype=np.float64)
    kinds = np.array([row.bound_type for row in form.rows], dtype=np.int8)
    if kinds.size:
        row_lower = np.where(kinds <= 0, rhs, -inf)
        row_upper = np.where(kinds >= 0, rhs, inf)
        highs.addRows(
            kinds.size,
            row_lower,
            row_upper,
            rows.nnz,
            rows.indptr.astype(np.int32),
            rows.indices.astype(np.int32),
            rows.data.astype(np.float64),
        )
    if form.objectives:
        costs = form.c.toarray()[0]
        highs.changeColsCost(len(columns), np.arange(len(columns), dtype=np.int32), costs)
        maximise = form.objectives[0].sense == pyo.maximize
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)


def _pass_start(highs: highspy.Highs, columns: list, integer: np.ndarray) -> None:
    """The model's current values as a MIP start, when every integer column has one."""
    if not integer.any() or any(columns[j].value is None for j in np.flatnonzero(integer)):
        return
    solution = highspy.HighsSolution()
    solution.col_value = [0.0 if var.value is None else float(var.value) for var in columns]
    solution.value_valid = True
    highs.setSolution(solution)
