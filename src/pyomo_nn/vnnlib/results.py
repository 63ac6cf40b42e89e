"""VNN-COMP result files: the answer on the first line, then for ``sat`` the counterexample.

::

    sat
    ((X_0 0.0299999993)
     (X_1 0.0)
     ...
     (Y_0 -0.0123)
     ...)

Values are written with Python's shortest round-trip representation, so reading a file back
gives exactly the float32 input that onnxruntime confirmed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pyomo_nn.errors import InvalidVnnlibError
from pyomo_nn.vnnlib.verify import ANSWERS, VerificationResult

_ASSIGNMENT = re.compile(r"\(\s*([XY])_(\d+)\s+([^\s()]+)\s*\)")


@dataclass(frozen=True)
class ResultFile:
    """A result file's content: the answer and, for ``sat``, the input and outputs."""

    answer: str
    x: np.ndarray | None = None
    y: np.ndarray | None = None


def format_result(result: VerificationResult) -> str:
    """The text of the result file for ``result``."""
    lines = [result.answer]
    if result.answer == "sat" and result.counterexample is not None:
        pairs = [f"(X_{i} {float(v)!r})" for i, v in enumerate(result.counterexample.x)]
        pairs += [f"(Y_{k} {float(v)!r})" for k, v in enumerate(result.counterexample.y)]
        lines.append("(" + "\n ".join(pairs) + ")")
    return "\n".join(lines) + "\n"


def write_result_file(path: str | os.PathLike[str], result: VerificationResult) -> None:
    """Write ``result`` in the competition format."""
    Path(path).write_text(format_result(result))


def read_result_file(path: str | os.PathLike[str]) -> ResultFile:
    """Read a result file written by this module or by another VNN-COMP tool."""
    file = Path(path)
    text = file.read_text()
    lines = text.strip().splitlines()
    answer = lines[0].strip() if lines else ""
    if answer not in ANSWERS:
        raise InvalidVnnlibError(f"the first line must be one of {ANSWERS}, found {answer!r}", str(file), 1)
    if answer != "sat":
        return ResultFile(answer)
    values: dict[str, dict[int, float]] = {"X": {}, "Y": {}}
    for kind, index, value in _ASSIGNMENT.findall(text):
        values[kind][int(index)] = float(value)
    if not values["X"]:
        raise InvalidVnnlibError("a 'sat' result needs the counterexample '((X_0 v) ...)'", str(file), 2)
    x, y = (np.array([values[kind][i] for i in sorted(values[kind])]) for kind in ("X", "Y"))
    return ResultFile(answer, x, y if y.size else None)
