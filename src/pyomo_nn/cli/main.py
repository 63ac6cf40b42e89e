"""``pyomo-nn`` entry point: dispatches to the subcommand modules listed in ``COMMANDS`` and
turns every way a command can end into one exit code (``ExitCode``), never a traceback."""

from __future__ import annotations

import argparse
import enum
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Sequence

from pyomo_nn.errors import (
    InfeasibleModelError,
    PyomoNNError,
    SolverCapabilityError,
    SolverFailedError,
    SolverUnavailableError,
)

#: Subcommand modules of ``pyomo_nn.cli``; each defines ``register(subparsers)`` which adds
#: its parser and sets ``func`` (called with the parsed arguments, returns the exit code).
COMMANDS: tuple[str, ...] = ("info", "bounds", "prune", "compare", "verify", "vnnlib", "train")

ISSUES_URL = "https://github.com/pyomo-nn/pyomo-nn/issues"


class ExitCode(enum.IntEnum):
    """Exit codes of ``pyomo-nn``, one per way a command ends (docs/getting-started.md)."""

    OK = 0
    CHECK_FAILED = 1  # compare/verify: a solution failed the onnxruntime re-check
    BAD_INPUT = 2  # usage errors, bad files, bad settings: every PyomoNNError but the solver's
    SOLVER = 3  # solver unavailable, unable to take the model, failed, or model infeasible
    INTERNAL = 70  # a bug in pyomo-nn (EX_SOFTWARE): please report it
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    BROKEN_PIPE = 141  # the reader of the output went away, e.g. `| head` (128 + SIGPIPE)


SOLVER_ERRORS = (SolverUnavailableError, SolverCapabilityError, SolverFailedError, InfeasibleModelError)


def version() -> str:
    """The installed distribution's version."""
    try:
        return importlib.metadata.version("pyomo-nn")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyomo-nn",
        description="Exact questions about ONNX networks, as MILPs.",
        epilog="Exit codes: 0 ok, 1 re-check failed (compare/verify), 2 bad input, 3 solver "
        "unavailable or failed, 70 internal error, 130 interrupted, 141 output pipe closed.",
    )
    parser.add_argument("--version", action="version", version=f"pyomo-nn {version()}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of an internal error"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"pyomo_nn.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code (see ``ExitCode``); errors print one line
    on stderr. Usage errors exit through argparse (``SystemExit(2)``)."""
    try:
        args = build_parser().parse_args(argv)
        return _run(args)
    except KeyboardInterrupt:
        _error("interrupted")
        return ExitCode.INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; every exception becomes a one-line message and an exit code."""
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _discard_stdout()
        return ExitCode.BROKEN_PIPE
    except PyomoNNError as error:
        _error(f"error: {error}")
        return ExitCode.SOLVER if isinstance(error, SOLVER_ERRORS) else ExitCode.BAD_INPUT
    except OSError as error:
        _error(f"error: {error}")
        return ExitCode.BAD_INPUT
    except Exception as error:
        if args.traceback:
            raise
        first_line = (str(error).splitlines() or [""])[0]
        _error(
            f"internal error: {type(error).__name__}: {first_line}; please report it at {ISSUES_URL} "
            "with the command line (add --traceback before the command for the details)"
        )
        return ExitCode.INTERNAL


def _error(message: str) -> None:
    """A message on stderr."""
    print(f"pyomo-nn: {message}", file=sys.stderr, flush=True)


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again (the recipe
    of the Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
