"""ReLU formulations on the same instances: pyomo-nn's encodings against OMLT's.

Instances: the bundled digits MLPs (64-32-32-10 and 64-50-50-50-10), maximise
``logit[target] - logit[label]`` over an L-inf ball around a test image (the adversarial
problem of examples/adversarial_digits.py), with pre-activation bounds by ``interval`` (what
OMLT uses) and by ``symbolic`` (tight). Formulations:

* pyomo-nn ``bigm``, ``partition`` (N = 2, 4) on HiGHS; ``sos1`` on CBC and SCIP;
  ``complementarity`` on SCIP (global, as an MINLP);
* OMLT's ``ReluBigMFormulation`` and ``ReluPartitionFormulation`` (N = 2, its default split)
  on HiGHS, with OMLT's own interval bounds over the same box.

HiGHS runs through ``pyomo.contrib.solver`` for every HiGHS row (same call for both tools), and
its branch-and-bound node count is reported (independent of machine load); CBC and SCIP rows
report time only. Every row must reach the optimum of pyomo-nn's Big-M row (``same`` column):
a formulation may be slower, never different.

    python3 benchmarks/formulations.py [--time-limit 120] [--images 2] [--eps 0.05 0.08]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import onnx
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory as ContribSolverFactory

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_network_path, digits_test_set

try:
    from omlt import OmltBlock
    from omlt.io.onnx import load_onnx_neural_network
    from omlt.neuralnet import ReluBigMFormulation, ReluPartitionFormulation
except ImportError:  # the bench extra: pip install -e ".[bench]"
    OmltBlock = None

#: Optima of two rows of one instance agree to this.
SAME_ATOL = 1e-5

#: Relative gap every solver is run to: HiGHS' default (1e-4) let Big-M stop 2.7e-5 short of
#: the optimum on 64-50-50-50-10 (eps 0.12), which looked like a formulation disagreeing.
MIP_GAP = 1e-9


@dataclass
class Row:
    formulation: str
    solver: str
    seconds: float
    nodes: float
    objective: float | None
    binaries: int
    constraints: int
    status: str


def _size(model: pyo.ConcreteModel) -> tuple[int, int]:
    binaries = sum(
        1 for v in model.component_data_objects(pyo.Var, descend_into=True) if v.is_binary() and not v.fixed
    )
    constraints = sum(1 for _ in model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    return binaries, constraints


def _highs(model: pyo.ConcreteModel, time_limit: float) -> tuple[float, float, float | None, str]:
    start = time.perf_counter()
    results = ContribSolverFactory("highs").solve(
        model,
        time_limit=time_limit,
        rel_gap=MIP_GAP,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    seconds = time.perf_counter() - start
    nodes = float(dict(results.extra_info.items()).get("mip_node_count", float("nan")))
    return seconds, nodes, results.incumbent_objective, results.termination_condition.name


def _pyomo_nn_row(net, bounds, label, target, formulation, solver, time_limit, **settings) -> Row:
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds, formulation=formulation, **settings)
    model.obj = pyo.Objective(expr=model.nn.outputs[target] - model.nn.outputs[label], sense=pyo.maximize)
    binaries, constraints = _size(model)
    name = formulation + (f" N={settings['partitions']}" if "partitions" in settings else "")
    if solver == "highs":
        seconds, nodes, objective, status = _highs(model, time_limit)
    else:
        start = time.perf_counter()
        result = pnn.solve(model, solver=solver, time_limit=time_limit, mip_gap=MIP_GAP)
        seconds, nodes, objective, status = (
            time.perf_counter() - start,
            float("nan"),
            result.objective,
            result.status,
        )
    return Row(f"pyomo-nn {name}", solver, seconds, nodes, objective, binaries, constraints, status)


def _omlt_row(path, lower, upper, label, target, formulation, time_limit) -> Row:
    network = load_onnx_neural_network(
        onnx.load(path),
        input_bounds={i: (float(lo), float(hi)) for i, (lo, hi) in enumerate(zip(lower, upper, strict=True))},
    )
    model = pyo.ConcreteModel()
    model.nn = OmltBlock()
    model.nn.build_formulation(formulation(network))
    model.obj = pyo.Objective(expr=model.nn.outputs[target] - model.nn.outputs[label], sense=pyo.maximize)
    binaries, constraints = _size(model)
    seconds, nodes, objective, status = _highs(model, time_limit)
    return Row(
        f"OMLT {formulation.__name__}", "highs", seconds, nodes, objective, binaries, constraints, status
    )


def run(architecture: str, image: int, eps: float, method: str, time_limit: float) -> list[Row]:
    net = pnn.load_onnx(digits_network_path(architecture))
    images, _ = digits_test_set()
    x0 = images[image]
    logits = np.ravel(net.forward(x0))
    label, target = int(np.argmax(logits)), int(np.argsort(logits)[-2])  # target: the runner-up
    domain = pnn.LinfBall(x0, eps=eps, lower=0.0, upper=1.0)
    bounds = pnn.compute_bounds(net, domain, method=method)
    available = pnn.available_solvers()
    rows = [_pyomo_nn_row(net, bounds, label, target, "bigm", "highs", time_limit)]
    for parts in (2, 4):
        rows.append(
            _pyomo_nn_row(net, bounds, label, target, "partition", "highs", time_limit, partitions=parts)
        )
    for solver in ("cbc", "scip_direct"):
        if solver in available:
            rows.append(_pyomo_nn_row(net, bounds, label, target, "sos1", solver, time_limit))
    if "scip_direct" in available:
        rows.append(_pyomo_nn_row(net, bounds, label, target, "complementarity", "scip_direct", time_limit))
    if OmltBlock is not None and method == "interval":
        lower, upper = domain.box(net.input_size)
        for formulation in (ReluBigMFormulation, ReluPartitionFormulation):
            rows.append(
                _omlt_row(
                    digits_network_path(architecture), lower, upper, label, target, formulation, time_limit
                )
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--eps", type=float, nargs="+", default=[0.05, 0.08])
    parser.add_argument("--architectures", nargs="+", default=["64-32-32-10", "64-50-50-50-10"])
    parser.add_argument("--methods", nargs="+", default=["interval", "symbolic"])
    args = parser.parse_args(argv)
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)  # OMLT's start values outside its bounds
    mismatches = 0
    header = (
        f"{'formulation':<36}{'solver':<13}{'binaries':>9}{'rows':>7}{'seconds':>9}{'nodes':>8}"
        f"  {'objective':>12}  same"
    )
    for architecture in args.architectures:
        for method in args.methods:
            for eps in args.eps:
                for image in range(args.images):
                    rows = run(architecture, image, eps, method, args.time_limit)
                    print(f"\n{architecture}, image {image}, eps {eps}, bounds {method}")
                    print(header)
                    reference = rows[0].objective
                    for row in rows:
                        same = (
                            row.objective is not None
                            and reference is not None
                            and abs(row.objective - reference) <= SAME_ATOL
                        )
                        mismatches += not same and row.status in ("optimal", "convergenceCriteriaSatisfied")
                        objective = "-" if row.objective is None else f"{row.objective:.6f}"
                        print(
                            f"{row.formulation:<36}{row.solver:<13}{row.binaries:>9}{row.constraints:>7}"
                            f"{row.seconds:>9.2f}{row.nodes:>8.0f}  {objective:>12}"
                            f"  {'yes' if same else row.status}"
                        )
                    sys.stdout.flush()
    print(f"\noptimal rows that differ from pyomo-nn's Big-M optimum: {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
