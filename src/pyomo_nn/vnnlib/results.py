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
from pyomo_nn.result.summary import ANSWERS
from pyomo_nn.vnnlib.decide import PropertyResult

_ASSIGNMENT = re.compile(r"\(\s*([XY])_(\d+)\s+([^\s()]+)\s*\)")


@dataclass(frozen=True)
class ResultFile:
    """A result file's content: the answer and, for ``sat``, the input and outputs."""

    answer: str
    x: np.ndarray | None = None
    y: np.ndarray | None = None


def format_result(result: PropertyResult) -> str:
    """The text of the result file for ``result``."""
    lines = [result.answer]
    if result.answer == "sat" and result.counterexample is not None:
        pairs = [f"(X_{i} {float(v)!r})" for i, v in enumerate(result.counterexample.x)]
        pairs += [f"(Y_{k} {float(v)!r})" for k, v in enumerate(result.counterexample.y)]
        lines.append("(" + "\n ".join(pairs) + ")")
    return "\n".join(lines) + "\n"


def write_result_file(path: str | os.PathLike[str], result: PropertyResult) -> None:
    """Write ``result`` in the competition format."""
    Path(path).write_text(format_result(result))


def read_result_file(path: str | os.PathLike[str]) -> ResultFile:
    """Read a result file written by this module or by another VNN-COMP tool."""
    file = Path(path)
    text = _read_text(file)
    lines = text.strip().splitlines()
    answer = lines[0].strip() if lines else ""
    if answer not in ANSWERS:
        raise InvalidVnnlibError(f"the first line must be one of {ANSWERS}, found {answer!r}", str(file), 1)
    if answer != "sat":
        return ResultFile(answer)
    values: dict[str, dict[int, float]] = {"X": {}, "Y": {}}
    for kind, index, value in _ASSIGNMENT.findall(text):
        values[kind][int(index)] = _value(value, f"{kind}_{index}", file)
    if not values["X"]:
        raise InvalidVnnlibError("a 'sat' result needs the counterexample '((X_0 v) ...)'", str(file), 2)
    x, y = (_vector(values[kind], kind, file) for kind in ("X", "Y"))
    return ResultFile(answer, x, y if y.size else None)


def _read_text(file: Path) -> str:
    """The text of a result file, or an :class:`InvalidVnnlibError` saying why it cannot be read."""
    if not file.is_file():
        raise InvalidVnnlibError("result file not found (check the path)", str(file))
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InvalidVnnlibError(
            f"not a text file (byte {error.start} is not UTF-8); a result file is plain text", str(file)
        ) from error
    except OSError as error:
        raise InvalidVnnlibError(f"cannot read the file: {error.strerror or error}", str(file)) from error


def _value(text: str, name: str, file: Path) -> float:
    """One assigned value of the counterexample."""
    try:
        return float(text)
    except ValueError:
        raise InvalidVnnlibError(f"{name} is assigned {text!r}, which is not a number", str(file)) from None


def _vector(values: dict[int, float], kind: str, file: Path) -> np.ndarray:
    """The values ``kind_0 .. kind_n-1`` in order; refuses gaps in the numbering."""
    missing = sorted(set(range(len(values))) - set(values))
    if missing:
        raise InvalidVnnlibError(
            f"the counterexample has no value for {kind}_{missing[0]} (variables are numbered from 0)",
            str(file),
        )
    return np.array([values[i] for i in sorted(values)])
