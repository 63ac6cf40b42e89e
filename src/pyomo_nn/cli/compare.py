"""``pyomo-nn compare a.onnx b.onnx --objective maxdiff --linf x0.npy 0.05 --json out.json``:
networks sharing one input, asked a comparison objective (thesis ch. 4)."""

from __future__ import annotations

import argparse

from pyomo_nn.cli.objective_args import add_objective_arguments, run_objective


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare networks on one shared input (maxdiff, maxout, maxflip, mineps, ...)",
        description="Objectives: maxdiff (--set space=probabilities for softmax, a MINLP for SCIP), "
        "maxout (--set class_a=3 --set class_b=8), maxflip, mineps (--linf x0.npy EPS_MAX "
        "[--set true_class=7]), or an installed plug-in.",
    )
    parser.add_argument("models", nargs="+", help="two or more ONNX files with the same input")
    add_objective_arguments(parser, default_objective="maxdiff")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_objective(args, args.models)
