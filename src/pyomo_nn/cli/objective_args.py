"""Command-line options shared by ``compare`` and ``verify``: objective, domain, bounds, solver,
output; and running the objective they describe."""

from __future__ import annotations

import argparse
import ast
import inspect
import json
from pathlib import Path

import numpy as np

from pyomo_nn.bounds import DEFAULT_BOUND_METHOD
from pyomo_nn.cli.arg_types import non_negative, positive_int, seconds
from pyomo_nn.cli.domain_args import add_domain_arguments, domain_from_arguments, load_array
from pyomo_nn.cli.outputs import check_output_file
from pyomo_nn.comparison import Comparison
from pyomo_nn.domains import InputDomain
from pyomo_nn.errors import ObjectiveConfigError
from pyomo_nn.importers import load_onnx
from pyomo_nn.objectives import Objective, get
from pyomo_nn.solvers import SolverConfig


def add_objective_arguments(parser: argparse.ArgumentParser, default_objective: str) -> None:
    parser.add_argument(
        "--objective",
        default=default_objective,
        help=f"objective name (default {default_objective}); built-in or from an installed plug-in",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an objective setting, e.g. --set space=probabilities --set class_a=3 (repeatable)",
    )
    parser.add_argument(
        "--x0", default=None, help="x0.npy for objectives that take x0 (default: the --linf centre)"
    )
    add_domain_arguments(parser)
    parser.add_argument(
        "--bounds", default=DEFAULT_BOUND_METHOD, help=f"bound method (default {DEFAULT_BOUND_METHOD})"
    )
    parser.add_argument(
        "--solver", default=None, help="Pyomo solver name (default highs; scip_direct for MINLPs)"
    )
    parser.add_argument("--solver-config", default=None, help="TOML solver config (overrides --solver)")
    parser.add_argument("--time-limit", type=seconds, default=600.0, help="seconds, > 0 (default 600)")
    parser.add_argument("--mip-gap", type=non_negative, default=None, help="relative MIP gap")
    parser.add_argument("--threads", type=positive_int, default=None, help="solver threads")
    parser.add_argument("--json", default=None, help="write the full result to this JSON file")


def run_objective(args: argparse.Namespace, models: list[str]) -> int:
    """Load the networks, build the objective and domain, solve, print and save; the exit code is
    1 when a solution was found but does not survive the onnxruntime re-check, else 0."""
    check_output_file(args.json, "--json")
    networks = [load_onnx(path) for path in models]
    domain = domain_from_arguments(args)
    objective = build_objective(args.objective, parse_settings(args.set), _x0(args, domain))
    comparison = Comparison(*networks, domain=domain, bounds=args.bounds)
    solver = SolverConfig.from_file(args.solver_config) if args.solver_config else args.solver
    result = comparison.solve(
        objective, solver, time_limit=args.time_limit, mip_gap=args.mip_gap, threads=args.threads
    )
    for name, path in zip(comparison.names, models, strict=True):
        print(f"{name}: {path}")
    print(f"domain: {domain}")
    print(result)
    if args.json:
        report = {"models": dict(zip(comparison.names, models, strict=True)), **result.to_dict()}
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 1 if result.has_solution and not result.verified else 0


def parse_settings(assignments: list[str]) -> dict[str, object]:
    """``["class_a=3", "space=probabilities"]`` -> ``{"class_a": 3, "space": "probabilities"}``;
    values are Python literals (numbers, lists, True/False) or else plain strings."""
    settings: dict[str, object] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key:
            raise ObjectiveConfigError(f"--set expects KEY=VALUE, got {assignment!r}")
        try:
            settings[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            settings[key] = text
    return settings


def build_objective(name: str, settings: dict[str, object], x0: np.ndarray | None) -> Objective:
    """Instantiate objective ``name`` from keyword settings (a ``*args`` parameter takes a list);
    a parameter called ``x0`` defaults to ``x0``."""
    cls = get(name)
    parameters = inspect.signature(cls).parameters
    settings = dict(settings)
    unknown = sorted(set(settings) - set(parameters))
    if unknown:
        raise ObjectiveConfigError(
            f"objective {name!r} has no setting(s) {unknown}; its settings: {', '.join(parameters)}"
        )
    if "x0" in parameters and "x0" not in settings:
        if x0 is None:
            raise ObjectiveConfigError(
                f"objective {name!r} needs x0: give --x0 FILE.npy or --linf FILE.npy EPS"
            )
        settings["x0"] = x0
    args: list[object] = []
    variadic = [p for p in parameters.values() if p.kind is inspect.Parameter.VAR_POSITIONAL]
    if variadic and variadic[0].name in settings:
        for parameter in parameters.values():
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                break
            if parameter.name not in settings:
                raise ObjectiveConfigError(f"objective {name!r}: setting {parameter.name!r} is missing")
            args.append(settings.pop(parameter.name))
        extra = settings.pop(variadic[0].name)
        args.extend(extra if isinstance(extra, list | tuple) else [extra])
    try:
        return cls(*args, **settings)
    except TypeError as error:
        raise ObjectiveConfigError(
            f"objective {name!r}: {error}; its settings: {inspect.signature(cls)}"
        ) from error


def _x0(args: argparse.Namespace, domain: InputDomain) -> np.ndarray | None:
    if args.x0 is not None:
        return load_array(args.x0, "--x0", what="x0").ravel()
    centre = getattr(domain, "x0", None)
    return None if centre is None else np.asarray(centre, dtype=np.float64)
