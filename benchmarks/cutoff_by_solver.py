"""The objective cut-off of ``pnn.solve`` per solver: the six digits instances of
``defaults_vs_omlt.py`` solved with and without it (``objective_cutoff=False``), side by side.

The cut-off fixes binaries in the Pyomo model, so every solver receives them; whether that pays
depends on how fast the solver closes the plain model. Each pair of solves alternates the order
per repeat and keeps the fastest of ``--repeats``. Solvers not installed are skipped. GLPK is in
``CUTOFF_SKIPPED_SOLVERS`` (the cut-off does not run for it), so its rows use that module's
switch to show what the cut-off would cost it.

Usage::

    python benchmarks/cutoff_by_solver.py                         # highs cbc glpk scip_direct gurobi_direct
    python benchmarks/cutoff_by_solver.py --solvers highs cbc --repeats 3
"""

from __future__ import annotations

import argparse
import math
import time

import pyomo.environ as pyo
from defaults_vs_omlt import Instance, instances, objective_expr

import pyomo_nn as pnn
import pyomo_nn.solvers.objective_cutoff as objective_cutoff

SOLVERS = ("highs", "cbc", "glpk", "scip_direct", "gurobi_direct")


def total_seconds(
    instance: Instance, solver: str, cutoff: bool, time_limit: float
) -> tuple[float, pnn.Result]:
    """Seconds from the ONNX file to the solve's result, the default pipeline otherwise."""
    started = time.perf_counter()
    net = pnn.load_onnx(instance.path)
    bounds = pnn.compute_bounds(net, instance.domain)
    m = pyo.ConcreteModel()
    m.nn = pnn.NetworkBlock(net, bounds)
    m.obj = pyo.Objective(expr=objective_expr(m.nn, instance), sense=pyo.maximize)
    result = pnn.solve(m, solver=solver, time_limit=time_limit, objective_cutoff=cutoff)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    found, _ = instances(quick=True, deep=False)
    available = pnn.available_solvers()
    header = f"{'solver':<14}{'instance':<24}{'eps':>6}{'cut-off s':>11}{'plain s':>9}{'ratio':>8}"
    print(f"{header}  objectives / cut-off")
    for solver in args.solvers:
        if solver not in available:
            print(f"{solver:<14}not installed, skipped")
            continue
        skipped = objective_cutoff.CUTOFF_SKIPPED_SOLVERS
        objective_cutoff.CUTOFF_SKIPPED_SOLVERS = frozenset()  # measure what it would do everywhere
        ratios = []
        try:
            for instance in found:
                best = {True: math.inf, False: math.inf}
                results = {}
                for repeat in range(args.repeats):
                    for cutoff in (True, False) if repeat % 2 == 0 else (False, True):
                        seconds, results[cutoff] = total_seconds(instance, solver, cutoff, args.time_limit)
                        best[cutoff] = min(best[cutoff], seconds)
                ratio = best[False] / best[True]
                ratios.append(ratio)
                objectives = f"{results[True].objective:.7f} {results[False].objective:.7f}"
                print(
                    f"{solver:<14}{instance.name:<24}{instance.eps:>6}{best[True]:>11.3f}{best[False]:>9.3f}"
                    f"{ratio:>7.2f}x  {objectives} / {results[True].cutoff or 'did not run'}",
                    flush=True,
                )
        finally:
            objective_cutoff.CUTOFF_SKIPPED_SOLVERS = skipped
        geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"{solver:<14}geometric mean over the six: {geomean:.2f}x as fast with the cut-off", flush=True)


if __name__ == "__main__":
    main()
