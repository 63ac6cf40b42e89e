"""End to end with defaults only: pyomo-nn vs OMLT, from the ONNX file to a proven optimum.

Each tool runs as a user writes it, with its defaults (issue 14):

- pyomo-nn: ``pnn.load_onnx(path)``, ``pnn.compute_bounds(net, domain)`` (no method: ``auto``),
  ``pnn.NetworkBlock(net, bounds)``, the objective, ``pnn.solve(m)``. For reference also with
  ``method="symbolic"`` and ``method="interval"`` (the bounds OMLT computes);
- OMLT: ``omlt.io.load_onnx_neural_network(onnx.load(path), input_bounds=<the L-inf box>)``,
  ``OmltBlock`` + ``ReluBigMFormulation`` (its default bounds: interval arithmetic from the
  input box, inside ``build_formulation``), the same objective, HiGHS through
  ``pyomo.contrib.solver`` (the call of ``build_and_solve_vs_omlt.py``) with pyomo-nn's HiGHS
  defaults (``HIGHS_DEFAULT_OPTIONS``: feasibility tolerances 1e-9).

Every question: maximise ``logit[runner-up] - logit[label]`` over an L-inf ball around x0 clipped
to [0, 1], where ``runner-up`` is the strongest other class at x0. Stages: load (ONNX file to the
tool's network), bounds (pyomo-nn's ``compute_bounds``; OMLT's are inside its build), build
(block + objective), solve (the solver call; for pyomo-nn ``pnn.solve`` with its warm start and
onnxruntime re-check; column ``highs s`` is HiGHS' own run time inside it). Node counts: HiGHS'
``mip_node_count`` (OMLT: ``extra_info`` of Pyomo's results; pyomo-nn: ``pnn.solve``'s Result
has no node count, so the script reads it from the HiGHS instance ``pnn.solve`` creates).
Pipelines under ``REPEAT_BELOW_SECONDS`` run ``--repeats`` times (tools alternating, order
rotated) and the fastest is kept. HiGHS' branch and bound varies by 2-4x with its random seed:
``--seeds N`` runs every pipeline with ``random_seed`` 0..N-1 (0, HiGHS' default, is not passed)
and shows each tool's run of median total time.

Usage::

    python benchmarks/defaults_vs_omlt.py            # ~6 min on 2 shared cores
    python benchmarks/defaults_vs_omlt.py --quick    # the six digits instances only
    python benchmarks/defaults_vs_omlt.py --quick --seeds 3 --repeats 1
    python benchmarks/defaults_vs_omlt.py --quick --variants all --root-bounds   # issue 14, items 2-3

``--variants`` adds pyomo-nn's default with one strengthening or HiGHS setting each (``VARIANTS``:
``bound_objective``, ``add_ideal_cuts``, ``mip_heuristic_effort``, sub-MIPs off), run side by side
with the other tools; ``--root-bounds`` prints upper bounds at the root (LP, LP with the ideal
cuts, the objective's bound, HiGHS' root node plain / with the cuts / with the bound).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np
import onnx
import pyomo.environ as pyo
from omlt_from_weights import omlt_definition
from pyomo.contrib.solver.common.factory import SolverFactory as ContribSolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

import pyomo_nn as pnn
import pyomo_nn.solvers.highs_adapter as highs_adapter
from pyomo_nn.blocks.objective_bound import bound_objective
from pyomo_nn.bundled import digits_network_path, digits_test_set
from pyomo_nn.solvers.highs_adapter import HIGHS_DEFAULT_OPTIONS
from pyomo_nn.solvers.ideal_cuts import add_ideal_cuts

try:
    from omlt import OmltBlock
    from omlt.io import load_onnx_neural_network
    from omlt.neuralnet import ReluBigMFormulation
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("this benchmark needs OMLT: pip install 'pyomo-nn[bench]' (or pip install omlt)")

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
CACHE = BENCH_DIR / ".cache"  # git-ignored: networks this script trains or writes
TRAIN_DIGITS = REPO_ROOT / "examples" / "train_digits.py"
SHARED_BENCH = REPO_ROOT.parent / "shared" / "bench"
MNIST_IMAGES = SHARED_BENCH / "mnist_images" / "mnist_test_first100.csv"
MNIST_256X2 = SHARED_BENCH / "mnist_fc" / "mnist-net_256x2.onnx"

#: Trained here (examples/train_digits.py, seed 0) into CACHE; the other two are bundled.
TRAINED_DIGITS = "64-100-100-10"
DIGITS = ("64-32-32-10", "64-50-50-50-10", TRAINED_DIGITS)
DIGITS_EPS = (0.05, 0.1)
#: What runs on every instance: OMLT, then pyomo-nn with its default and two named methods.
BASE_TOOLS = ("omlt", "auto", "symbolic", "interval")
#: ``--variants``: pyomo-nn's default plus one strengthening or HiGHS setting (issue 14, items 2-3);
#: each runs as tool ``auto+<name>``. objbound: ``bound_objective(m)`` (the objective's bound by
#: back-substitution as a constraint); ideal: ``add_ideal_cuts(m)`` (up to 10 rounds of the ideal ReLU
#: inequalities over the LP relaxation); both: the cuts, then the bound; heur0 / heur03: HiGHS
#: ``mip_heuristic_effort`` 0 / 0.3 (default 0.05); nofj: HiGHS' feasibility jump off;
#: nosubmip: RINS and RENS sub-MIPs off; ideal+nosubmip: the cuts and sub-MIPs off; nosearch: no
#: gradient-search start (``pnn.solve(search_start=False)``: the box centre and HiGHS' sub-MIPs, the
#: default before the search); nocutoff: the search's start without the objective cut-off
#: (``pnn.solve(objective_cutoff=False)``: no binaries fixed, the default before the cut-off);
#: gap1e-6: HiGHS' relative MIP gap 1e-6 instead of its 1e-4.
VARIANTS: dict[str, dict] = {
    "nosearch": {"search_start": False},
    "nocutoff": {"objective_cutoff": False},
    "gap1e-6": {"options": {"mip_rel_gap": 1e-6}},
    "objbound": {"objective_bound": True},
    "ideal": {"ideal_cuts": 10},
    "both": {"objective_bound": True, "ideal_cuts": 10},
    "heur0": {"options": {"mip_heuristic_effort": 0.0}},
    "heur03": {"options": {"mip_heuristic_effort": 0.3}},
    "nofj": {"options": {"mip_heuristic_run_feasibility_jump": False}},
    "nosubmip": {"options": {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}},
    "ideal+nosubmip": {
        "ideal_cuts": 10,
        "options": {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False},
    },
}
TOOLS: tuple[str, ...] = BASE_TOOLS  # main() adds the --variants
#: Proven optima of all runs of an instance must agree this closely, or within HiGHS' default
#: relative MIP gap (both tools stop there: a run started near the optimum may stop 1e-4 short).
OBJECTIVE_ATOL = 1e-6
HIGHS_DEFAULT_MIP_GAP = 1e-4
#: Repeat a pipeline (fastest of N kept) when one run of it takes less than this many seconds.
REPEAT_BELOW_SECONDS = 3.0
STAGES = ("load", "bounds", "build", "solve")
STATUS_NAMES = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.maxTimeLimit: "time_limit",
}


@dataclass(frozen=True)
class Instance:
    """One adversarial question on one ONNX file."""

    name: str
    path: Path
    x0: np.ndarray
    eps: float
    label: int
    runner_up: int
    digits: bool  # one of the six digits instances of issue 14

    @property
    def domain(self) -> pnn.LinfBall:
        return pnn.LinfBall(self.x0, eps=self.eps, lower=0.0, upper=1.0)


@dataclass
class Run:
    """One tool's pipeline on one instance."""

    tool: str
    seconds: dict[str, float] = field(default_factory=dict)  # per stage
    binaries: int = 0
    nodes: int | None = None
    highs_seconds: float = float("nan")  # HiGHS' own run time (inside the solve stage)
    status: str = "-"
    objective: float | None = None
    dual_bound: float | None = None
    forward_objective: float | None = None  # objective by a numpy forward pass at the solution
    method: str = "-"  # the bound method that ran (pyomo-nn)
    choice: str = ""  # auto's reason
    strengthening: str = ""  # what a variant added (objective bound, LP bounds before/after cuts)
    note: str = ""  # e.g. OMLT's reader refused the file
    start: str = ""  # pyomo-nn: the gradient-search start pnn.solve gave HiGHS
    cutoff: str = ""  # pyomo-nn: what the objective cut-off decided before HiGHS
    all_runs: list[Run] = field(default_factory=list)  # with --seeds: this tool's run for each seed

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


# -- instances --------------------------------------------------------------------------------------------
def question(name: str, path: Path, x0: np.ndarray, eps: float, label: int | None, digits: bool) -> Instance:
    """``label`` (the net's prediction at x0 if None) against the strongest other class at x0."""
    logits = pnn.load_onnx(path).forward(x0)
    cls = int(np.argmax(logits)) if label is None else int(label)
    rivals = logits.copy()
    rivals[cls] = -np.inf
    return Instance(name, path, np.asarray(x0, dtype=np.float64), eps, cls, int(np.argmax(rivals)), digits)


def trained_digits_path(architecture: str) -> Path:
    """The digits network ``architecture`` in CACHE, trained by examples/train_digits.py if missing."""
    path = CACHE / f"digits_{architecture}.onnx"
    if not path.exists():
        print(
            f"... training digits {architecture} into {CACHE} (examples/train_digits.py, seed 0)", flush=True
        )
        command = [
            sys.executable,
            str(TRAIN_DIGITS),
            "--architectures",
            architecture,
            "--out-dir",
            str(CACHE),
        ]
        subprocess.run(command, check=True)
    return path


def random_mlp_path(sizes: list[int], seed: int) -> Path:
    """The random He-scaled MLP of build_and_solve_vs_omlt.py, written to CACHE as ONNX.

    ``pnn.save_onnx`` leaves Gemm's ``alpha``/``beta`` at their ONNX defaults (absent); OMLT's
    reader requires them (KeyError 'alpha'), so they are written out, as torch's exporter does.
    """
    path = CACHE / f"random_{'-'.join(map(str, sizes))}_seed{seed}.onnx"
    if not path.exists():
        rng = np.random.default_rng(seed)
        pairs = list(itertools.pairwise(sizes))
        weights = [rng.normal(0.0, np.sqrt(2.0 / n_in), (n_out, n_in)) for n_in, n_out in pairs]
        biases = [rng.normal(0.0, 0.01, n_out) for n_out in sizes[1:]]
        CACHE.mkdir(parents=True, exist_ok=True)
        pnn.save_onnx(pnn.Network.mlp(weights, biases), path)
        model = onnx.load(str(path))
        for node in model.graph.node:
            present = {attribute.name for attribute in node.attribute}
            if node.op_type == "Gemm":
                node.attribute.extend(
                    onnx.helper.make_attribute(name, 1.0) for name in ("alpha", "beta") if name not in present
                )
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
    return path


def instances(quick: bool, deep: bool) -> tuple[list[Instance], list[str]]:
    """The six digits instances, then (unless ``quick``) the 784-input ones; notes on skips."""
    images, labels = digits_test_set()
    found = []
    for architecture in DIGITS:
        path = (
            trained_digits_path(architecture)
            if architecture == TRAINED_DIGITS
            else digits_network_path(architecture)
        )
        for eps in DIGITS_EPS:
            found.append(question(f"digits {architecture}", path, images[0], eps, int(labels[0]), True))
    notes = []
    if quick:
        return found, notes
    if not MNIST_IMAGES.exists():
        notes.append(f"skipped the 784-input instances: {MNIST_IMAGES} not found")
        return found, notes
    row = np.loadtxt(MNIST_IMAGES, delimiter=",", max_rows=1)
    x0, label = row[1:] / 255.0, int(row[0])
    if MNIST_256X2.exists():
        found.append(question("mnist-net_256x2", MNIST_256X2, x0, 0.02, label, False))
    else:
        notes.append(f"skipped mnist-net_256x2: {MNIST_256X2} not found")
    # Random weights: the reference class is the net's own prediction at x0.
    found.append(
        question("random 784-100-100-10", random_mlp_path([784, 100, 100, 10], 0), x0, 0.002, None, False)
    )
    if deep:
        found.append(
            question("random 784-200x5-10", random_mlp_path([784, *[200] * 5, 10], 1), x0, 2e-6, None, False)
        )
    else:
        notes.append("random 784-200x5-10 (eps 2e-6, ~50 s per solve) runs with --deep")
    return found, notes


# -- the pipelines ----------------------------------------------------------------------------------------
class Stopwatch:
    """Seconds per stage, in the order the stages run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start


@contextmanager
def recorded_highs() -> Iterator[list]:
    """The HiGHS instances pyomo-nn's adapter creates meanwhile (for their node counts)."""
    created: list = []
    original = highs_adapter.new_highs

    def recording():  # same signature as new_highs
        highs = original()
        created.append(highs)
        return highs

    highs_adapter.new_highs = recording
    try:
        yield created
    finally:
        highs_adapter.new_highs = original


def objective_expr(block: pyo.Block, instance: Instance) -> object:
    return block.outputs[instance.runner_up] - block.outputs[instance.label]


def run_pyomo_nn(
    instance: Instance, method: str, time_limit: float, seed: int
) -> tuple[Run, np.ndarray | None]:
    """pyomo-nn as the README teaches it; ``method`` "auto" means no method named; HiGHS'
    ``random_seed`` is set only for ``seed`` > 0 (0 is HiGHS' default)."""
    base, _, variant_name = method.partition("+")  # "auto+ideal+nosubmip": variant "ideal+nosubmip"
    variant = VARIANTS[variant_name] if variant_name else {}
    method = base
    watch = Stopwatch()
    with watch.stage("load"):
        net = pnn.load_onnx(instance.path)
    with watch.stage("bounds"):
        domain = pnn.LinfBall(instance.x0, eps=instance.eps, lower=0.0, upper=1.0)
        if method == "auto":
            bounds = pnn.compute_bounds(net, domain)
        else:
            bounds = pnn.compute_bounds(net, domain, method=method)
    with watch.stage("build"):
        m = pyo.ConcreteModel()
        m.nn = pnn.NetworkBlock(net, bounds)
        m.obj = pyo.Objective(expr=objective_expr(m.nn, instance), sense=pyo.maximize)
        # the strengthening of a variant counts as build time
        notes = []
        if variant.get("ideal_cuts"):
            notes.append(str(add_ideal_cuts(m, variant["ideal_cuts"])))
        if variant.get("objective_bound"):
            notes.append(str(bound_objective(m)))
    options = dict(variant.get("options", {}))
    if seed:
        options["random_seed"] = seed
    with recorded_highs() as created, watch.stage("solve"):
        result = pnn.solve(
            m,
            time_limit=time_limit,
            options=options or None,
            search_start=variant.get("search_start", True),
            objective_cutoff=variant.get("objective_cutoff", True),
        )
    run = Run(
        method if not variant_name else f"{method}+{variant_name}",
        watch.seconds,
        binaries=count_binaries(m),
        method=bounds.method,
        choice=bounds.choice,
        strengthening="; ".join(notes),
    )
    if len(created) == 1:
        run.nodes = max(int(created[0].getInfo().mip_node_count), 0)  # -1: an LP (every binary fixed)
        run.highs_seconds = float(created[0].getRunTime())
    run.status, run.objective, run.dual_bound = result.status, result.objective, result.dual_bound
    run.start = result.start
    run.cutoff = result.cutoff
    return run, result.x


def run_omlt(
    instance: Instance, time_limit: float, options: dict, seed: int
) -> tuple[Run, np.ndarray | None]:
    """OMLT with its defaults: ONNX reader with the input box, ReluBigMFormulation, HiGHS."""
    watch = Stopwatch()
    # the L-inf ball clipped to [0, 1], as an OMLT user writes it (the same floats as LinfBall's box)
    lower = np.clip(instance.x0 - instance.eps, 0.0, 1.0)
    upper = np.clip(instance.x0 + instance.eps, 0.0, 1.0)
    note = ""
    with watch.stage("load"):
        box = {i: (float(lo), float(hi)) for i, (lo, hi) in enumerate(zip(lower, upper, strict=True))}
        try:
            definition = load_onnx_neural_network(onnx.load(str(instance.path)), input_bounds=box)
        except Exception as error:  # OMLT's reader fails on some valid files (Flatten, ...)
            note = (
                f"OMLT's ONNX reader failed ({type(error).__name__}: {error}); OMLT built from the "
                "weights instead (pnn.load_onnx + omlt_from_weights.omlt_definition; timed as load)"
            )
            definition = omlt_definition(pnn.load_onnx(instance.path), lower, upper)
    watch.seconds["bounds"] = 0.0  # inside build_formulation
    with watch.stage("build"):
        m = pyo.ConcreteModel()
        m.nn = OmltBlock()
        m.nn.build_formulation(ReluBigMFormulation(definition))
        m.obj = pyo.Objective(expr=objective_expr(m.nn, instance), sense=pyo.maximize)
    with watch.stage("solve"):
        results = ContribSolverFactory("highs").solve(
            m,
            time_limit=time_limit,
            solver_options={**options, "random_seed": seed} if seed else dict(options),
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
        )
    run = Run("omlt", watch.seconds, binaries=count_binaries(m), method="FBBT", note=note)
    run.status = STATUS_NAMES.get(results.termination_condition, results.termination_condition.name)
    nodes = getattr(results.extra_info, "mip_node_count", None)
    run.nodes = None if nodes is None else int(nodes)
    run.highs_seconds = float(getattr(results.timing_info, "highs_time", float("nan")))
    run.dual_bound = finite(results.objective_bound)
    x = None
    if results.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal):
        results.solution_loader.load_vars()
        run.objective = finite(results.incumbent_objective)
        x = np.array([pyo.value(m.nn.inputs[i]) for i in range(lower.size)], dtype=np.float64)
    return run, x


def count_binaries(model: pyo.ConcreteModel) -> int:
    return sum(
        1 for v in model.component_data_objects(pyo.Var, descend_into=True) if v.is_binary() and not v.fixed
    )


def finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def run_tool(tool: str, instance: Instance, args: argparse.Namespace, options: dict, seed: int = 0) -> Run:
    gc.collect()
    if tool == "omlt":
        run, x = run_omlt(instance, args.time_limit, options, seed)
    else:
        run, x = run_pyomo_nn(instance, tool, args.time_limit, seed)
    if x is not None:
        logits = pnn.load_onnx(instance.path).forward(x)
        run.forward_objective = float(logits[instance.runner_up] - logits[instance.label])
    return run


def run_instance(instance: Instance, args: argparse.Namespace, options: dict) -> dict[str, Run]:
    """Every tool on ``instance``, per HiGHS seed: fast pipelines repeated (order rotated),
    fastest kept; with several seeds, each tool's run of median total time is reported."""
    per_seed = []
    for seed in range(args.seeds):
        best: dict[str, Run] = {}
        for round_ in range(args.repeats):
            shift = round_ % len(TOOLS)
            for tool in TOOLS[shift:] + TOOLS[:shift]:
                if tool in best and best[tool].total >= REPEAT_BELOW_SECONDS:
                    continue
                run = run_tool(tool, instance, args, options, seed)
                if tool not in best or run.total < best[tool].total:
                    best[tool] = run
            if all(run.total >= REPEAT_BELOW_SECONDS for run in best.values()):
                break
        per_seed.append(best)
    median = {}
    for tool in TOOLS:
        runs = [best[tool] for best in per_seed]
        median[tool] = sorted(runs, key=lambda run: run.total)[(len(runs) - 1) // 2]
        median[tool].all_runs = runs
    return median


def warm_up(instance: Instance, args: argparse.Namespace, options: dict) -> None:
    """One untimed run per tool so that imports and first-call costs are not in the table."""
    for tool in TOOLS:
        run_tool(tool, instance, args, options)


# -- root bounds (issue 14, items 2-3) ----------------------------------------------------------------------
ROOT_COLUMNS = ("optimum", "LP", "LP+ideal", "obj sym", "obj alpha", "root", "root+ideal", "root+obj")


def root_bounds(instance: Instance) -> dict[str, float | None]:
    """Upper bounds on the optimum with the default's bounds: the Big-M LP relaxation, the same
    after the ideal cuts (up to 10 rounds), the objective's bound by symbolic and alpha back-substitution,
    and HiGHS' dual bound after its root node (``mip_max_nodes=1``) plain, with the ideal cuts
    and with the objective bound; and the optimum. Deterministic (no timing)."""

    def model() -> pyo.ConcreteModel:
        net = pnn.load_onnx(instance.path)
        m = pyo.ConcreteModel()
        m.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, instance.domain))
        m.obj = pyo.Objective(expr=objective_expr(m.nn, instance), sense=pyo.maximize)
        return m

    def root(m: pyo.ConcreteModel) -> float | None:
        return pnn.solve(m, options={"mip_max_nodes": 1}).dual_bound

    found: dict[str, float | None] = {"optimum": pnn.solve(model()).objective}
    m = model()
    report = add_ideal_cuts(m)
    found["LP"], found["LP+ideal"] = report.lp_bounds[0], report.lp_bounds[-1]
    found["root+ideal"] = root(m)
    for method in ("symbolic", "alpha"):
        found["obj sym" if method == "symbolic" else "obj alpha"] = bound_objective(
            model(), method=method, add=False
        ).bound
    found["root"] = root(model())
    m = model()
    bound_objective(m)
    found["root+obj"] = root(m)
    return found


# -- checks and report ------------------------------------------------------------------------------------
def checks(instance: Instance, median: dict[str, Run]) -> list[str]:
    """Same optimum (1e-6) for every run (every seed); no solution above a proven dual bound;
    the forward pass."""
    notes = []
    runs = {f"{tool} seed {seed}": run for tool, m in median.items() for seed, run in enumerate(m.all_runs)}
    optimal = {name: run.objective for name, run in runs.items() if run.status == "optimal"}
    if len(optimal) < len(runs):
        notes.append("WARNING: not all optimal: " + ", ".join(f"{t} {r.status}" for t, r in runs.items()))
    if optimal:
        spread = max(optimal.values()) - min(optimal.values())
        allowed = max(OBJECTIVE_ATOL, HIGHS_DEFAULT_MIP_GAP * max(abs(v) for v in optimal.values()))
        verdict = "same optimum" if spread <= allowed else "WARNING: optima differ"
        notes.append(
            f"{verdict}: max - min over {len(optimal)} optimal runs = {spread:.1e} "
            f"(tolerance {OBJECTIVE_ATOL:g}, or HiGHS' MIP gap {HIGHS_DEFAULT_MIP_GAP:g} x |optimum|: "
            f"{allowed:.1e})"
        )
    if len(median["omlt"].all_runs) > 1:
        notes.append(
            "total seconds per HiGHS seed: "
            + "; ".join(
                f"{tool} " + " ".join(f"{run.total:.2f}" for run in m.all_runs) for tool, m in median.items()
            )
        )
    for tool, run in runs.items():
        if run.objective is not None and abs(run.objective - run.forward_objective) > OBJECTIVE_ATOL:
            notes.append(
                f"WARNING: {tool}'s objective {run.objective:.9g}, forward pass at its solution "
                f"{run.forward_objective:.9g}"
            )
    for (tool, run), (other, other_run) in itertools.permutations(runs.items(), 2):
        if run.dual_bound is not None and other_run.forward_objective is not None:
            excess = other_run.forward_objective - run.dual_bound
            if excess > OBJECTIVE_ATOL:
                notes.append(f"WARNING: {other}'s solution is {excess:.1e} above {tool}'s proven dual bound")
    auto = median["auto"]
    notes.append(f"auto ran {auto.method!r}: {auto.choice}")
    notes.append(f"auto's start: {auto.start or 'box centre'}")
    notes.append(f"auto's {auto.cutoff or 'objective cut-off: did not run'}")
    notes.extend(
        f"{tool}: {run.strengthening}; nodes {num(run.nodes, 'd')} (default {num(auto.nodes, 'd')})"
        for tool, run in median.items()
        if run.strengthening
    )
    notes.extend(run.note for run in median.values() if run.note)
    return notes


def num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


COLUMNS = (
    ("instance", "<22"),
    ("eps", ">6"),
    ("tool", ">16"),
    ("bounds", ">9"),
    ("bin", ">5"),
    ("load s", ">8"),
    ("bounds s", ">9"),
    ("build s", ">8"),
    ("solve s", ">8"),
    ("total s", ">8"),
    ("highs s", ">8"),
    ("nodes", ">7"),
    ("status", ">9"),
    ("objective", ">12"),
    ("omlt/this", ">10"),
)


def header() -> list[str]:
    title = "".join(format(title, spec) for title, spec in COLUMNS)
    return [title, "-" * len(title)]


def table_rows(instance: Instance, runs: dict[str, Run]) -> list[str]:
    """One line per tool; the last column is OMLT's total time over this run's."""
    lines = []
    for tool, run in runs.items():
        s = run.seconds
        cells = (
            instance.name if tool == TOOLS[0] else "",
            f"{instance.eps:g}" if tool == TOOLS[0] else "",
            "OMLT" if tool == "omlt" else f"pnn {tool}" if tool != "auto" else "pnn",
            run.method,
            str(run.binaries),
            f"{s['load']:.3f}",
            "in build" if tool == "omlt" else f"{s['bounds']:.3f}",
            f"{s['build']:.3f}",
            f"{s['solve']:.2f}",
            f"{run.total:.2f}",
            f"{run.highs_seconds:.2f}",
            num(run.nodes, "d"),
            run.status,
            num(run.objective, ".7f"),
            f"{runs['omlt'].total / run.total:.1f}x",
        )
        lines.append("".join(format(cell, spec) for cell, (_, spec) in zip(cells, COLUMNS, strict=True)))
    return lines


def geomean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(values)))) if values else float("nan")


def summary(results: list[tuple[Instance, dict[str, Run]]]) -> list[str]:
    """Geometric means of the speed-ups of pyomo-nn's default, and the share of time per stage."""
    lines = []
    groups = [("six digits instances", [r for r in results if r[0].digits]), ("all instances", results)]
    for title, group in groups:
        if not group or (title == "all instances" and len(group) == len(groups[0][1])):
            continue
        lines.append(f"geometric mean over the {title} ({len(group)}), end to end:")
        for tool in TOOLS:
            if tool == "auto":
                continue
            ratio = geomean([runs[tool].total / runs["auto"].total for _, runs in group])
            name = "OMLT" if tool == "omlt" else f"pnn {tool}"
            lines.append(f"  pnn default vs {name:<19} {ratio:6.2f}x faster")
        for tool in TOOLS:
            if "+" not in tool:
                continue
            versus_omlt = geomean([runs["omlt"].total / runs[tool].total for _, runs in group])
            nodes = [runs[tool].nodes for _, runs in group]
            default_nodes = [runs["auto"].nodes for _, runs in group]
            lines.append(
                f"  pnn {tool:<19} vs OMLT {versus_omlt:6.2f}x faster; HiGHS nodes summed "
                f"{sum(n or 0 for n in nodes)} (default {sum(n or 0 for n in default_nodes)})"
            )
        dominated = [
            runs for _, runs in group if runs["symbolic"].seconds["solve"] >= 0.5 * runs["symbolic"].total
        ]
        ratio = geomean([runs["symbolic"].total / runs["auto"].total for runs in dominated])
        lines.append(
            f"  pnn default vs pnn symbolic where the MILP dominates (solve >= 50% of symbolic's time, "
            f"{len(dominated)} of {len(group)}): {ratio:.2f}x faster"
        )
    lines.append("")
    lines.append("share of time per stage (sum over the instances, per tool):")
    for title, group in groups:
        if not group or (title == "all instances" and len(group) == len(groups[0][1])):
            continue
        lines.append(f"  {title}:")
        for tool in TOOLS:
            totals = {stage: sum(runs[tool].seconds[stage] for _, runs in group) for stage in STAGES}
            whole = sum(totals.values())
            shares = "  ".join(f"{stage} {100 * totals[stage] / whole:5.1f}%" for stage in STAGES)
            highs = sum(runs[tool].highs_seconds for _, runs in group)
            name = "OMLT" if tool == "omlt" else f"pnn {tool}"
            lines.append(
                f"    {name:<19} {whole:8.2f} s   {shares}   (HiGHS' own run {100 * highs / whole:5.1f}%)"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the six digits instances only")
    parser.add_argument("--deep", action="store_true", help="also random 784-200x5-10 (~4 min more)")
    parser.add_argument(
        "--time-limit", type=float, default=300.0, help="seconds per solve, both tools (default 300)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="HiGHS random seeds 0..N-1 (0: HiGHS' default); the run of median total time is shown",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help=f"fastest of N for pipelines under {REPEAT_BELOW_SECONDS:g} s"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated substrings: run only the instances whose name holds one (e.g. 784,mnist)",
    )
    parser.add_argument(
        "--root-bounds",
        action="store_true",
        help="also print upper bounds at the root (LP, ideal cuts, objective bound, HiGHS' root node)",
    )
    parser.add_argument(
        "--variants",
        default="",
        help=f"comma-separated, or 'all': pyomo-nn's default with one of {', '.join(VARIANTS)} "
        "(issue 14, items 2-3; see VARIANTS)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.seeds < 1:
        parser.error("--repeats and --seeds must be at least 1")
    chosen = list(VARIANTS) if args.variants == "all" else [v for v in args.variants.split(",") if v]
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)} or 'all'")
    global TOOLS
    TOOLS = (*BASE_TOOLS, *(f"auto+{v}" for v in chosen))
    options = dict(HIGHS_DEFAULT_OPTIONS)
    # OMLT sets its input variables to 0, outside boxes like [0.45, 0.55]: one W1002 warning each.
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)

    started = time.perf_counter()
    found, notes = instances(args.quick, args.deep)
    if args.only:
        wanted = [part for part in args.only.split(",") if part]
        found = [instance for instance in found if any(part in instance.name for part in wanted)]
        if not found:
            parser.error(f"--only {args.only!r} matches no instance")
    print(
        f"pyomo-nn {pnn.__version__} (defaults) vs OMLT {version('omlt')} "
        "(ONNX reader + ReluBigMFormulation), "
        f"pyomo {version('pyomo')}, HiGHS {version('highspy')}; OMLT's HiGHS via pyomo.contrib.solver with "
        + ", ".join(f"{k}={v}" for k, v in options.items())
        + f"; time limit {args.time_limit:g} s; HiGHS' default MIP gap for both"
        + (f"; HiGHS seeds 0-{args.seeds - 1}, median shown" if args.seeds > 1 else "")
    )
    for note in notes:
        print(f"note: {note}")
    warm_up(found[0], args, options)
    print("\n".join(header()), flush=True)
    results = []
    for instance in found:
        runs = run_instance(instance, args, options)
        results.append((instance, runs))
        print("\n".join(table_rows(instance, runs)), flush=True)
    print()
    for instance, runs in results:
        print(
            f"{instance.name} eps {instance.eps:g} "
            f"(class {instance.label} vs runner-up {instance.runner_up}):"
        )
        print("\n".join(f"  - {note}" for note in checks(instance, runs)))
    print()
    print("\n".join(summary(results)))
    if args.root_bounds:
        print("\nupper bounds on the optimum with the default's bounds (HiGHS' root may vary run to run):")
        print(f"{'instance':<22}{'eps':>6}" + "".join(f"{c:>12}" for c in ROOT_COLUMNS))
        for instance, _ in results:
            found = root_bounds(instance)
            print(
                f"{instance.name:<22}{instance.eps:>6g}"
                + "".join(f"{num(found[c], '.5f'):>12}" for c in ROOT_COLUMNS),
                flush=True,
            )
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
