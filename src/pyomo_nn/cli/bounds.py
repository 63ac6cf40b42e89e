"""``pyomo-nn bounds model.onnx --method lp --box 0 1 --out bounds.npz``: compute and report
pre-activation bounds."""

from __future__ import annotations

import argparse

from pyomo_nn.bounds import DEFAULT_BOUND_METHOD, METHODS, compute_bounds
from pyomo_nn.cli.arg_types import seconds
from pyomo_nn.cli.domain_args import add_domain_arguments, domain_from_arguments
from pyomo_nn.cli.outputs import check_output_file
from pyomo_nn.importers import load_onnx


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bounds", help="compute pre-activation bounds of a network over a domain")
    parser.add_argument("model", help="ONNX file")
    parser.add_argument("--method", choices=METHODS, default=DEFAULT_BOUND_METHOD)
    add_domain_arguments(parser)
    parser.add_argument(
        "--time-limit", type=seconds, default=None, help="seconds, > 0, for lp and milp (default: no limit)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--out", default=None, help="save the bounds to this .npz file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out, "--out")
    net = load_onnx(args.model)
    domain = domain_from_arguments(args)
    bounds = compute_bounds(
        net, domain, method=args.method, time_limit=args.time_limit, progress=not args.no_progress
    )
    print(f"{args.model}: {domain}")
    print(bounds.summary())
    if args.out:
        bounds.save(args.out)
        print(f"saved to {args.out}")
    return 0
