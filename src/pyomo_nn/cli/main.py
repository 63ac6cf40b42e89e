"""``pyomo-nn`` entry point: dispatches to the subcommand modules listed in ``COMMANDS``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pyomo_nn.errors import PyomoNNError

#: Subcommand modules of ``pyomo_nn.cli``; each defines ``register(subparsers)`` which adds
#: its parser and sets ``func`` (called with the parsed arguments, returns the exit code).
COMMANDS: tuple[str, ...] = ("info", "bounds", "prune", "compare", "verify", "vnnlib")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyomo-nn", description="Exact questions about ONNX networks, as MILPs."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"pyomo_nn.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; errors of pyomo-nn print one clear line and exit with code 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PyomoNNError as error:
        print(f"pyomo-nn: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
