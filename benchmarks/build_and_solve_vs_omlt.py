"""Build-and-solve benchmark: pyomo-nn vs OMLT on the same adversarial MILPs.

Both tools get the same network weights, the same input box (an L-inf ball around x0 clipped
to [0, 1]), interval-arithmetic bounds (OMLT computes its own from that box, pyomo-nn uses
``compute_bounds(..., "interval")``), the same objective ``logit[runner-up] - logit[class]``
and the same solver: HiGHS through ``pyomo.contrib.solver``, called the same way for both
models, with the same time limit and MIP gap. OMLT uses its Big-M ReLU formulation
(``ReluBigMFormulation``, a ``FullSpaceNNFormulation``).

Build time runs from having the weights and bounds to a finished Pyomo model with its
objective (for OMLT: NetworkDefinition + OmltBlock + build_formulation + objective, which
includes OMLT's own bound propagation). Builds alternate between the tools in one process;
small builds are repeated and the best time kept. Solve time is the wall time of the solver
call (Pyomo's hand-over to HiGHS included).

Usage::

    python benchmarks/build_and_solve_vs_omlt.py [--time-limit 120] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
import pyomo.environ as pyo
from omlt_from_weights import MNIST_256X2, mnist_test_image, omlt_definition
from pyomo.contrib.solver.common.factory import SolverFactory as ContribSolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

import pyomo_nn as pnn
from pyomo_nn.bundled import digits_network_path, digits_test_set
from pyomo_nn.solvers.highs_adapter import HIGHS_DEFAULT_OPTIONS

try:
    from omlt import OmltBlock
    from omlt.neuralnet import ReluBigMFormulation
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("this benchmark needs OMLT: pip install 'pyomo-nn[bench]' (or pip install omlt)")


#: Objectives of the two tools must agree this closely when both report optimal.
OBJECTIVE_ATOL = 1e-4
#: A solution (checked by a forward pass) may exceed the other tool's dual bound by this much.
DUAL_BOUND_TOL = 1e-6
#: Repeat a build (best of N) when one build of it takes less than this many seconds.
REPEAT_BELOW_SECONDS = 5.0
#: Short names of HiGHS' terminations; anything else shows Pyomo's name.
STATUS_NAMES = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.maxTimeLimit: "time_limit",
}


@dataclass(frozen=True)
class Problem:
    """One adversarial question: maximise ``logit[runner_up] - logit[label]`` over the box."""

    name: str
    network: pnn.Network
    x0: np.ndarray
    eps: float
    label: int
    runner_up: int

    @property
    def domain(self) -> pnn.LinfBall:
        return pnn.LinfBall(self.x0, eps=self.eps, lower=0.0, upper=1.0)


@dataclass
class ToolRun:
    """What one tool produced on one problem."""

    binaries: int = 0
    build_seconds: float = float("nan")
    solve_seconds: float = float("nan")  # wall time of the solver call (Pyomo -> highspy included)
    highs_seconds: float = float("nan")  # HiGHS' own run time
    status: str = "-"
    objective: float | None = None
    dual_bound: float | None = None
    true_objective: float | None = None  # objective recomputed by a numpy forward pass at the solution


@dataclass(frozen=True)
class SolveSettings:
    """Identical HiGHS settings for both tools."""

    time_limit: float
    mip_gap: float
    options: tuple[tuple[str, bool | int | float | str], ...] = ()


@dataclass
class Row:
    """One line of the table and the checks made along the way."""

    problem: Problem
    pnn: ToolRun
    omlt: ToolRun
    notes: list[str]


# -- problems ---------------------------------------------------------------------------------------------
def make_problem(name: str, network: pnn.Network, x0: np.ndarray, eps: float, label: int | None) -> Problem:
    """Question for ``x0``: ``label`` (or, if None, the predicted class) against its strongest rival."""
    logits = network.forward(x0)
    cls = int(np.argmax(logits)) if label is None else int(label)
    rivals = logits.copy()
    rivals[cls] = -np.inf
    return Problem(name, network, np.asarray(x0, dtype=np.float64), eps, cls, int(np.argmax(rivals)))


def first_mnist_image() -> tuple[np.ndarray, int | None, str]:
    """First MNIST test image in [0, 1] and its label; a fixed random image if the file is missing."""
    image = mnist_test_image(0)
    if image is not None:
        return *image, "MNIST test image 0"
    rng = np.random.default_rng(12345)
    return rng.uniform(0.0, 1.0, 784), None, "random image (MNIST csv not found)"


def random_mlp(sizes: list[int], seed: int) -> pnn.Network:
    """ReLU MLP with He-scaled Gaussian weights and small Gaussian biases."""
    rng = np.random.default_rng(seed)
    pairs = list(itertools.pairwise(sizes))
    weights = [rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in)) for n_in, n_out in pairs]
    biases = [rng.normal(0.0, 0.01, n_out) for n_out in sizes[1:]]
    return pnn.Network.mlp(weights, biases)


def build_problems(quick: bool) -> tuple[list[Problem], list[str]]:
    """The benchmark's problems (only the small digits nets with ``quick``) and notes on them."""
    notes: list[str] = []
    images, labels = digits_test_set()
    problems = [
        make_problem(
            f"digits {arch}", pnn.load_onnx(digits_network_path(arch)), images[0], 0.05, int(labels[0])
        )
        for arch in ("64-32-32-10", "64-50-50-50-10")
    ]
    if quick:
        return problems, notes
    x0, mnist_label, source = first_mnist_image()
    notes.append(f"784-input problems use {source}")
    # Random weights: the reference class is the net's own prediction at x0 (the label means nothing).
    problems.append(
        make_problem("random 784-100-100-10", random_mlp([784, 100, 100, 10], seed=0), x0, 0.002, None)
    )
    problems.append(
        make_problem("random 784-200x5-10", random_mlp([784, *[200] * 5, 10], seed=1), x0, 2e-6, None)
    )
    if MNIST_256X2.exists():
        problems.append(make_problem("mnist-net_256x2", pnn.load_onnx(MNIST_256X2), x0, 0.02, mnist_label))
    else:
        notes.append(f"skipped mnist-net_256x2: {MNIST_256X2} not found")
    return problems, notes


# -- model builders ---------------------------------------------------------------------------------------
def build_pyomo_nn(problem: Problem, bounds: pnn.Bounds) -> pyo.ConcreteModel:
    """pyomo-nn model: NetworkBlock from precomputed interval bounds plus the objective."""
    m = pyo.ConcreteModel()
    m.nn = pnn.NetworkBlock(problem.network, bounds)
    m.obj = pyo.Objective(
        expr=m.nn.outputs[problem.runner_up] - m.nn.outputs[problem.label], sense=pyo.maximize
    )
    return m


def build_omlt(problem: Problem, lower: np.ndarray, upper: np.ndarray) -> pyo.ConcreteModel:
    """OMLT model: Big-M ReLU full-space formulation over the same box plus the objective."""
    m = pyo.ConcreteModel()
    m.nn = OmltBlock()
    m.nn.build_formulation(ReluBigMFormulation(omlt_definition(problem.network, lower, upper)))
    m.obj = pyo.Objective(
        expr=m.nn.outputs[problem.runner_up] - m.nn.outputs[problem.label], sense=pyo.maximize
    )
    return m


# -- checks -----------------------------------------------------------------------------------------------
def count_binaries(model: pyo.ConcreteModel) -> int:
    """Unfixed binary variables of the model."""
    return sum(
        1 for v in model.component_data_objects(pyo.Var, descend_into=True) if v.is_binary() and not v.fixed
    )


def check_omlt_inputs(model: pyo.ConcreteModel, lower: np.ndarray, upper: np.ndarray) -> str | None:
    """None if OMLT's input variables carry exactly the domain box, else a description."""
    for var in (model.nn.inputs, model.nn.scaled_inputs):
        got_lower = np.array([var[i].lb for i in range(lower.size)], dtype=np.float64)
        got_upper = np.array([var[i].ub for i in range(lower.size)], dtype=np.float64)
        if not (np.array_equal(got_lower, lower) and np.array_equal(got_upper, upper)):
            diff = max(np.max(np.abs(got_lower - lower)), np.max(np.abs(got_upper - upper)))
            return f"OMLT {var.local_name} bounds differ from the domain box (max diff {diff:.3g})"
    return None


def plain_interval_bounds(network: pnn.Network, lower: np.ndarray, upper: np.ndarray) -> list[tuple]:
    """Pre-activation boxes of every Dense layer by plain interval arithmetic (no outward rounding)."""
    box, result = (lower, upper), []
    for layer in network.layers:
        box = layer.interval(*box)
        if isinstance(layer, pnn.ir.Dense):
            result.append(box)
    return result


def compare_omlt_bounds(
    model: pyo.ConcreteModel, problem: Problem, bounds: pnn.Bounds
) -> tuple[float, float, int]:
    """Largest |OMLT - plain interval| and |pyomo-nn - plain interval| pre-activation bound, and the
    number of split (unstable) hidden neurons by OMLT's bounds."""
    plain = plain_interval_bounds(problem.network, bounds.input_lower, bounds.input_upper)
    blocks = [model.nn.layer[layer_id] for layer_id in model.nn.layers]
    dense_blocks = [block for block in blocks if hasattr(block, "zhat")]
    omlt_diff, pnn_diff, split = 0.0, 0.0, 0
    for k, block in enumerate(dense_blocks):
        (plain_lo, plain_hi), n = plain[k], plain[k][0].size
        lo = np.array([block.zhat[j].lb for j in range(n)], dtype=np.float64)
        hi = np.array([block.zhat[j].ub for j in range(n)], dtype=np.float64)
        omlt_diff = max(omlt_diff, float(np.max(np.abs(lo - plain_lo))), float(np.max(np.abs(hi - plain_hi))))
        pnn_diff = max(
            pnn_diff,
            float(np.max(np.abs(bounds.lower[k] - plain_lo))),
            float(np.max(np.abs(bounds.upper[k] - plain_hi))),
        )
        if k < len(dense_blocks) - 1:
            split += int(np.count_nonzero((lo < 0) & (hi > 0)))
    return omlt_diff, pnn_diff, split


def forward_objective(problem: Problem, x: np.ndarray) -> float:
    """The objective at input ``x`` by a numpy forward pass."""
    logits = problem.network.forward(x)
    return float(logits[problem.runner_up] - logits[problem.label])


# -- timing -----------------------------------------------------------------------------------------------
def timed(build: Callable[[], pyo.ConcreteModel]) -> tuple[pyo.ConcreteModel, float]:
    """Build once after a garbage collection; return the model and the seconds it took."""
    gc.collect()
    start = time.perf_counter()
    model = build()
    return model, time.perf_counter() - start


def time_builds(
    problem: Problem, bounds: pnn.Bounds, repeats: int
) -> tuple[pyo.ConcreteModel, float, pyo.ConcreteModel, float]:
    """Alternate builds of both tools (order swapped each round); best time of each."""
    lower, upper = bounds.input_lower, bounds.input_upper
    builders = {
        "pnn": lambda: build_pyomo_nn(problem, bounds),
        "omlt": lambda: build_omlt(problem, lower, upper),
    }
    best = {"pnn": float("inf"), "omlt": float("inf")}
    models: dict[str, pyo.ConcreteModel] = {}
    rounds = 0
    while True:
        order = ("pnn", "omlt") if rounds % 2 == 0 else ("omlt", "pnn")
        for tool in order:
            model, seconds = timed(builders[tool])
            best[tool] = min(best[tool], seconds)
            models[tool] = model
        rounds += 1
        if rounds >= repeats or max(best.values()) >= REPEAT_BELOW_SECONDS:
            break
    return models["pnn"], best["pnn"], models["omlt"], best["omlt"]


def solve_into(run: ToolRun, model: pyo.ConcreteModel, settings: SolveSettings) -> None:
    """Solve with HiGHS through pyomo.contrib.solver (same call for both tools); record it in ``run``."""
    solver = ContribSolverFactory("highs")
    start = time.perf_counter()
    results = solver.solve(
        model,
        time_limit=settings.time_limit,
        rel_gap=settings.mip_gap,
        solver_options=dict(settings.options),
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    run.solve_seconds = time.perf_counter() - start
    run.highs_seconds = float(getattr(results.timing_info, "highs_time", float("nan")))
    run.status = STATUS_NAMES.get(results.termination_condition, results.termination_condition.name)
    if results.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal):
        results.solution_loader.load_vars()
        run.objective = _finite(results.incumbent_objective)
    run.dual_bound = _finite(results.objective_bound)


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


# -- the benchmark ----------------------------------------------------------------------------------------
def run_problem(problem: Problem, settings: SolveSettings, repeats: int) -> Row:
    """Build, check and solve one problem with both tools."""
    notes: list[str] = []
    start = time.perf_counter()
    bounds = pnn.compute_bounds(problem.network, problem.domain, method="interval")
    bound_seconds = time.perf_counter() - start
    pnn_model, pnn_build, omlt_model, omlt_build = time_builds(problem, bounds, repeats)
    pnn_run = ToolRun(binaries=count_binaries(pnn_model), build_seconds=pnn_build)
    omlt_run = ToolRun(binaries=count_binaries(omlt_model), build_seconds=omlt_build)

    mismatch = check_omlt_inputs(omlt_model, bounds.input_lower, bounds.input_upper)
    if mismatch:
        notes.append(f"WARNING: {mismatch}")
    omlt_diff, pnn_diff, omlt_split = compare_omlt_bounds(omlt_model, problem, bounds)
    notes.append(
        f"pyomo-nn compute_bounds {bound_seconds * 1e3:.1f} ms (not in its build time; OMLT's build "
        f"includes its own FBBT bounds); vs plain interval arithmetic: OMLT's bounds differ by "
        f"{omlt_diff:.1e}, pyomo-nn's by {pnn_diff:.1e} (its outward safety rounding); "
        f"split neurons by OMLT's bounds: {omlt_split}"
    )

    solve_into(pnn_run, pnn_model, settings)
    if pnn_run.objective is not None:
        pnn_run.true_objective = forward_objective(problem, pnn_model.nn.input_values())
    solve_into(omlt_run, omlt_model, settings)
    if omlt_run.objective is not None:
        x = np.array([pyo.value(omlt_model.nn.inputs[i]) for i in range(problem.network.input_size)])
        omlt_run.true_objective = forward_objective(problem, x)

    notes.append(
        f"objective by a forward pass at each solution: pyomo-nn {_num(pnn_run.true_objective, '.9g')}, "
        f"OMLT {_num(omlt_run.true_objective, '.9g')}"
    )
    notes.extend(cross_check(pnn_run, omlt_run))
    if pnn_run.status == omlt_run.status == "optimal":
        difference = abs(pnn_run.objective - omlt_run.objective)
        if difference > OBJECTIVE_ATOL:
            notes.append(
                f"WARNING: both optimal, objectives differ by {difference:.2e} (> {OBJECTIVE_ATOL:g})"
            )
    else:
        notes.append(
            f"WARNING: not both optimal (pyomo-nn {pnn_run.status}, OMLT {omlt_run.status}); "
            f"dual bounds {_num(pnn_run.dual_bound)} / {_num(omlt_run.dual_bound)}"
        )
    del pnn_model, omlt_model
    return Row(problem, pnn_run, omlt_run, notes)


def cross_check(pnn_run: ToolRun, omlt_run: ToolRun) -> list[str]:
    """Warnings where a tool's solution does not evaluate to its objective, or beats (by a forward
    pass) the dual bound the other tool proved: then that tool's optimality claim is wrong."""
    warnings = []
    runs = (("pyomo-nn", pnn_run), ("OMLT", omlt_run))
    for tool, run in runs:
        if run.objective is not None and abs(run.objective - run.true_objective) > OBJECTIVE_ATOL:
            warnings.append(
                f"WARNING: {tool}'s objective {run.objective:.9g} but the forward pass at its solution "
                f"gives {run.true_objective:.9g}"
            )
    for (tool, run), (other, other_run) in itertools.permutations(runs):
        if run.dual_bound is None or other_run.true_objective is None:
            continue
        excess = other_run.true_objective - run.dual_bound
        if excess > DUAL_BOUND_TOL:
            warnings.append(
                f"WARNING: {tool} ({run.status}) has dual bound {run.dual_bound:.9g}, but {other}'s solution "
                f"reaches {other_run.true_objective:.9g} by a forward pass ({excess:.1e} above): "
                f"{tool}'s bound is invalid (solver tolerances?)"
            )
    return warnings


def _num(value: float | None, spec: str = ".6g") -> str:
    return "-" if value is None else format(value, spec)


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}x" if denominator > 0 else "-"


COLUMNS = (
    ("network", "<24"),
    ("eps", ">7"),
    ("bin pnn", ">8"),
    ("bin omlt", ">9"),
    ("build pnn s", ">12"),
    ("build omlt s", ">13"),
    ("build o/p", ">10"),
    ("solve pnn s", ">12"),
    ("solve omlt s", ">13"),
    ("solve o/p", ">10"),
    ("highs pnn", ">10"),
    ("highs omlt", ">11"),
    ("obj pnn", ">11"),
    ("obj omlt", ">11"),
    ("status pnn/omlt", ">22"),
)


def format_table(rows: list[Row]) -> str:
    """The side-by-side table, one line per problem, then the notes."""
    lines = ["".join(format(title, spec) for title, spec in COLUMNS)]
    lines.append("-" * len(lines[0]))
    for row in rows:
        p, a, b = row.problem, row.pnn, row.omlt
        cells = (
            p.name,
            f"{p.eps:g}",
            str(a.binaries),
            str(b.binaries),
            f"{a.build_seconds:.3f}",
            f"{b.build_seconds:.3f}",
            _ratio(b.build_seconds, a.build_seconds),
            f"{a.solve_seconds:.2f}",
            f"{b.solve_seconds:.2f}",
            _ratio(b.solve_seconds, a.solve_seconds),
            f"{a.highs_seconds:.2f}",
            f"{b.highs_seconds:.2f}",
            _num(a.objective, ".6f"),
            _num(b.objective, ".6f"),
            f"{a.status}/{b.status}",
        )
        lines.append("".join(format(cell, spec) for cell, (_, spec) in zip(cells, COLUMNS, strict=True)))
    lines.append("")
    for row in rows:
        p = row.problem
        lines.append(f"{p.name} (class {p.label} vs runner-up {p.runner_up}):")
        lines.extend(f"  - {note}" for note in row.notes)
    return "\n".join(lines)


def highs_option(text: str) -> tuple[str, bool | int | float | str]:
    """Parse ``NAME=VALUE`` into a HiGHS option; VALUE becomes a bool, int or float where it reads as one."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    if raw.lower() in ("true", "false"):
        return name, raw.lower() == "true"
    for kind in (int, float):
        try:
            return name, kind(raw)
        except ValueError:
            pass
    return name, raw


def main(argv: list[str] | None = None) -> int:
    """Run every problem with both tools and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve (default 120)")
    parser.add_argument("--quick", action="store_true", help="only the small bundled digits networks")
    parser.add_argument(
        "--mip-gap", type=float, default=1e-6, help="relative MIP gap for both solves (default 1e-6)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="best-of-N for builds under 5 s (default 3)")
    parser.add_argument(
        "--highs-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=highs_option,
        help="HiGHS option for both tools, e.g. presolve=off (repeatable); both tools get pyomo-nn's "
        "HiGHS defaults (feasibility tolerance 1e-9) unless overridden",
    )
    args = parser.parse_args(argv)
    options = {**HIGHS_DEFAULT_OPTIONS, **dict(args.highs_option)}
    settings = SolveSettings(args.time_limit, args.mip_gap, tuple(options.items()))

    # OMLT initialises its input variables at 0, outside boxes like [0.45, 0.55]; Pyomo logs a
    # W1002 warning per input. Silence it for both tools so logging costs no build time.
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)
    problems, notes = build_problems(args.quick)
    print(
        f"pyomo-nn {pnn.__version__} vs OMLT {version('omlt')} (ReluBigMFormulation), "
        f"pyomo {version('pyomo')}, HiGHS {version('highspy')} via pyomo.contrib.solver; "
        f"time limit {args.time_limit:g} s, mip gap {args.mip_gap:g}"
        + "".join(f", {name}={value}" for name, value in settings.options)
    )
    for note in notes:
        print(f"note: {note}")
    rows = []
    total = time.perf_counter()
    for problem in problems:
        print(f"... {problem.name}", flush=True)
        rows.append(run_problem(problem, settings, args.repeats))
    print()
    print(format_table(rows))
    print(f"\ntotal {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
