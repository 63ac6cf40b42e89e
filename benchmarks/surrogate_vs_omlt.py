"""pyomo-nn against OMLT on networks used as surrogates inside process models (issue 12).

Two problems, each built from the ONNX files and their scaling by both tools and solved by the
same HiGHS call:

- ``reformer``: OMLT's auto-thermal reformer example. The ReLU regression network
  ``examples/data/reformer_relu.onnx`` (2 -> 10 x 4 -> 12, scaled inputs to scaled outputs, written
  by ``examples/train_reformer.py``) with its scaling ``examples/data/reformer_scaling.json``
  (``x_scaled = (x - offset) / factor``, ``y = y_scaled * factor + offset``); maximise the H2 mole
  fraction subject to N2 <= 0.34 over the data's input box (bypass fraction, NG steam ratio).
- ``plant``: ``examples/reformer_plant.py``, three reformer trains sharing gas and steam with
  on/off decisions, one network per train (``reformer_flows_relu.onnx``, 2 -> 10 x 4 -> 6). The
  plant's rows (switched flows with the block's output bounds, supplies, the N2 limit, the margin)
  are the example's own functions, applied to each tool's variables.

Each tool builds the model its users would write:

- OMLT: its ONNX reader (``omlt.io.onnx.load_onnx_neural_network``) with an ``OffsetScaling`` and
  the scaled input box, an ``OmltBlock`` with ``ReluBigMFormulation`` (OMLT's own interval bounds)
  per network; the problem on ``block.inputs``/``block.outputs`` (OMLT's unscaled variables), as in
  OMLT's notebook; the plant's output bounds are those OMLT computed for its last layer, unscaled;
- pyomo-nn: ``load_onnx(...).scaled(...)`` and ``NetworkBlock(net, bounds, inputs=[...],
  outputs=[...])`` on the user's own variables (no linking rows), with each bound method of
  ``--bounds`` (``default``: the package's default; the block computes the bounds over its input
  variables' box, so their time is part of the build).

Both models are solved with HiGHS through ``pyomo.contrib.solver`` with pyomo-nn's HiGHS
defaults (``HIGHS_DEFAULT_OPTIONS``: feasibility tolerances 1e-9) and gaps of 1e-9, so that the
optima can be compared to 1e-6. Build time runs from the ONNX file on disk to a finished model
with objective and constraints (best of ``--repeats``, the tools alternating in one process);
solve time is the wall time of the solver call (median over ``--seeds`` HiGHS random seeds);
``nodes`` and ``simplex`` (branch-and-bound nodes and simplex iterations, medians) measure the
solver's work independently of the machine's load.
Every decision is re-evaluated with onnxruntime. Needs OMLT (``pip install -e ".[bench]"``);
about a minute::

    python benchmarks/surrogate_vs_omlt.py [--time-limit 120] [--repeats 5] [--seeds 3]
        [--bounds default,interval,alpha,lp] [--only plant]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory as ContribSolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

import pyomo_nn as pnn
from pyomo_nn.solvers.highs_adapter import HIGHS_DEFAULT_OPTIONS

try:
    from omlt import OffsetScaling, OmltBlock
    from omlt.io.onnx import load_onnx_neural_network
    from omlt.neuralnet import ReluBigMFormulation
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("this benchmark needs OMLT: pip install 'pyomo-nn[bench]' (or pip install omlt)")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import reformer_plant as plant  # noqa: E402  (the plant's rows, shared with the example)

DATA_DIR = ROOT / "examples" / "data"
REFORMER_ONNX = DATA_DIR / "reformer_relu.onnx"
REFORMER_SCALING = DATA_DIR / "reformer_scaling.json"
FLOWS_ONNX = DATA_DIR / "reformer_flows_relu.onnx"
FLOWS_SCALING = DATA_DIR / "reformer_flows_scaling.json"
#: OMLT's constraint: N2 mole fraction of the product at most this.
N2_MAX = 0.34
#: The tools' optimal objectives must agree this closely.
OBJECTIVE_ATOL = 1e-6
#: A model's outputs must match onnxruntime at its decision this closely, in scaled units
#: (onnxruntime computes in float32).
ORT_ATOL = 1e-5
STATUS_NAMES = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.maxTimeLimit: "time_limit",
}
#: pyomo-nn's bound methods measured by default ("default": the package's default method).
BOUND_METHODS = ("default", "interval", "alpha", "lp")


@dataclass(frozen=True)
class Scaling:
    """A network's scaling and input box, read from its ``*_scaling.json``."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    input_offset: np.ndarray
    input_factor: np.ndarray
    output_offset: np.ndarray
    output_factor: np.ndarray
    input_lower: np.ndarray  # engineering units
    input_upper: np.ndarray

    @classmethod
    def from_file(cls, path: Path) -> Scaling:
        data = json.loads(path.read_text())
        arrays = {
            key: np.asarray(data[key], dtype=np.float64)
            for key in (
                "input_offset",
                "input_factor",
                "output_offset",
                "output_factor",
                "input_lower",
                "input_upper",
            )
        }
        return cls(inputs=tuple(data["inputs"]), outputs=tuple(data["outputs"]), **arrays)

    @property
    def scaled_lower(self) -> np.ndarray:
        return (self.input_lower - self.input_offset) / self.input_factor

    @property
    def scaled_upper(self) -> np.ndarray:
        return (self.input_upper - self.input_offset) / self.input_factor

    def output(self, name: str) -> int:
        return self.outputs.index(name)


@dataclass
class Built:
    """A finished model and, per network in it, its input and output variables (engineering
    units)."""

    model: pyo.ConcreteModel
    networks: list[tuple[list[pyo.Var], list[pyo.Var]]]

    def decisions(self) -> list[np.ndarray]:
        return [np.array([pyo.value(v) for v in inputs], dtype=np.float64) for inputs, _ in self.networks]

    def predictions(self) -> list[np.ndarray]:
        return [np.array([pyo.value(v) for v in outputs], dtype=np.float64) for _, outputs in self.networks]


@dataclass
class ToolRun:
    """What one tool produced on one problem."""

    binaries: int = 0
    build_seconds: float = float("nan")
    solve_seconds: float = float("nan")  # wall time of the solver call (Pyomo -> highspy included)
    highs_seconds: float = float("nan")  # HiGHS' own run time
    nodes: float = float("nan")  # branch-and-bound nodes (median over seeds), independent of load
    simplex: float = float("nan")  # simplex iterations (median over seeds)
    status: str = "-"
    objective: float | None = None
    dual_bound: float | None = None
    decisions: list[np.ndarray] | None = None
    predictions: list[np.ndarray] | None = None
    ort_diff: float | None = None  # max |model outputs - onnxruntime| at the decisions, scaled units
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SolveSettings:
    """Identical HiGHS settings for every tool; ``seeds`` HiGHS random seeds per solve."""

    time_limit: float
    mip_gap: float
    options: tuple[tuple[str, bool | int | float | str], ...]
    seeds: int = 1


# -- OMLT ---------------------------------------------------------------------------------------------------
def omlt_block(parent: pyo.Block, name: str, onnx_path: Path, scaling: Scaling) -> OmltBlock:
    """OMLT's block ``parent.<name>`` for one network: ONNX reader + OffsetScaling +
    ReluBigMFormulation."""
    scaler = OffsetScaling(
        offset_inputs=scaling.input_offset.tolist(),
        factor_inputs=scaling.input_factor.tolist(),
        offset_outputs=scaling.output_offset.tolist(),
        factor_outputs=scaling.output_factor.tolist(),
    )
    box = {
        i: (float(lo), float(hi))
        for i, (lo, hi) in enumerate(zip(scaling.scaled_lower, scaling.scaled_upper, strict=True))
    }
    definition = load_onnx_neural_network(onnx.load(str(onnx_path)), scaler, box)
    block = OmltBlock()
    parent.add_component(name, block)  # OMLT builds only inside a model
    block.build_formulation(ReluBigMFormulation(definition))
    block.definition = definition  # plain attribute: for the output bounds below
    return block


def omlt_output_bounds(block: OmltBlock, scaling: Scaling) -> tuple[np.ndarray, np.ndarray]:
    """The bounds OMLT computed for the last layer's (scaled) outputs, in engineering units."""
    (last,) = block.definition.output_layers
    z = block.layer[id(last)].z
    lower = np.array([float(z[k].lb) for k in z], dtype=np.float64)
    upper = np.array([float(z[k].ub) for k in z], dtype=np.float64)
    return (
        lower * scaling.output_factor + scaling.output_offset,
        upper * scaling.output_factor + scaling.output_offset,
    )


def io_vars(block: pyo.Block, n_in: int, n_out: int) -> tuple[list[pyo.Var], list[pyo.Var]]:
    return [block.inputs[i] for i in range(n_in)], [block.outputs[k] for k in range(n_out)]


# -- the reformer problem ---------------------------------------------------------------------------------
def add_reformer_problem(model: pyo.ConcreteModel, outputs: list[pyo.Var], scaling: Scaling) -> None:
    """OMLT's problem on the prediction variables: maximise H2 subject to N2 <= N2_MAX."""
    model.h2 = pyo.Objective(expr=outputs[scaling.output("H2")], sense=pyo.maximize)
    model.n2 = pyo.Constraint(expr=outputs[scaling.output("N2")] <= N2_MAX)


def build_reformer_omlt(scaling: Scaling) -> Built:
    """OMLT, as in its reformer notebook."""
    m = pyo.ConcreteModel()
    omlt_block(m, "reformer", REFORMER_ONNX, scaling)
    inputs, outputs = io_vars(m.reformer, len(scaling.inputs), len(scaling.outputs))
    add_reformer_problem(m, outputs, scaling)
    return Built(m, [(inputs, outputs)])


def build_reformer_pyomo_nn(scaling: Scaling, bounds: str | None) -> Built:
    """pyomo-nn: the network in engineering units, a block on the user's variables."""
    net = pnn.load_onnx(REFORMER_ONNX).scaled(
        input_offset=scaling.input_offset,
        input_factor=scaling.input_factor,
        output_offset=scaling.output_offset,
        output_factor=scaling.output_factor,
    )
    n_in, n_out = len(scaling.inputs), len(scaling.outputs)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(n_in), bounds=lambda _, i: (scaling.input_lower[i], scaling.input_upper[i]))
    m.y = pyo.Var(range(n_out))
    m.reformer = pnn.NetworkBlock(net, bounds, inputs=m.x, outputs=m.y)
    inputs, outputs = [m.x[i] for i in range(n_in)], [m.y[k] for k in range(n_out)]
    add_reformer_problem(m, outputs, scaling)
    return Built(m, [(inputs, outputs)])


# -- the plant --------------------------------------------------------------------------------------------
def build_plant_omlt(scaling: Scaling) -> Built:
    """The plant with one OmltBlock per train, the example's rows on OMLT's variables."""
    m = pyo.ConcreteModel()
    m.units = pyo.Block(list(plant.SIZES))
    networks = []
    for u, size in plant.SIZES.items():
        unit = m.units[u]
        omlt_block(unit, "reformer", FLOWS_ONNX, scaling)
        inputs, outputs = io_vars(unit.reformer, len(scaling.inputs), len(scaling.outputs))
        plant.add_train_rows(unit, size, *inputs, outputs, *omlt_output_bounds(unit.reformer, scaling))
        networks.append((inputs, outputs))
    plant.add_plant_rows(m)
    return Built(m, networks)


def build_plant_pyomo_nn(bounds: str | None) -> Built:
    """The example's own model (``reformer_plant.build_plant``: the bounds computed once, shared
    by the three blocks)."""
    m = plant.build_plant(plant.load_flows_network(), bounds)
    networks = [([m.units[u].bypass, m.units[u].ratio], list(m.units[u].out.values())) for u in plant.SIZES]
    return Built(m, networks)


# -- timing, solving, checking ----------------------------------------------------------------------------
def time_builds(
    builders: dict[str, Callable[[], Built]], repeats: int
) -> tuple[dict[str, Built], dict[str, float]]:
    """Alternate the tools' builds (order reversed each round), ``repeats`` rounds; best time of each."""
    best = dict.fromkeys(builders, float("inf"))
    built: dict[str, Built] = {}
    names = list(builders)
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else names[::-1]:
            gc.collect()
            start = time.perf_counter()
            built[name] = builders[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return built, best


def count_binaries(model: pyo.ConcreteModel) -> int:
    """Unfixed binary variables of the model."""
    return sum(
        1 for v in model.component_data_objects(pyo.Var, descend_into=True) if v.is_binary() and not v.fixed
    )


def solve_into(run: ToolRun, built: Built, settings: SolveSettings) -> None:
    """Solve with HiGHS through pyomo.contrib.solver (same call for every tool), once per random
    seed; record the median times and the last solve's answer in ``run``."""
    walls, highs_times, nodes, simplex = [], [], [], []
    for seed in range(settings.seeds):
        solver = ContribSolverFactory("highs")
        start = time.perf_counter()
        results = solver.solve(
            built.model,
            time_limit=settings.time_limit,
            rel_gap=settings.mip_gap,
            solver_options={**dict(settings.options), "random_seed": seed},
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
        )
        walls.append(time.perf_counter() - start)
        highs_times.append(float(getattr(results.timing_info, "highs_time", float("nan"))))
        info = dict(results.extra_info.items())
        nodes.append(float(info.get("mip_node_count", float("nan"))))
        simplex.append(float(info.get("simplex_iteration_count", float("nan"))))
    run.solve_seconds = statistics.median(walls)
    run.highs_seconds = statistics.median(highs_times)
    run.nodes, run.simplex = statistics.median(nodes), statistics.median(simplex)
    run.status = STATUS_NAMES.get(results.termination_condition, results.termination_condition.name)
    if results.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal):
        results.solution_loader.load_vars()
        run.objective = _finite(results.incumbent_objective)
        run.decisions, run.predictions = built.decisions(), built.predictions()
    run.dual_bound = _finite(results.objective_bound)


def onnxruntime_outputs(onnx_path: Path, scaling: Scaling, x: np.ndarray) -> np.ndarray:
    """The network's prediction at ``x`` (engineering units) by onnxruntime, in scaled units."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    scaled = ((x - scaling.input_offset) / scaling.input_factor).astype(np.float32)[None]
    (y,) = session.run(None, {session.get_inputs()[0].name: scaled})
    return y[0].astype(np.float64)


def check_against_onnxruntime(run: ToolRun, onnx_path: Path, scaling: Scaling) -> None:
    """Largest difference between the model's outputs and onnxruntime's at the decisions."""
    if run.decisions is None:
        return
    diffs = []
    for x, prediction in zip(run.decisions, run.predictions, strict=True):
        reference = onnxruntime_outputs(onnx_path, scaling, x)
        scaled = (prediction - scaling.output_offset) / scaling.output_factor
        diffs.append(float(np.max(np.abs(scaled - reference))))
    run.ort_diff = max(diffs)
    if run.ort_diff > ORT_ATOL:
        run.notes.append(f"WARNING: outputs differ from onnxruntime by {run.ort_diff:.1e} (scaled units)")


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _num(value: float | None, spec: str = ".6f") -> str:
    return "-" if value is None else format(value, spec)


# -- the benchmark ----------------------------------------------------------------------------------------
def pyomo_nn_name(method: str) -> str:
    return "pyomo-nn" if method == "default" else f"pnn {method}"


def run_problem(
    problem: str,
    builders: dict[str, Callable[[], Built]],
    onnx_path: Path,
    scaling: Scaling,
    settings: SolveSettings,
    repeats: int,
) -> tuple[dict[str, ToolRun], list[str]]:
    """Build, solve and check one problem with every tool."""
    built, seconds = time_builds(builders, repeats)
    runs: dict[str, ToolRun] = {}
    for name, model in built.items():
        run = ToolRun(binaries=count_binaries(model.model), build_seconds=seconds[name])
        solve_into(run, model, settings)
        check_against_onnxruntime(run, onnx_path, scaling)
        runs[name] = run
    notes = [f"{name}: {note}" for name, run in runs.items() for note in run.notes]
    objectives = [run.objective for run in runs.values()]
    if all(run.status == "optimal" for run in runs.values()) and None not in objectives:
        spread = max(objectives) - min(objectives)
        verdict = "equal" if spread <= OBJECTIVE_ATOL else "WARNING: differ"
        notes.append(f"optimal objectives {verdict} to {OBJECTIVE_ATOL:g} (spread {spread:.1e})")
    else:
        notes.append(
            "WARNING: not every tool reached optimal: " + str({n: r.status for n, r in runs.items()})
        )
    notes.append(own_adapter_note(builders[next(n for n in builders if n != "OMLT")], settings))
    for name, run in runs.items():
        if run.decisions is not None:
            decision = "; ".join(", ".join(f"{v:.5f}" for v in x) for x in run.decisions)
            notes.append(
                f"{name}: decision ({', '.join(scaling.inputs)}) {decision}; "
                f"max |outputs - onnxruntime| {run.ort_diff:.1e} (scaled units)"
            )
    return runs, notes


def own_adapter_note(build: Callable[[], Built], settings: SolveSettings) -> str:
    """The pyomo-nn model solved as its users solve it: ``pnn.solve`` (highspy directly, MIP start,
    onnxruntime re-check of every block) with the same HiGHS settings."""
    built = build()
    options = {name: value for name, value in settings.options if name not in HIGHS_DEFAULT_OPTIONS}
    result = pnn.solve(
        built.model, "highs", time_limit=settings.time_limit, mip_gap=settings.mip_gap, options=options
    )
    return (
        f"pyomo-nn through pnn.solve (its highspy adapter): {result.status}, objective "
        f"{_num(result.objective)}, {result.wall_time:.3f} s, onnxruntime re-check of "
        f"{len(result.blocks)} block(s) {'passed' if result.verified else 'FAILED (WARNING)'}"
    )


COLUMNS = (
    ("problem", "<10"),
    ("tool", "<18"),
    ("binaries", ">9"),
    ("build s", ">9"),
    ("solve s", ">9"),
    ("highs s", ">9"),
    ("total s", ">9"),
    ("nodes", ">8"),
    ("simplex", ">9"),
    ("objective", ">12"),
    ("dual bound", ">12"),
    ("status", ">10"),
)


def format_table(problem: str, runs: dict[str, ToolRun]) -> list[str]:
    """One line per tool, then per pyomo-nn variant a line of OMLT / pyomo-nn time ratios."""
    lines = []
    for name, run in runs.items():
        cells = (
            problem,
            name,
            str(run.binaries),
            f"{run.build_seconds:.4f}",
            f"{run.solve_seconds:.3f}",
            f"{run.highs_seconds:.3f}",
            f"{run.build_seconds + run.solve_seconds:.3f}",
            f"{run.nodes:.0f}",
            f"{run.simplex:.0f}",
            _num(run.objective),
            _num(run.dual_bound),
            run.status,
        )
        lines.append("".join(format(cell, spec) for cell, (_, spec) in zip(cells, COLUMNS, strict=True)))
    omlt = runs.get("OMLT")
    for name, run in runs.items():
        if omlt is None or name == "OMLT":
            continue
        label = f"OMLT/{name.replace('pyomo-nn', 'pnn')}"
        total = (omlt.build_seconds + omlt.solve_seconds) / (run.build_seconds + run.solve_seconds)
        lines.append(
            f"{problem:<10}{label:<18}{'':>9}"
            f"{omlt.build_seconds / run.build_seconds:>8.1f}x{omlt.solve_seconds / run.solve_seconds:>8.1f}x"
            f"{omlt.highs_seconds / run.highs_seconds:>8.1f}x{total:>8.1f}x"
            f"{omlt.nodes / max(run.nodes, 1):>7.1f}x{omlt.simplex / max(run.simplex, 1):>8.1f}x"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the problems with every tool and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve (default 120)")
    parser.add_argument("--mip-gap", type=float, default=1e-9, help="relative and absolute MIP gap (1e-9)")
    parser.add_argument("--repeats", type=int, default=5, help="build rounds, best time kept (default 5)")
    parser.add_argument("--seeds", type=int, default=1, help="HiGHS random seeds per solve, median (1)")
    parser.add_argument(
        "--bounds",
        default=",".join(BOUND_METHODS),
        help=f"pyomo-nn bound methods, comma-separated (default {','.join(BOUND_METHODS)})",
    )
    parser.add_argument("--only", choices=("reformer", "plant"), help="run one problem")
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.bounds.split(",") if m.strip()]
    options = {**HIGHS_DEFAULT_OPTIONS, "mip_abs_gap": args.mip_gap}
    settings = SolveSettings(args.time_limit, args.mip_gap, tuple(options.items()), args.seeds)
    # OMLT initialises its variables at 0, outside boxes like the bypass fraction's [0.1, 0.8];
    # Pyomo logs a W1002 warning per variable. Silenced for both tools.
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)

    print(
        f"pyomo-nn {pnn.__version__} vs OMLT {version('omlt')} (OffsetScaling + ReluBigMFormulation), "
        f"pyomo {version('pyomo')}, HiGHS {version('highspy')} via pyomo.contrib.solver; "
        f"time limit {args.time_limit:g} s, mip gap {args.mip_gap:g} (relative and absolute), "
        f"median of {args.seeds} seed(s)"
        + "".join(f", {name}={value}" for name, value in HIGHS_DEFAULT_OPTIONS.items())
    )
    total = time.perf_counter()
    header = "".join(format(title, spec) for title, spec in COLUMNS)
    lines, all_notes = [header, "-" * len(header)], []

    def bounds_of(method: str) -> str | None:
        return None if method == "default" else method

    reformer = Scaling.from_file(REFORMER_SCALING)
    flows = Scaling.from_file(FLOWS_SCALING)
    problems = {
        "reformer": (
            {
                **{
                    pyomo_nn_name(m): (lambda m=m: build_reformer_pyomo_nn(reformer, bounds_of(m)))
                    for m in methods
                },
                "OMLT": lambda: build_reformer_omlt(reformer),
            },
            REFORMER_ONNX,
            reformer,
        ),
        "plant": (
            {
                **{pyomo_nn_name(m): (lambda m=m: build_plant_pyomo_nn(bounds_of(m))) for m in methods},
                "OMLT": lambda: build_plant_omlt(flows),
            },
            FLOWS_ONNX,
            flows,
        ),
    }
    for problem, (builders, onnx_path, scaling) in problems.items():
        if args.only not in (None, problem):
            continue
        runs, notes = run_problem(problem, builders, onnx_path, scaling, settings, args.repeats)
        lines.extend(format_table(problem, runs))
        all_notes.extend(f"{problem}: {note}" for note in notes)
    print("\n".join(lines))
    print()
    print("\n".join(f"  - {note}" for note in all_notes))
    print(f"\ntotal {time.perf_counter() - total:.1f} s")
    return 1 if any("WARNING" in note for note in all_notes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
