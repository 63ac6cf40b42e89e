"""``solve()``: run a solver on a model holding network blocks and return a checked Result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyomo.environ as pyo

from pyomo_nn.blocks import NetworkBlock
from pyomo_nn.errors import InfeasibleModelError, SolverFailedError
from pyomo_nn.result import Result, recheck
from pyomo_nn.solve.backends import run_solver
from pyomo_nn.solve.config import DEFAULT_TIME_LIMIT, SolverConfig


def solve(
    model: pyo.ConcreteModel,
    solver: str | SolverConfig = "highs",
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    mip_gap: float | None = None,
    threads: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> Result:
    """Solve ``model`` and re-check every NetworkBlock in it at the solution found.

    Before solving, each block is warm-started (:meth:`NetworkBlock.warm_start`) so that
    solvers taking a MIP start begin with a feasible point of every network.

    ``solver`` is a Pyomo solver name or a full :class:`SolverConfig` (then the keyword
    settings are ignored in its favour). When the time limit is reached the result holds
    the incumbent (if any) and the dual bound, with status ``time_limit``. Raises
    :class:`InfeasibleModelError` if the solver proves the model infeasible and
    :class:`SolverFailedError` if it fails without a solution.
    """
    config = (
        solver
        if isinstance(solver, SolverConfig)
        else SolverConfig(
            name=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads, options=options or {}
        )
    )
    network_blocks = [
        block
        for block in model.component_objects(pyo.Block, descend_into=True)
        if isinstance(block, NetworkBlock)
    ]
    for block in network_blocks:
        block.warm_start()
    outcome = run_solver(model, config)
    blocks = {}
    if outcome.has_solution:
        for block in network_blocks:
            blocks[block.name] = recheck(
                block.name, block.network, block.input_values(), block.output_values()
            )
    result = Result(
        status=outcome.status,
        solver=config.name,
        objective=outcome.objective,
        dual_bound=outcome.dual_bound,
        wall_time=outcome.wall_time,
        message=outcome.message,
        blocks=blocks,
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
