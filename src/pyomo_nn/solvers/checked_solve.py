"""``solve()``: run a solver on a model holding network blocks and return a checked Result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pyomo.environ as pyo

from pyomo_nn.blocks.network_block import network_blocks
from pyomo_nn.errors import InfeasibleModelError, SolverConfigError, SolverFailedError
from pyomo_nn.result import Result, recheck
from pyomo_nn.solvers.backends import run_solver
from pyomo_nn.solvers.capabilities import check_solver_takes, is_local
from pyomo_nn.solvers.config import DEFAULT_TIME_LIMIT, SolverConfig
from pyomo_nn.solvers.gradient_start import config_after_search
from pyomo_nn.solvers.gradient_start import search_start as search_start_of
from pyomo_nn.solvers.objective_cutoff import config_after_cutoff, decided_phases_fixed
from pyomo_nn.solvers.outcome import SolveOutcome

#: Name of the constant objective a feasibility solve adds for the solver's sake.
FEASIBILITY_OBJECTIVE = "_pyomo_nn_feasibility_objective"

#: Appended to the message of a local NLP solver's result on nonlinear network rows (its dual
#: bound is dropped: it proves none).
LOCAL_OPTIMUM = "local optimum, no bound proved"


def solve(
    model: pyo.ConcreteModel,
    solver: str | SolverConfig = "highs",
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    mip_gap: float | None = None,
    threads: int | None = None,
    options: Mapping[str, Any] | None = None,
    search_start: bool = True,
    objective_cutoff: bool = True,
) -> Result:
    """Solve ``model`` and re-check every NetworkBlock in it at the solution found.

    Before solving, each block is warm-started (:meth:`NetworkBlock.warm_start`) so that
    solvers taking a MIP start begin with a feasible point of every network; blocks that read
    another block's outputs are started after it, from its values. With ``search_start``
    (the default), a model whose objective is linear in network outputs over inputs without
    values starts from the best input of a short gradient search on the objective
    (:mod:`~pyomo_nn.solvers.gradient_start`, reported in ``Result.start``), and HiGHS then
    runs without its RINS/RENS sub-MIPs (``HIGHS_OPTIONS_AFTER_SEARCH``; options you pass win);
    the search's seconds count against the time limit. With ``objective_cutoff`` (the
    default), the split neurons whose phase is the same at every input at least as good as
    that start are then found by LPs over the network's relaxation and their binaries fixed
    for the solve (:mod:`~pyomo_nn.solvers.objective_cutoff`; where it applies: one network
    block in the objective, a start that satisfies the whole model, at most 50,000 weights),
    and released after it; ``Result.cutoff`` says what it decided. It keeps the optimum and the
    dual bound.

    ``solver`` is a Pyomo solver name or a full :class:`SolverConfig` (then passing keyword
    settings too is an error: one of the two would be silently ignored). A model with no
    active objective gets a feasibility solve: any point of the model, with status
    ``optimal`` and objective 0. When the time limit is reached the result holds
    the incumbent (if any) and the dual bound, with status ``time_limit``. Raises
    :class:`InfeasibleModelError` if the solver proves the model infeasible and
    :class:`SolverFailedError` if it fails without a solution.
    """
    config = _config(solver, time_limit, mip_gap, threads, options)
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) > 1:
        raise SolverConfigError(
            f"the model has {len(objectives)} active objectives ({', '.join(o.name for o in objectives[:3])}"
            "...); a solver takes one: deactivate the others or combine them into one expression"
        )
    blocks = network_blocks(model)  # upstream first: chained blocks start from consistent values
    check_solver_takes(blocks, config.name)
    searched = search_start_of(model, blocks, config.time_limit) if search_start and objectives else None
    start = None if searched is None else searched.summary
    if start is not None:
        config = config_after_search(config, start)
    for block in blocks:
        block.warm_start()
    with decided_phases_fixed(model, searched if objective_cutoff else None, config) as decided:
        if decided is not None:
            config = config_after_cutoff(config, decided)
        outcome = run_solver(model, config) if objectives else _feasibility_solve(model, config)
    if is_local(blocks, config.name):
        outcome = replace(outcome, dual_bound=None, message=f"{outcome.message}; {LOCAL_OPTIMUM}")
    checks = {}
    if outcome.has_solution:
        for block in blocks:
            checks[block.name] = recheck(
                block.name, block.network, block.input_values(), block.output_values()
            )
    result = Result(
        status=outcome.status,
        solver=config.name,
        objective=outcome.objective,
        dual_bound=outcome.dual_bound,
        wall_time=outcome.wall_time + sum(part.seconds for part in (start, decided) if part is not None),
        message=outcome.message,
        blocks=checks,
        start="" if start is None else str(start),
        cutoff="" if decided is None else str(decided),
    )
    if outcome.status == "infeasible":
        raise InfeasibleModelError(
            f"{config.name} proved the model infeasible: no input of the domain satisfies the "
            "constraints. Check the domain, any constraints you added, and that the bounds "
            "were computed for this domain",
            result,
        )
    if outcome.status == "error" and not outcome.has_solution:
        raise SolverFailedError(f"{config.name} failed without a solution: {outcome.message}", result)
    return result


def _config(
    solver: str | SolverConfig,
    time_limit: float | None,
    mip_gap: float | None,
    threads: int | None,
    options: Mapping[str, Any] | None,
) -> SolverConfig:
    """The one configuration of a solve: a SolverConfig as given, or one from the keywords."""
    if not isinstance(solver, SolverConfig):
        return SolverConfig(
            name=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads, options=options or {}
        )
    given = [
        name
        for name, value, default in (
            ("time_limit", time_limit, DEFAULT_TIME_LIMIT),
            ("mip_gap", mip_gap, None),
            ("threads", threads, None),
            ("options", options, None),
        )
        if value != default
    ]
    if given:
        raise SolverConfigError(
            f"solve() got a SolverConfig and the keyword setting(s) {given}: put them in the "
            "SolverConfig (dataclasses.replace(config, ...)) or pass the solver name instead"
        )
    return solver


def _feasibility_solve(model: pyo.Block, config: SolverConfig) -> SolveOutcome:
    """Solve with the constant objective 0 (every solver needs one), then remove it again."""
    model.add_component(FEASIBILITY_OBJECTIVE, pyo.Objective(expr=0.0))
    try:
        outcome = run_solver(model, config)
    finally:
        model.del_component(FEASIBILITY_OBJECTIVE)
    message = f"{outcome.message}; feasibility solve (the model has no objective)"
    return replace(outcome, message=message)
