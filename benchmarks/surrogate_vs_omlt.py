"""pyomo-nn against OMLT on a network used as a surrogate inside a process model (issue 12).

The problem is OMLT's auto-thermal reformer example: the ReLU regression network
``examples/data/reformer_relu.onnx`` (2 -> 10 x 4 -> 12, scaled inputs to scaled outputs, written
by ``examples/train_reformer.py``) with its scaling ``examples/data/reformer_scaling.json``
(``x_scaled = (x - offset) / factor``, ``y = y_scaled * factor + offset``); maximise the H2 mole
fraction subject to N2 <= 0.34 over the data's input box (bypass fraction, NG steam ratio).

Each tool builds the model from the ONNX file and the scaling:

- OMLT: its ONNX reader (``omlt.io.onnx.load_onnx_neural_network``, the reader behind
  ``load_onnx_neural_network_with_bounds``) with an ``OffsetScaling`` and the scaled input box,
  an ``OmltBlock`` with ``ReluBigMFormulation`` (OMLT's own interval bounds); the objective and
  the constraint on ``block.outputs`` (OMLT's unscaled outputs), as in OMLT's notebook;
- pyomo-nn: see :func:`build_pyomo_nn`.

Both models are solved by the same call: HiGHS through ``pyomo.contrib.solver`` with pyomo-nn's
HiGHS defaults (``HIGHS_DEFAULT_OPTIONS``: feasibility tolerances 1e-9) and gaps of 1e-9, so
that the optima can be compared to 1e-6. Build time runs from the ONNX file on disk to a
finished model with objective and constraint (best of ``--repeats``, the tools alternating in
one process); solve time is the wall time of the solver call. Each decision is re-evaluated with
onnxruntime. Needs OMLT (``pip install -e ".[bench]"``); a few seconds::

    python benchmarks/surrogate_vs_omlt.py [--time-limit 120] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
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

DATA_DIR = Path(__file__).resolve().parents[1] / "examples" / "data"
REFORMER_ONNX = DATA_DIR / "reformer_relu.onnx"
REFORMER_SCALING = DATA_DIR / "reformer_scaling.json"
#: OMLT's constraint: N2 mole fraction of the product at most this.
N2_MAX = 0.34
#: The two tools' optimal objectives must agree this closely.
OBJECTIVE_ATOL = 1e-6
#: A model's outputs must match onnxruntime at its decision this closely, in scaled units
#: (onnxruntime computes in float32).
ORT_ATOL = 1e-5
STATUS_NAMES = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.maxTimeLimit: "time_limit",
}


@dataclass(frozen=True)
class Scaling:
    """The network's scaling and input box, read from ``reformer_scaling.json``."""

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
    """A finished model and its decision and prediction variables (engineering units)."""

    model: pyo.ConcreteModel
    inputs: list[pyo.Var]
    outputs: list[pyo.Var]

    def decision(self) -> np.ndarray:
        return np.array([pyo.value(var) for var in self.inputs], dtype=np.float64)

    def prediction(self) -> np.ndarray:
        return np.array([pyo.value(var) for var in self.outputs], dtype=np.float64)


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
    decision: np.ndarray | None = None
    prediction: np.ndarray | None = None
    ort_diff: float | None = None  # max |model outputs - onnxruntime| at the decision, scaled units
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SolveSettings:
    """Identical HiGHS settings for both tools."""

    time_limit: float
    mip_gap: float
    options: tuple[tuple[str, bool | int | float | str], ...]


# -- the reformer problem, once per tool ------------------------------------------------------------------
def add_reformer_problem(model: pyo.ConcreteModel, outputs: list[pyo.Var], scaling: Scaling) -> None:
    """OMLT's problem on the prediction variables: maximise H2 subject to N2 <= N2_MAX."""
    model.h2 = pyo.Objective(expr=outputs[scaling.output("H2")], sense=pyo.maximize)
    model.n2 = pyo.Constraint(expr=outputs[scaling.output("N2")] <= N2_MAX)


def build_omlt(onnx_path: Path, scaling: Scaling) -> Built:
    """OMLT: ONNX reader + OffsetScaling + ReluBigMFormulation, as in OMLT's reformer notebook."""
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
    m = pyo.ConcreteModel()
    m.reformer = OmltBlock()
    m.reformer.build_formulation(ReluBigMFormulation(definition))
    inputs = [m.reformer.inputs[i] for i in range(len(scaling.inputs))]
    outputs = [m.reformer.outputs[k] for k in range(len(scaling.outputs))]
    add_reformer_problem(m, outputs, scaling)
    return Built(m, inputs, outputs)


# ---------------------------------------------------------------------------------------------------------
# PYOMO-NN SIDE. Phase 1 of issue 12: the current API, i.e. the network in scaled units over the
# scaled input box, tied to the user's own unscaled variables by linking equalities.
# Phase 2 replaces the body with the new API (no linking rows):
#     net = pnn.load_onnx(path).scaled(input_offset=..., input_factor=..., output_offset=...,
#                                      output_factor=...)
#     m.reformer = pnn.NetworkBlock(net, inputs=[m.x[i] ...], outputs=[m.y[k] ...])
# ---------------------------------------------------------------------------------------------------------
def build_pyomo_nn(onnx_path: Path, scaling: Scaling) -> Built:
    """pyomo-nn with the current API: interval bounds over the scaled box, linking equalities."""
    net = pnn.load_onnx(onnx_path)
    bounds = pnn.compute_bounds(net, pnn.Box(scaling.scaled_lower, scaling.scaled_upper), method="interval")
    n_in, n_out = len(scaling.inputs), len(scaling.outputs)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(n_in), bounds=lambda _, i: (scaling.input_lower[i], scaling.input_upper[i]))
    m.y = pyo.Var(range(n_out))
    m.reformer = pnn.NetworkBlock(net, bounds)
    x_off, x_fac = scaling.input_offset, scaling.input_factor
    y_off, y_fac = scaling.output_offset, scaling.output_factor
    m.link_inputs = pyo.Constraint(
        range(n_in), rule=lambda m, i: m.reformer.inputs[i] == (m.x[i] - x_off[i]) / x_fac[i]
    )
    m.link_outputs = pyo.Constraint(
        range(n_out), rule=lambda m, k: m.y[k] == m.reformer.outputs[k] * y_fac[k] + y_off[k]
    )
    inputs = [m.x[i] for i in range(n_in)]
    outputs = [m.y[k] for k in range(n_out)]
    add_reformer_problem(m, outputs, scaling)
    return Built(m, inputs, outputs)


# -- timing, solving, checking ----------------------------------------------------------------------------
def time_builds(
    builders: dict[str, Callable[[], Built]], repeats: int
) -> tuple[dict[str, Built], dict[str, float]]:
    """Alternate the tools' builds (order swapped each round), ``repeats`` rounds; best time of each."""
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
    """Solve with HiGHS through pyomo.contrib.solver (same call for both tools); record it in ``run``."""
    solver = ContribSolverFactory("highs")
    start = time.perf_counter()
    results = solver.solve(
        built.model,
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
        run.decision, run.prediction = built.decision(), built.prediction()
    run.dual_bound = _finite(results.objective_bound)


def onnxruntime_outputs(onnx_path: Path, scaling: Scaling, x: np.ndarray) -> np.ndarray:
    """The network's prediction at ``x`` (engineering units) by onnxruntime, in scaled units."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    scaled = ((x - scaling.input_offset) / scaling.input_factor).astype(np.float32)[None]
    (y,) = session.run(None, {session.get_inputs()[0].name: scaled})
    return y[0].astype(np.float64)


def check_against_onnxruntime(run: ToolRun, onnx_path: Path, scaling: Scaling) -> None:
    """Largest difference between the model's outputs and onnxruntime's at the decision."""
    if run.decision is None:
        return
    reference = onnxruntime_outputs(onnx_path, scaling, run.decision)
    scaled = (run.prediction - scaling.output_offset) / scaling.output_factor
    run.ort_diff = float(np.max(np.abs(scaled - reference)))
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
def run_reformer(settings: SolveSettings, repeats: int) -> tuple[dict[str, ToolRun], list[str]]:
    """Build, solve and check the reformer problem with both tools."""
    scaling = Scaling.from_file(REFORMER_SCALING)
    builders = {
        "pyomo-nn": lambda: build_pyomo_nn(REFORMER_ONNX, scaling),
        "OMLT": lambda: build_omlt(REFORMER_ONNX, scaling),
    }
    built, seconds = time_builds(builders, repeats)
    runs: dict[str, ToolRun] = {}
    for name, model in built.items():
        run = ToolRun(binaries=count_binaries(model.model), build_seconds=seconds[name])
        solve_into(run, model, settings)
        check_against_onnxruntime(run, REFORMER_ONNX, scaling)
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
    notes.append(own_adapter_note(builders["pyomo-nn"], settings))
    h2, n2 = scaling.output("H2"), scaling.output("N2")
    for name, run in runs.items():
        if run.decision is not None:
            notes.append(
                f"{name}: "
                + ", ".join(f"{n} {v:.5f}" for n, v in zip(scaling.inputs, run.decision, strict=True))
                + f"; H2 {run.prediction[h2]:.5f}, N2 {run.prediction[n2]:.5f}; "
                f"max |outputs - onnxruntime| {run.ort_diff:.1e} (scaled units)"
            )
    return runs, notes


def own_adapter_note(build: Callable[[], Built], settings: SolveSettings) -> str:
    """The pyomo-nn model solved as its users solve it: ``pnn.solve`` (highspy directly, MIP start,
    onnxruntime re-check) with the same HiGHS settings."""
    built = build()
    options = {name: value for name, value in settings.options if name not in HIGHS_DEFAULT_OPTIONS}
    result = pnn.solve(
        built.model, "highs", time_limit=settings.time_limit, mip_gap=settings.mip_gap, options=options
    )
    return (
        f"pyomo-nn through pnn.solve (its highspy adapter): {result.status}, objective "
        f"{_num(result.objective)}, {result.wall_time:.3f} s, onnxruntime re-check "
        f"{'passed' if result.verified else 'FAILED (WARNING)'}"
    )


COLUMNS = (
    ("problem", "<10"),
    ("tool", "<10"),
    ("binaries", ">9"),
    ("build s", ">9"),
    ("solve s", ">9"),
    ("highs s", ">9"),
    ("total s", ">9"),
    ("objective", ">12"),
    ("dual bound", ">12"),
    ("status", ">10"),
)


def format_table(problem: str, runs: dict[str, ToolRun]) -> list[str]:
    """One line per tool and a line of OMLT / pyomo-nn time ratios."""
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
            _num(run.objective),
            _num(run.dual_bound),
            run.status,
        )
        lines.append("".join(format(cell, spec) for cell, (_, spec) in zip(cells, COLUMNS, strict=True)))
    if {"OMLT", "pyomo-nn"} <= set(runs):
        a, b = runs["pyomo-nn"], runs["OMLT"]
        lines.append(
            f"{problem:<10}{'OMLT/pnn':<10}{'':>9}"
            f"{b.build_seconds / a.build_seconds:>8.1f}x{b.solve_seconds / a.solve_seconds:>8.1f}x"
            f"{'':>9}{(b.build_seconds + b.solve_seconds) / (a.build_seconds + a.solve_seconds):>8.1f}x"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the reformer problem with both tools and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve (default 120)")
    parser.add_argument("--mip-gap", type=float, default=1e-9, help="relative and absolute MIP gap (1e-9)")
    parser.add_argument("--repeats", type=int, default=5, help="build rounds, best time kept (default 5)")
    args = parser.parse_args(argv)
    options = {**HIGHS_DEFAULT_OPTIONS, "mip_abs_gap": args.mip_gap}
    settings = SolveSettings(args.time_limit, args.mip_gap, tuple(options.items()))
    # OMLT initialises its variables at 0, outside boxes like the bypass fraction's [0.1, 0.8];
    # Pyomo logs a W1002 warning per variable. Silenced for both tools.
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)

    print(
        f"pyomo-nn {pnn.__version__} vs OMLT {version('omlt')} (OffsetScaling + ReluBigMFormulation), "
        f"pyomo {version('pyomo')}, HiGHS {version('highspy')} via pyomo.contrib.solver; "
        f"time limit {args.time_limit:g} s, mip gap {args.mip_gap:g} (relative and absolute)"
        + "".join(f", {name}={value}" for name, value in HIGHS_DEFAULT_OPTIONS.items())
    )
    total = time.perf_counter()
    header = "".join(format(title, spec) for title, spec in COLUMNS)
    lines, all_notes = [header, "-" * len(header)], []
    runs, notes = run_reformer(settings, args.repeats)
    lines.extend(format_table("reformer", runs))
    all_notes.extend(f"reformer: {note}" for note in notes)
    print("\n".join(lines))
    print()
    print("\n".join(f"  - {note}" for note in all_notes))
    print(f"\ntotal {time.perf_counter() - total:.1f} s")
    return 1 if any("WARNING" in note for note in all_notes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
