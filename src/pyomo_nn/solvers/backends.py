"""Run one Pyomo solver and report what it found in one solver-independent shape.

Three kinds of interface are used. HiGHS goes through highspy directly
(:mod:`pyomo_nn.solvers.highs_adapter`), which passes the model's current values as a MIP
start, so a time-limited solve always has an incumbent (see ``NetworkBlock.warm_start``);
classic solvers get no MIP start because CBC misreads those of maximisation problems. The
``pyomo.contrib.solver`` solvers (Gurobi, SCIP direct, ...) report incumbent and dual bound
directly; the classic ``SolverFactory`` solvers (CBC, GLPK, CPLEX, ...) report them in
``results.problem``. Each adapter maps its interface's report onto :class:`SolveOutcome` and
translates the common settings (time limit, gap, threads) into the solver's own option names.
"""

from __future__ import annotations

import importlib.util
import math
import time
from contextlib import nullcontext
from typing import Any

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory as ContribSolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.opt import SolverFactory as ClassicSolverFactory
from pyomo.opt import TerminationCondition as ClassicTermination

from pyomo_nn.errors import SolverConfigError, SolverUnavailableError
from pyomo_nn.solvers.config import SolverConfig
from pyomo_nn.solvers.highs_adapter import run_highs
from pyomo_nn.solvers.ipopt_adapter import CYIPOPT_NAMES, run_cyipopt
from pyomo_nn.solvers.outcome import SolveOutcome, finite
from pyomo_nn.solvers.scip_ranges import PYSCIPOPT_SOLVERS, ranges_read_correctly_by_scip
from pyomo_nn.tolerances import DUAL_BOUND_CONSISTENCY_ABS, DUAL_BOUND_CONSISTENCY_REL

#: SCIP completes a partial start (binaries only) only if at most this share of variables is
#: unknown (default 0.85); the binaries of a network model are fewer, so it is raised to 1.
SCIP_PARTIAL_START_OPTION = "heuristics/completesol/maxunknownrate"

#: SCIP's log level under Pyomo's ``scip_direct``/``scip_persistent``. Those write SCIP's log
#: into a pipe that a Pyomo thread empties, but PySCIPOpt holds the GIL while SCIP runs, so
#: a log longer than the pipe's buffer blocks SCIP for good, past any time limit (MaxDiff
#: over probabilities hung this way). At level 0 SCIP writes nothing; a caller's display
#: options are refused (the AMPL interface, solver "scip", shows SCIP's log safely).
SCIP_LOG_LEVEL_OPTION = "display/verblevel"

#: Names that select HiGHS (through highspy, which warm-starts).
HIGHS_NAMES = ("highs", "appsi_highs")

#: Option names of the classic interface's solvers for (time limit, relative gap, threads).
CLASSIC_OPTION_NAMES: dict[str, tuple[str, str, str | None]] = {
    "cbc": ("sec", "ratio", "threads"),
    "glpk": ("tmlim", "mipgap", None),
    "cplex": ("timelimit", "mipgap", "threads"),
    "cplex_direct": ("timelimit", "mip_tolerances_mipgap", "threads"),
    "gurobi": ("TimeLimit", "MIPGap", "Threads"),
    "scip": ("limits/time", "limits/gap", "parallel/maxnthreads"),
    "xpress": ("maxtime", "miprelstop", "threads"),
    "ipopt": ("max_cpu_time", None, None),
}

#: CBC's integer preprocessing (CglPreProcess) returns points violating equality rows of a
#: model with SOS1 constraints (found on the contract test's networks: rows off by 0.1, with
#: status optimal); with SOS constraints in the model it is switched off unless set.
CBC_SOS_OPTIONS = {"preprocess": "off"}

#: Classic options whose solver takes whole numbers only (glpsol refuses ``--tmlim 60.0``): a
#: time limit is rounded up to whole seconds, so the solve never stops earlier than asked.
WHOLE_NUMBER_OPTIONS = {("glpk", "tmlim")}

#: Solvers probed when listing what this machine has, in the error for a missing solver.
KNOWN_CANDIDATES = (
    "highs",
    "cbc",
    "glpk",
    "scip",
    "scip_direct",
    "gurobi",
    "gurobi_direct",
    "cplex",
    "cplex_direct",
    "xpress",
    "cyipopt",
)


def available_solvers() -> list[str]:
    """Names from :data:`KNOWN_CANDIDATES` that work on this machine."""
    return [name for name in KNOWN_CANDIDATES if _is_available(name)]


def run_solver(model: pyo.ConcreteModel, config: SolverConfig) -> SolveOutcome:
    """Solve ``model`` with ``config``; load the incumbent into the model if there is one."""
    name = config.name
    _check_available(name)
    if name in HIGHS_NAMES:
        return run_highs(model, config)
    if name in CYIPOPT_NAMES:
        return run_cyipopt(model, config)
    if name in ContribSolverFactory:
        return _run_contrib(model, name, config)
    return _run_classic(model, name, config)


def _is_available(name: str) -> bool | None:
    """True/False for a solver Pyomo knows; None for a name Pyomo has never heard of."""
    try:
        if name in HIGHS_NAMES:
            return True
        if name in CYIPOPT_NAMES:
            return importlib.util.find_spec("cyipopt") is not None
        if name in ContribSolverFactory:
            return bool(ContribSolverFactory(name).available())
        if name in ClassicSolverFactory:
            return bool(ClassicSolverFactory(name).available(exception_flag=False))
    except Exception:  # some plugins raise instead of answering False
        return False
    return None


def _check_available(name: str) -> None:
    available = _is_available(name)
    if available is None:
        raise SolverUnavailableError(
            f"Pyomo knows no solver called {name!r}. Solvers available here: "
            f"{', '.join(available_solvers()) or 'none'}; see Pyomo's SolverFactory for all names"
        )
    if not available:
        raise SolverUnavailableError(
            f"solver {name!r} is not installed or not licensed on this machine. Solvers "
            f"available here: {', '.join(available_solvers()) or 'none'}. Install it (e.g. "
            "'apt-get install coinor-cbc' or 'pip install pyscipopt') or choose another solver"
        )


def _run_contrib(model: pyo.ConcreteModel, name: str, config: SolverConfig) -> SolveOutcome:
    solver = ContribSolverFactory(name)
    settings: dict[str, Any] = {
        "load_solutions": False,
        "raise_exception_on_nonoptimal_result": False,
        "solver_options": dict(config.options),
    }
    if config.time_limit is not None:
        settings["time_limit"] = config.time_limit
    if config.mip_gap is not None:
        settings["rel_gap"] = config.mip_gap
    if config.threads is not None:
        settings["threads"] = config.threads
    if name in PYSCIPOPT_SOLVERS:
        _silence_scip(settings["solver_options"])
    if name in PYSCIPOPT_SOLVERS and _all_discrete_values_set(model):
        settings["warmstart_discrete_vars"] = True
        settings["solver_options"].setdefault(SCIP_PARTIAL_START_OPTION, 1.0)
    start = time.perf_counter()
    rewrite = ranges_read_correctly_by_scip(model) if name in PYSCIPOPT_SOLVERS else nullcontext()
    try:
        with rewrite:
            results = solver.solve(model, **settings)
    except Exception as error:
        return SolveOutcome(
            "error", False, None, None, time.perf_counter() - start, f"{type(error).__name__}: {error}"
        )
    wall = time.perf_counter() - start
    has_solution = results.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    if has_solution:
        results.solution_loader.load_vars()
    status = {
        TerminationCondition.convergenceCriteriaSatisfied: "optimal",
        TerminationCondition.maxTimeLimit: "time_limit",
        TerminationCondition.iterationLimit: "other_limit",
        TerminationCondition.objectiveLimit: "other_limit",
        TerminationCondition.interrupted: "other_limit",
        TerminationCondition.provenInfeasible: "infeasible",
        TerminationCondition.locallyInfeasible: "infeasible",
        TerminationCondition.infeasibleOrUnbounded: "infeasible",
        TerminationCondition.unbounded: "unbounded",
    }.get(results.termination_condition, "error")
    return SolveOutcome(
        status=status,
        has_solution=has_solution,
        objective=finite(results.incumbent_objective) if has_solution else None,
        dual_bound=finite(results.objective_bound),
        wall_time=wall,
        message=str(results.termination_condition.name),
    )


def _run_classic(model: pyo.ConcreteModel, name: str, config: SolverConfig) -> SolveOutcome:
    solver = ClassicSolverFactory(name)
    options = dict(config.options)
    limit_name, gap_name, threads_name = CLASSIC_OPTION_NAMES.get(name, (None, None, None))
    for value, option, label in (
        (config.time_limit, limit_name, "time_limit"),
        (config.mip_gap, gap_name, "mip_gap"),
        (config.threads, threads_name, "threads"),
    ):
        if value is None:
            continue
        if option is None:
            raise SolverConfigError(
                f"pyomo-nn does not know how to pass {label} to solver {name!r}; "
                f"set it through options with the solver's own option name"
            )
        options.setdefault(option, math.ceil(value) if (name, option) in WHOLE_NUMBER_OPTIONS else value)
    if name == "cbc" and _has_sos(model):
        for option, value in CBC_SOS_OPTIONS.items():
            options.setdefault(option, value)
    start = time.perf_counter()
    try:
        results = solver.solve(model, load_solutions=False, options=options)
    except Exception as error:
        return SolveOutcome(
            "error", False, None, None, time.perf_counter() - start, f"{type(error).__name__}: {error}"
        )
    wall = time.perf_counter() - start
    condition = results.solver.termination_condition
    has_solution = len(results.solution) > 0
    if has_solution:
        model.solutions.load_from(results)
    status = {
        ClassicTermination.optimal: "optimal",
        ClassicTermination.globallyOptimal: "optimal",
        ClassicTermination.maxTimeLimit: "time_limit",
        ClassicTermination.maxIterations: "other_limit",
        ClassicTermination.maxEvaluations: "other_limit",
        ClassicTermination.userInterrupt: "other_limit",
        ClassicTermination.infeasible: "infeasible",
        ClassicTermination.infeasibleOrUnbounded: "infeasible",
        ClassicTermination.unbounded: "unbounded",
    }.get(condition, "error")
    objective = _active_objective(model)
    minimise = objective.sense == pyo.minimize
    primal = results.problem.upper_bound if minimise else results.problem.lower_bound
    dual = results.problem.lower_bound if minimise else results.problem.upper_bound
    incumbent = finite(pyo.value(objective)) if has_solution else None
    dual = finite(dual)
    message = str(condition)
    if status == "optimal" and dual is None:
        dual = incumbent
    if incumbent is not None and dual is not None:
        dual, note = _consistent_dual_bound(dual, incumbent, minimise)
        message += note
    return SolveOutcome(
        status=status,
        has_solution=has_solution,
        objective=incumbent if incumbent is not None else (finite(primal) if has_solution else None),
        dual_bound=dual,
        wall_time=wall,
        message=message,
    )


def _silence_scip(options: dict[str, Any]) -> None:
    """Set SCIP's log level to 0; refuse any setting that makes SCIP write (see SCIP_LOG_LEVEL_OPTION)."""
    options.setdefault(SCIP_LOG_LEVEL_OPTION, 0)
    noisy = {
        name: value
        for name, value in options.items()
        if name.startswith("display/") and not (name == SCIP_LOG_LEVEL_OPTION and value == 0)
    }
    if noisy:
        raise SolverConfigError(
            f"SCIP display options {noisy}: SCIP's log cannot be shown through Pyomo's "
            "scip_direct/scip_persistent (PySCIPOpt holds the GIL while the log fills Pyomo's "
            "capture pipe, and the solve hangs past its time limit). Leave the display options "
            "out, or use solver='scip' (the SCIP executable) to see the log"
        )


def _consistent_dual_bound(dual: float, incumbent: float, minimise: bool) -> tuple[float | None, str]:
    """A classic solver's dual bound checked against its incumbent: a bound past the incumbent
    by more than the tolerance is impossible (CBC reports the bound of a stopped maximisation
    with the wrong sign) and is dropped with a note; one past it by rounding only (CBC:
    1.15947613 against 1.1594762 at optimality) is the incumbent's value."""
    excess = (dual - incumbent) if minimise else (incumbent - dual)
    if excess <= 0:
        return dual, ""
    if excess <= DUAL_BOUND_CONSISTENCY_ABS + DUAL_BOUND_CONSISTENCY_REL * abs(incumbent):
        return incumbent, ""
    return None, f" (bound {dual:.9g} contradicts the incumbent {incumbent:.9g} and was discarded)"


def _all_discrete_values_set(model: pyo.ConcreteModel) -> bool:
    """True when every integer variable has a value: SCIP then gets them as a partial start
    (as HiGHS gets its full MIP start) and completes the continuous part itself."""
    return all(
        var.value is not None
        for var in model.component_data_objects(pyo.Var, active=True, descend_into=True)
        if var.is_integer() and not var.fixed
    )


def _has_sos(model: pyo.ConcreteModel) -> bool:
    return (
        next(model.component_data_objects(pyo.SOSConstraint, active=True, descend_into=True), None)
        is not None
    )


def _active_objective(model: pyo.ConcreteModel) -> pyo.Objective:
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1:
        raise SolverConfigError(f"the model needs exactly one active objective, it has {len(objectives)}")
    return objectives[0]
