"""Command-line options that describe an input domain, shared by the subcommands."""

from __future__ import annotations

import argparse

import numpy as np

from pyomo_nn.domains import Box, InputDomain, LinfBall, Neighbourhood


def add_domain_arguments(parser: argparse.ArgumentParser) -> None:
    """``--box LO HI`` (default 0 1), ``--linf X0.npy EPS`` or ``--neighbours X0.npy EPS``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--box", nargs=2, type=float, metavar=("LO", "HI"), help="every input in [LO, HI]")
    group.add_argument(
        "--linf",
        nargs=2,
        metavar=("X0.npy", "EPS"),
        help="L-inf ball of radius EPS around the input saved in X0.npy, clipped to --clip",
    )
    group.add_argument(
        "--neighbours",
        nargs=2,
        metavar=("X0.npy", "EPS"),
        help="the thesis' neighbours region around the image in X0.npy (window --radius)",
    )
    parser.add_argument(
        "--clip",
        nargs=2,
        type=float,
        default=(0.0, 1.0),
        metavar=("LO", "HI"),
        help="valid input range for --linf (default 0 1)",
    )
    parser.add_argument("--radius", type=int, default=2, help="window radius for --neighbours (default 2)")


def domain_from_arguments(args: argparse.Namespace) -> InputDomain:
    """The domain the options describe."""
    if args.linf:
        return LinfBall(np.load(args.linf[0]), float(args.linf[1]), lower=args.clip[0], upper=args.clip[1])
    if args.neighbours:
        return Neighbourhood(np.load(args.neighbours[0]), float(args.neighbours[1]), radius=args.radius)
    low, high = args.box if args.box else (0.0, 1.0)
    return Box(low, high)
