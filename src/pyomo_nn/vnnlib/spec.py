"""``Specification``: a VNN-LIB property as numpy data, usable with any network block.

A VNN-LIB file states the *counterexample*: it asks whether some input ``x`` exists that
satisfies every assertion together with ``y = N(x)``. Normalised, that is a disjunction of
:class:`Disjunct` s, each an input box and a conjunction of linear inequalities
``output_coefs @ y + input_coefs @ x <= rhs``. The answer is ``sat`` when some disjunct has
such an ``x`` (a counterexample) and ``unsat`` when none has.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks import NetworkBlock
from pyomo_nn.domains import Box
from pyomo_nn.errors import InvalidVnnlibError, ShapeMismatchError, UnboundedDomainError
from pyomo_nn.ir import Network
from pyomo_nn.vnnlib.parser import Inequality, ParsedProperty, parse_vnnlib_text


@dataclass(frozen=True, eq=False)
class Disjunct:
    """One alternative of a property: ``input_lower <= x <= input_upper`` and
    ``output_coefs @ y + input_coefs @ x <= rhs`` (one row per inequality; ``lines`` holds
    the source line of each row)."""

    input_lower: np.ndarray
    input_upper: np.ndarray
    output_coefs: np.ndarray
    input_coefs: np.ndarray
    rhs: np.ndarray
    lines: tuple[int, ...]

    @property
    def num_rows(self) -> int:
        return int(self.rhs.size)

    @property
    def has_input_terms(self) -> bool:
        """True when some inequality mixes inputs in (beyond the box)."""
        return bool(np.any(self.input_coefs))

    def row_values(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``output_coefs @ y + input_coefs @ x - rhs`` per row, batched: shape (batch, rows)."""
        x2, y2 = np.atleast_2d(x), np.atleast_2d(y)
        return y2 @ self.output_coefs.T + x2 @ self.input_coefs.T - self.rhs

    def violation(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Largest row value per sample: the disjunct holds at (x, y) iff it is ``<= 0``.
        With no rows every point qualifies and the violation is ``-inf``."""
        return np.max(self.row_values(x, y), axis=1, initial=-np.inf)

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Whether each input of the batch lies in the disjunct's box."""
        x2 = np.atleast_2d(x)
        return np.all((x2 >= self.input_lower) & (x2 <= self.input_upper), axis=1)


@dataclass(frozen=True, eq=False)
class Specification:
    """A VNN-LIB property: counterexamples are inputs that satisfy some disjunct.

    ``input_lower``/``input_upper`` is the smallest box holding every disjunct's box (the
    region a bound computation or a network block needs). An empty ``disjuncts`` means the
    property can never hold (every alternative was contradictory on its own).
    """

    num_inputs: int
    num_outputs: int
    disjuncts: tuple[Disjunct, ...]
    source: str = "<vnnlib>"

    @property
    def input_lower(self) -> np.ndarray:
        if not self.disjuncts:
            return np.full(self.num_inputs, -np.inf)
        return np.min([d.input_lower for d in self.disjuncts], axis=0)

    @property
    def input_upper(self) -> np.ndarray:
        if not self.disjuncts:
            return np.full(self.num_inputs, np.inf)
        return np.max([d.input_upper for d in self.disjuncts], axis=0)

    def domain(self) -> Box:
        """The input box as a :class:`~pyomo_nn.Box`; refuses unbounded inputs."""
        lower, upper = self.input_lower, self.input_upper
        unbounded = np.flatnonzero(~(np.isfinite(lower) & np.isfinite(upper)))
        if unbounded.size:
            raise UnboundedDomainError(
                f"{self.source}: input X_{unbounded[0]} ({unbounded.size} inputs in all) has no finite "
                "lower and upper bound; add '(assert (>= X_i lo))' and '(assert (<= X_i hi))'"
            )
        return Box(lower, upper)

    def check_fits(self, network: Network) -> None:
        """Refuse a network whose input or output count differs from the declared variables."""
        if network.input_size != self.num_inputs or network.output_size != self.num_outputs:
            raise ShapeMismatchError(
                f"{self.source} declares {self.num_inputs} inputs and {self.num_outputs} outputs but the "
                f"network has {network.input_size} inputs and {network.output_size} outputs"
            )

    def satisfied_disjunct(self, x: np.ndarray, y: np.ndarray) -> int | None:
        """Index of a disjunct that (x, y) satisfies exactly (no tolerance), or None."""
        for index, disjunct in enumerate(self.disjuncts):
            if disjunct.contains(x)[0] and disjunct.violation(x, y)[0] <= 0.0:
                return index
        return None

    def add_to_model(self, block: pyo.Block, network: NetworkBlock, disjunct: int = 0) -> pyo.Constraint:
        """Add to ``block`` the constraints of one disjunct on ``network``'s inputs/outputs.

        The model is then feasible exactly when that disjunct has a counterexample. Input
        bounds tighter than the block's own are added as constraints too. Returns the new
        indexed constraint (named ``vnnlib_<disjunct>``; rows first, then input bounds).
        """
        part = self.disjuncts[disjunct]
        expressions = []
        for row in range(part.num_rows):
            terms = [
                coef * network.outputs[k] for k, coef in enumerate(part.output_coefs[row]) if coef != 0.0
            ]
            terms += [coef * network.inputs[i] for i, coef in enumerate(part.input_coefs[row]) if coef != 0.0]
            expressions.append(sum(terms) <= float(part.rhs[row]))
        for i in range(self.num_inputs):
            var = network.inputs[i]
            if var.lb is None or part.input_lower[i] > var.lb:
                expressions.append(var >= float(part.input_lower[i]))
            if var.ub is None or part.input_upper[i] < var.ub:
                expressions.append(var <= float(part.input_upper[i]))
        constraint = pyo.Constraint(range(len(expressions)), rule=lambda _, r: expressions[r])
        block.add_component(f"vnnlib_{disjunct}", constraint)
        return constraint

    def __repr__(self) -> str:
        rows = sorted({d.num_rows for d in self.disjuncts})
        return (
            f"Specification({self.source}: {self.num_inputs} inputs, {self.num_outputs} outputs, "
            f"{len(self.disjuncts)} disjuncts with {'/'.join(map(str, rows)) or 0} constraints each)"
        )


def load_vnnlib(path: str | os.PathLike[str]) -> Specification:
    """Read a VNN-LIB property file into a :class:`Specification`.

    Raises :class:`~pyomo_nn.errors.InvalidVnnlibError` for a missing file and (with the
    line) for anything outside the supported subset.
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidVnnlibError("file not found (check the path)", str(file))
    return parse_vnnlib(read_property_text(file), source=str(file))


def read_property_text(file: Path) -> str:
    """The UTF-8 text of a property file; unreadable or binary files are an
    :class:`~pyomo_nn.errors.InvalidVnnlibError`."""
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InvalidVnnlibError(
            f"not a text file (byte {error.start} is not UTF-8); a VNN-LIB property is plain text "
            "(decompress a .gz file first)",
            str(file),
        ) from error
    except OSError as error:
        raise InvalidVnnlibError(f"cannot read the file: {error.strerror or error}", str(file)) from error


def parse_vnnlib(text: str, source: str = "<vnnlib>") -> Specification:
    """Parse VNN-LIB source text into a :class:`Specification`."""
    return build_specification(parse_vnnlib_text(text, source), source)


def build_specification(parsed: ParsedProperty, source: str) -> Specification:
    """Normalise a parsed property: boxes from single-input bounds, matrices for the rest."""
    num_inputs = _count(parsed.inputs, "X", source)
    num_outputs = _count(parsed.outputs, "Y", source)
    common_lower = np.full(num_inputs, -np.inf)
    common_upper = np.full(num_inputs, np.inf)
    common_rows: list[Inequality] = []
    if not _split(parsed.common, common_lower, common_upper, common_rows):
        return Specification(num_inputs, num_outputs, (), source)
    disjuncts = []
    for alternative in parsed.disjuncts:
        lower, upper = common_lower.copy(), common_upper.copy()
        rows = list(common_rows)
        if not _split(alternative, lower, upper, rows) or np.any(lower > upper):
            continue
        output_coefs = np.zeros((len(rows), num_outputs))
        input_coefs = np.zeros((len(rows), num_inputs))
        for r, row in enumerate(rows):
            for (kind, index), coef in row.coefs.items():
                (output_coefs if kind == "Y" else input_coefs)[r, index] = coef
        disjuncts.append(
            Disjunct(
                input_lower=lower,
                input_upper=upper,
                output_coefs=output_coefs,
                input_coefs=input_coefs,
                rhs=np.array([row.rhs for row in rows], dtype=np.float64),
                lines=tuple(row.line for row in rows),
            )
        )
    return Specification(num_inputs, num_outputs, tuple(disjuncts), source)


def _count(indices: set[int], kind: str, source: str) -> int:
    """Number of declared variables of one kind; they must be numbered 0..n-1."""
    count = len(indices)
    if indices and max(indices) != count - 1:
        missing = sorted(set(range(max(indices) + 1)) - indices)
        raise InvalidVnnlibError(
            f"{kind} variables must be numbered from 0 without gaps; {kind}_{missing[0]} is not declared "
            f"({len(missing)} missing)",
            source,
        )
    return count


def _split(inequalities: list[Inequality], lower: np.ndarray, upper: np.ndarray, rows: list) -> bool:
    """Move single-input inequalities into the box, keep the others as rows.

    Returns False when a constant inequality is false (the conjunction can never hold).
    """
    for inequality in inequalities:
        coefs = inequality.coefs
        if not coefs:
            if inequality.rhs < 0.0:
                return False
            continue
        if len(coefs) == 1:
            ((kind, index), coef) = next(iter(coefs.items()))
            if kind == "X":
                bound = inequality.rhs / coef + 0.0  # + 0.0 turns -0.0 into 0.0
                if coef > 0:
                    upper[index] = min(upper[index], bound)
                else:
                    lower[index] = max(lower[index], bound)
                continue
        rows.append(inequality)
    return True
