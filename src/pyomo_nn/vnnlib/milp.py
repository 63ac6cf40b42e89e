"""One disjunct of a property as a MILP on a :class:`~pyomo_nn.NetworkBlock`, and a runner
that solves several of them in parallel processes, stopping early.

The MILP minimises the disjunct's violation ``max_r (C y + D x - rhs)_r`` over its box: a
value ``<= 0`` is a counterexample candidate, a proof that the minimum is ``>=`` the margin
refutes the disjunct. With HiGHS the margin is passed as an objective cutoff
(``objective_bound``): nodes whose relaxation cannot go below it are pruned at once, so a
refutation needs no incumbent, and the solve stops at the first solution below the cutoff
(``mip_max_improving_sols = 1``).
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks import NetworkBlock
from pyomo_nn.bounds import Bounds
from pyomo_nn.bounds.executors import worker_context
from pyomo_nn.errors import InfeasibleModelError, SolverFailedError
from pyomo_nn.ir import Network
from pyomo_nn.solvers import SolverConfig, solve
from pyomo_nn.solvers.backends import HIGHS_NAMES
from pyomo_nn.tolerances import HIGHS_FEASIBILITY_TOLERANCE, VNNLIB_MILP_MARGIN
from pyomo_nn.vnnlib.spec import Disjunct

#: Seconds Pyomo takes to hand a model to the solver before the solver's clock starts
#: (0.1-1 s for these models), taken off the time limit so that the deadline holds.
HANDOVER_SECONDS = 1.0

#: Seconds to wait for a stopped worker process to exit.
WORKER_GRACE_SECONDS = 5.0

#: HiGHS' sub-MIP heuristics (RINS, RENS) search for better solutions, which a refutation
#: under a cutoff does not need: on mnist_fc 256x2 they took 17 of a MILP's 21 seconds.
HIGHS_PROOF_OPTIONS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}

#: Verdicts of one MILP: a counterexample candidate (to be re-checked), a refutation, or neither.
VERDICTS = ("candidate", "refuted", "open")


@dataclass(frozen=True)
class MilpTask:
    """Everything a worker needs: picklable (the network travels without its ONNX source)."""

    disjunct_index: int
    disjunct: Disjunct
    network: Network
    bounds: Bounds
    time_limit: float
    start: np.ndarray | None
    solver: str = "highs"


@dataclass(frozen=True)
class MilpOutcome:
    """``verdict`` is one of :data:`VERDICTS`; ``x`` is the solver's input for a candidate."""

    disjunct_index: int
    verdict: str
    x: np.ndarray | None
    objective: float | None
    dual_bound: float | None
    seconds: float
    message: str
    timed_out: bool = False


def solve_disjunct(task: MilpTask) -> MilpOutcome:
    """Build and solve the MILP of one disjunct."""
    started = time.perf_counter()
    deadline = started + task.time_limit
    model = pyo.ConcreteModel()
    model.network = NetworkBlock(task.network, task.bounds)
    violation = _add_violation(model, task.disjunct)
    model.objective = pyo.Objective(expr=violation, sense=pyo.minimize)
    options: dict[str, float | int] = {}
    start_value = _warm_start(model, task)
    highs = task.solver in HIGHS_NAMES
    if highs:
        options = {
            "objective_bound": VNNLIB_MILP_MARGIN,
            "mip_rel_gap": 0.0,
            "dual_feasibility_tolerance": HIGHS_FEASIBILITY_TOLERANCE,
            **HIGHS_PROOF_OPTIONS,
        }
        if start_value is None or start_value >= VNNLIB_MILP_MARGIN:
            options["mip_max_improving_sols"] = 1
    time_limit = max(deadline - time.perf_counter() - HANDOVER_SECONDS, 0.1)
    config = SolverConfig(name=task.solver, time_limit=time_limit, threads=1, options=options)
    try:
        result = solve(model, config)
    except (InfeasibleModelError, SolverFailedError) as error:
        result = error.result
    objective, dual = result.objective, result.dual_bound
    x = model.network.input_values() if result.has_solution else None
    if highs:
        # Under the cutoff, an exhausted tree means no point below the margin exists.
        proved = result.status in ("optimal", "infeasible") and (
            objective is None or objective >= VNNLIB_MILP_MARGIN
        )
    else:
        proved = result.status != "error" and dual is not None and dual >= VNNLIB_MILP_MARGIN
    if objective is not None and objective <= 0.0:
        verdict = "candidate"
    elif proved:
        verdict = "refuted"
    else:
        verdict = "open"
    return MilpOutcome(
        task.disjunct_index,
        verdict,
        x,
        objective,
        dual,
        time.perf_counter() - started,
        f"{result.status} ({result.message})",
        timed_out=result.status == "time_limit",
    )


def _add_violation(model: pyo.ConcreteModel, disjunct: Disjunct) -> pyo.Expression:
    """The violation as an expression: the single row itself, or a variable above every row."""
    block = model.network
    rows = []
    for r in range(disjunct.num_rows):
        terms = [coef * block.outputs[k] for k, coef in enumerate(disjunct.output_coefs[r]) if coef != 0.0]
        terms += [coef * block.inputs[i] for i, coef in enumerate(disjunct.input_coefs[r]) if coef != 0.0]
        rows.append(sum(terms) - float(disjunct.rhs[r]))
    tighter = np.flatnonzero(
        (disjunct.input_lower > block.bounds.input_lower) | (disjunct.input_upper < block.bounds.input_upper)
    )
    for i in tighter:
        block.inputs[int(i)].setlb(float(disjunct.input_lower[i]))
        block.inputs[int(i)].setub(float(disjunct.input_upper[i]))
    if len(rows) == 1:
        return rows[0]
    model.worst_row = pyo.Var()
    model.above_rows = pyo.Constraint(range(len(rows)), rule=lambda m, r: m.worst_row >= rows[r])
    return model.worst_row


def _warm_start(model: pyo.ConcreteModel, task: MilpTask) -> float | None:
    """Give the model the values at the attack's best point; returns the violation there."""
    if task.start is None:
        return None
    x = np.clip(task.start, task.disjunct.input_lower, task.disjunct.input_upper)
    model.network.warm_start(x)
    value = float(task.disjunct.violation(x, task.network.forward(x))[0])
    if model.component("worst_row") is not None:
        model.worst_row.set_value(value)
    return value


def _worker(task: MilpTask, outcomes: multiprocessing.Queue) -> None:
    """Process entry point: solve one task and put its outcome on the queue."""
    try:
        outcome = solve_disjunct(task)
    except Exception as error:  # reported to the parent, which decides; never a silent crash
        outcome = MilpOutcome(
            task.disjunct_index, "open", None, None, None, 0.0, f"{type(error).__name__}: {error}"
        )
    outcomes.put(outcome)


def run_disjuncts(
    tasks: list[MilpTask],
    workers: int,
    deadline: float,
    on_outcome: Callable[[MilpOutcome], bool],
) -> None:
    """Solve ``tasks`` in order with up to ``workers`` processes until all are done,
    ``on_outcome`` returns True (stop: e.g. a counterexample was confirmed) or ``deadline``
    (a ``time.perf_counter()`` value) passes; running workers are then stopped.

    Every task may run until the deadline: an ``unsat`` needs all of them, so time sliced
    off one task and given to another would only be lost (a stopped MILP restarts from
    scratch). Put the disjuncts most likely to have a counterexample first.
    With one worker the tasks run in this process, one after another.
    """
    pending = list(tasks)
    if workers <= 1:
        for task in pending:
            limit = deadline - time.perf_counter()
            if limit <= 0 or on_outcome(solve_disjunct(replace(task, time_limit=limit))):
                return
        return
    context = worker_context()
    outcomes = context.Queue()
    running: dict[int, multiprocessing.Process] = {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                limit = deadline - time.perf_counter()
                if limit <= 0:
                    return
                task = pending.pop(0)
                process = context.Process(target=_worker, args=(replace(task, time_limit=limit), outcomes))
                process.daemon = True
                process.start()
                running[task.disjunct_index] = process
            left = deadline - time.perf_counter()
            if left <= 0:
                return  # the workers' own time limits end now too: stop them, do not wait
            try:
                outcome = outcomes.get(timeout=min(1.0, left))
            except queue.Empty:
                _reap_lost_workers(running, on_outcome)
                continue
            process = running.pop(outcome.disjunct_index, None)
            if process is not None:
                process.join(timeout=WORKER_GRACE_SECONDS)
            if on_outcome(outcome):
                return
    finally:
        for process in running.values():
            process.terminate()
        for process in running.values():
            process.join(timeout=WORKER_GRACE_SECONDS)


def _reap_lost_workers(
    running: dict[int, multiprocessing.Process], on_outcome: Callable[[MilpOutcome], bool]
) -> None:
    """Report workers that crashed (died with a non-zero exit code, without an outcome) as open."""
    for index, process in list(running.items()):
        if process.exitcode not in (None, 0):
            del running[index]
            message = f"worker process ended with exit code {process.exitcode}"
            on_outcome(MilpOutcome(index, "open", None, None, None, 0.0, message))
