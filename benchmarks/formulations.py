"""ReLU formulations on the same instances: pyomo-nn's formulations against OMLT's.

Instances: the bundled digits MLPs (64-32-32-10 and 64-50-50-50-10) and, when
``../shared/bench`` holds it, VNN-COMP 2021's 784-input MNIST net ``mnist-net_256x2``
(784-256-256-10) around MNIST test image 0 (``--mnist-eps``; skipped, with a note, when the files are absent);
maximise ``logit[target] - logit[label]`` (target: the runner-up class) over an L-inf ball
around the image (the adversarial problem of examples/adversarial_digits.py), with
pre-activation bounds by ``interval`` (what OMLT uses) and by ``symbolic`` (tight).
Formulations:

* pyomo-nn ``bigm``, ``partition`` (N = 2, 4) on HiGHS; ``sos1`` on CBC and SCIP;
  ``complementarity`` on SCIP (global, as an MINLP);
* OMLT's ``ReluBigMFormulation`` and ``ReluPartitionFormulation`` (N = 2, its default split)
  on HiGHS, with OMLT's own interval bounds over the same box. OMLT's ONNX reader fails on
  ``mnist-net_256x2.onnx`` (``KeyError: '11'``), so there OMLT gets the same weights through its
  own API (``omlt_from_weights.py``, shared with build_and_solve_vs_omlt.py), as a note says.

HiGHS runs through ``pyomo.contrib.solver`` for every HiGHS row, with the same call and options
for both tools: pyomo-nn's ``HIGHS_DEFAULT_OPTIONS`` (presolve off, feasibility tolerances
1e-9; with HiGHS' own defaults pyomo-nn's Big-M row proved an "optimum" 6.7e-6 short on
64-32-32-10, image 0, eps 0.05: ``pyomo_nn/tolerances.py``). Its branch-and-bound node count is
reported (independent of machine load); CBC and SCIP rows report time only. Every optimal row
must reach the optimum of pyomo-nn's Big-M row to 1e-6 (``diff`` and ``same`` columns; 1e-5 for
``complementarity``, whose products SCIP meets to its feasibility tolerance): a formulation may
be slower, never different.

    python3 benchmarks/formulations.py [--time-limit 120] [--images 2] [--eps 0.05 0.08]
    python3 benchmarks/formulations.py --architectures mnist-net_256x2 --mnist-eps 0.02 --time-limit 60
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import pyomo.environ as pyo
from omlt_from_weights import MNIST_256X2, mnist_test_image, omlt_definition
from pyomo.contrib.solver.common.factory import SolverFactory as ContribSolverFactory

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_network_path, digits_test_set
from pyomo_nn.solvers.highs_adapter import HIGHS_DEFAULT_OPTIONS

try:
    from omlt import OmltBlock
    from omlt.io.onnx import load_onnx_neural_network
    from omlt.neuralnet import ReluBigMFormulation, ReluPartitionFormulation
except ImportError:  # the bench extra: pip install -e ".[bench]"
    OmltBlock = None

#: Optima of two rows of one instance agree to this.
SAME_ATOL = 1e-6
#: ... and a complementarity row's (SCIP meets ``h * hbar <= 0`` to its feasibility tolerance,
#: 1e-6, so its optimum may exceed the MILP rows' by a few 1e-6).
NONLINEAR_SAME_ATOL = 1e-5

#: Relative gap every solver is run to: HiGHS' default (1e-4) let Big-M stop 2.7e-5 short of
#: the optimum on 64-50-50-50-10 (eps 0.12), which looked like a formulation disagreeing.
MIP_GAP = 1e-9


#: The 784-input net's name in ``--architectures``.
MNIST = "mnist-net_256x2"


@dataclass
class Instance:
    """One adversarial problem: maximise ``logit[target] - logit[label]`` over the ball."""

    name: str
    network: pnn.Network
    path: Path  # the ONNX file, for OMLT's reader
    x0: np.ndarray
    eps: float
    label: int
    target: int

    @classmethod
    def around(cls, name: str, path: Path, x0: np.ndarray, eps: float, label: int | None = None) -> Instance:
        """The instance of the net at ``path``: ``label`` (default: the net's prediction) against
        the runner-up class."""
        network = pnn.load_onnx(path)
        logits = np.ravel(network.forward(x0))
        label = int(np.argmax(logits)) if label is None else int(label)
        rivals = logits.copy()
        rivals[label] = -np.inf
        return cls(name, network, Path(path), x0, eps, label, int(np.argmax(rivals)))


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
    notes: list[str] = field(default_factory=list)


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
        solver_options=dict(HIGHS_DEFAULT_OPTIONS),
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    seconds = time.perf_counter() - start
    nodes = float(dict(results.extra_info.items()).get("mip_node_count", float("nan")))
    return seconds, nodes, results.incumbent_objective, results.termination_condition.name


def _pyomo_nn_row(instance, bounds, formulation, solver, time_limit, **settings) -> Row:
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(instance.network, bounds, formulation=formulation, **settings)
    model.obj = pyo.Objective(
        expr=model.nn.outputs[instance.target] - model.nn.outputs[instance.label], sense=pyo.maximize
    )
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


def _omlt_network(instance: Instance, lower: np.ndarray, upper: np.ndarray) -> tuple[object, list[str]]:
    """OMLT's network from its ONNX reader, or from the weights where the reader fails."""
    box = {i: (float(lo), float(hi)) for i, (lo, hi) in enumerate(zip(lower, upper, strict=True))}
    try:
        return load_onnx_neural_network(onnx.load(instance.path), input_bounds=box), []
    except Exception as error:  # OMLT's reader fails on some valid files (mnist-net_256x2: KeyError '11')
        note = f"OMLT's ONNX reader failed ({type(error).__name__}: {error}); built from the weights"
        return omlt_definition(instance.network, lower, upper), [note]


def _omlt_row(instance, lower, upper, formulation, time_limit) -> Row:
    network, notes = _omlt_network(instance, lower, upper)
    model = pyo.ConcreteModel()
    model.nn = OmltBlock()
    model.nn.build_formulation(formulation(network))
    model.obj = pyo.Objective(
        expr=model.nn.outputs[instance.target] - model.nn.outputs[instance.label], sense=pyo.maximize
    )
    binaries, constraints = _size(model)
    seconds, nodes, objective, status = _highs(model, time_limit)
    name = f"OMLT {formulation.__name__}"
    return Row(name, "highs", seconds, nodes, objective, binaries, constraints, status, notes)


def instances(args: argparse.Namespace) -> tuple[list[Instance], list[str]]:
    """The instances ``args`` name (digits: ``--images`` x ``--eps``; the 784-input net: MNIST
    test image 0 x ``--mnist-eps``), and notes on what was skipped."""
    found: list[Instance] = []
    notes: list[str] = []
    images, _ = digits_test_set()
    for architecture in args.architectures:
        if architecture != MNIST:
            path = digits_network_path(architecture)
            for eps in args.eps:
                for image in range(args.images):
                    found.append(Instance.around(f"{architecture}, image {image}", path, images[image], eps))
            continue
        image = mnist_test_image(0)
        if image is None or not MNIST_256X2.exists():
            notes.append(f"skipped {MNIST}: {MNIST_256X2} or the MNIST test images not found")
            continue
        x0, label = image
        for eps in args.mnist_eps:
            found.append(Instance.around(f"{MNIST}, MNIST test image 0", MNIST_256X2, x0, eps, label))
    return found, notes


def run(instance: Instance, method: str, time_limit: float) -> list[Row]:
    domain = pnn.LinfBall(instance.x0, eps=instance.eps, lower=0.0, upper=1.0)
    bounds = pnn.compute_bounds(instance.network, domain, method=method)
    available = pnn.available_solvers()
    rows = [_pyomo_nn_row(instance, bounds, "bigm", "highs", time_limit)]
    for parts in (2, 4):
        rows.append(_pyomo_nn_row(instance, bounds, "partition", "highs", time_limit, partitions=parts))
    for solver in ("cbc", "scip_direct"):
        if solver in available:
            rows.append(_pyomo_nn_row(instance, bounds, "sos1", solver, time_limit))
    if "scip_direct" in available:
        rows.append(_pyomo_nn_row(instance, bounds, "complementarity", "scip_direct", time_limit))
    if OmltBlock is not None and method == "interval":
        lower, upper = domain.box(instance.network.input_size)
        for formulation in (ReluBigMFormulation, ReluPartitionFormulation):
            rows.append(_omlt_row(instance, lower, upper, formulation, time_limit))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--eps", type=float, nargs="+", default=[0.05, 0.08])
    parser.add_argument("--architectures", nargs="+", default=["64-32-32-10", "64-50-50-50-10", MNIST])
    parser.add_argument("--mnist-eps", type=float, nargs="+", default=[0.02])
    parser.add_argument("--methods", nargs="+", default=["interval", "symbolic"])
    args = parser.parse_args(argv)
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)  # OMLT's start values outside its bounds
    found, notes = instances(args)
    for note in notes:
        print(note)
    mismatches = 0
    header = (
        f"{'formulation':<36}{'solver':<13}{'binaries':>9}{'rows':>7}{'seconds':>9}{'nodes':>8}"
        f"  {'objective':>12}  {'diff':>7}  same"
    )
    for instance in sorted(found, key=lambda i: i.network.input_size):
        for method in args.methods:
            rows = run(instance, method, args.time_limit)
            print(f"\n{instance.name}, eps {instance.eps}, bounds {method}")
            print(header)
            reference = rows[0].objective
            for row in rows:
                diff = (
                    float("nan")
                    if row.objective is None or reference is None
                    else abs(row.objective - reference)
                )
                atol = NONLINEAR_SAME_ATOL if "complementarity" in row.formulation else SAME_ATOL
                same = diff <= atol
                mismatches += not same and row.status in ("optimal", "convergenceCriteriaSatisfied")
                objective = "-" if row.objective is None else f"{row.objective:.6f}"
                print(
                    f"{row.formulation:<36}{row.solver:<13}{row.binaries:>9}{row.constraints:>7}"
                    f"{row.seconds:>9.2f}{row.nodes:>8.0f}  {objective:>12}  {diff:>7.1e}"
                    f"  {'yes' if same else row.status}"
                )
            for note in dict.fromkeys(note for row in rows for note in row.notes):
                print(f"note: {note}")
            sys.stdout.flush()
    print(f"\noptimal rows that differ from pyomo-nn's Big-M optimum: {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
