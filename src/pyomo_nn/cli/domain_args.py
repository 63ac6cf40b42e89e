"""Command-line options that describe an input domain, shared by the subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pyomo_nn.cli.arg_types import non_negative_int
from pyomo_nn.domains import Box, InputDomain, LinfBall, Neighbourhood
from pyomo_nn.errors import InputFileError, InvalidArgumentError


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
    parser.add_argument(
        "--radius", type=non_negative_int, default=2, help="window radius for --neighbours (default 2)"
    )


def domain_from_arguments(args: argparse.Namespace) -> InputDomain:
    """The domain the options describe; unreadable files and bad radii are typed errors."""
    if args.linf:
        centre, eps = load_array(args.linf[0], "--linf"), _radius(args.linf[1], "--linf")
        return LinfBall(centre, eps, lower=args.clip[0], upper=args.clip[1])
    if args.neighbours:
        image, eps = (
            load_array(args.neighbours[0], "--neighbours"),
            _radius(args.neighbours[1], "--neighbours"),
        )
        return Neighbourhood(image, eps, radius=args.radius)
    low, high = args.box if args.box else (0.0, 1.0)
    return Box(low, high)


def load_array(path: str, option: str, what: str = "the domain's centre") -> np.ndarray:
    """The array saved with ``numpy.save`` in ``path``; errors name ``what`` it is and ``option``."""
    where = f"cannot read {what} ({option} {path})"
    if not Path(path).is_file():
        raise InputFileError(f"{where}: file not found")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, EOFError) as error:
        raise InputFileError(f"{where}: not an array written by numpy.save") from error
    except OSError as error:
        raise InputFileError(f"{where}: {error.strerror or error}") from error
    if not isinstance(array, np.ndarray):
        array.close()
        raise InputFileError(f"{where}: an .npz archive; save the single array with numpy.save")
    return array


def _radius(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidArgumentError(f"{option} EPS must be a number, got {text!r}") from None
