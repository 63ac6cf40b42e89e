"""Reader for the VNN-LIB subset used by the VNN-COMP competitions.

Supported: ``(declare-const X_i Real)`` / ``(declare-const Y_i Real)`` for inputs and
outputs, ``(assert F)`` where ``F`` is built from ``<=``, ``>=`` (two or more arguments),
``and`` and ``or``, over linear terms: numbers, declared variables, ``+``, ``-`` (unary and
n-ary), ``*`` and ``/`` by constants. The SMT-LIB housekeeping commands ``set-logic``,
``set-info``, ``check-sat``, ``get-model`` and ``exit`` are accepted and ignored; anything
else is an :class:`~pyomo_nn.errors.InvalidVnnlibError` naming the line.

The parser produces :class:`ParsedProperty`: the declared variables and the asserted formula
in disjunctive normal form, each atom a linear inequality ``sum coef * var <= rhs``.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

from pyomo_nn.errors import InvalidVnnlibError

#: A variable: ("X", i) for input i or ("Y", i) for output i.
Variable = tuple[str, int]

#: Largest number of disjuncts the normal form may have before the reader gives up.
MAX_DISJUNCTS = 100_000

IGNORED_COMMANDS = ("set-logic", "set-info", "check-sat", "get-model", "exit")

_TOKEN = re.compile(r"\(|\)|;[^\n]*|\n|[^\s();]+")
_VARIABLE = re.compile(r"([XY])_(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class Atom:
    """A symbol or number of the source, with its 1-based line."""

    text: str
    line: int


@dataclass(frozen=True)
class SList:
    """A parenthesised list of the source, with the line of its opening parenthesis."""

    items: tuple[Atom | SList, ...]
    line: int


Expr = Atom | SList


@dataclass(frozen=True)
class Inequality:
    """``sum(coefs[v] * v) <= rhs`` over declared variables, from source line ``line``."""

    coefs: dict[Variable, float]
    rhs: float
    line: int


@dataclass
class ParsedProperty:
    """What a VNN-LIB file asserts: ``common`` (a conjunction that holds everywhere) and
    ``disjuncts`` (alternatives; an empty list stands for one empty conjunction)."""

    inputs: set[int] = field(default_factory=set)
    outputs: set[int] = field(default_factory=set)
    common: list[Inequality] = field(default_factory=list)
    disjuncts: list[list[Inequality]] = field(default_factory=lambda: [[]])


def parse_vnnlib_text(text: str, source: str = "<vnnlib>") -> ParsedProperty:
    """Parse VNN-LIB source text; ``source`` names the file in error messages."""
    reader = _Reader(source)
    for command in _read_expressions(text, source):
        reader.command(command)
    return reader.result


def _read_expressions(text: str, source: str) -> list[Expr]:
    """Top-level s-expressions of ``text``, with line numbers."""
    stack: list[tuple[int, list[Expr]]] = []
    top: list[Expr] = []
    line = 1
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token.startswith(";"):
            continue
        elif token == "(":
            stack.append((line, []))
        elif token == ")":
            if not stack:
                raise InvalidVnnlibError("unexpected ')' with no matching '('", source, line)
            opened, items = stack.pop()
            (stack[-1][1] if stack else top).append(SList(tuple(items), opened))
        elif stack:
            stack[-1][1].append(Atom(token, line))
        else:
            raise InvalidVnnlibError(
                f"unexpected {token!r} outside parentheses; every command is '(command ...)'", source, line
            )
    if stack:
        raise InvalidVnnlibError(
            f"the '(' opened here is never closed (missing {len(stack)} ')' at the end of the file)",
            source,
            stack[-1][0],
        )
    return top


def _head(expr: SList) -> str | None:
    return expr.items[0].text if expr.items and isinstance(expr.items[0], Atom) else None


def _show(expr: Expr, limit: int = 60) -> str:
    text = (
        expr.text
        if isinstance(expr, Atom)
        else "(" + " ".join(_show(item, limit) for item in expr.items) + ")"
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Reader:
    """Turns top-level commands into a :class:`ParsedProperty`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.result = ParsedProperty()

    def fail(self, message: str, expr: Expr) -> InvalidVnnlibError:
        return InvalidVnnlibError(message, self.source, expr.line)

    def command(self, expr: Expr) -> None:
        if not isinstance(expr, SList) or _head(expr) is None:
            raise self.fail(f"expected a command such as '(assert ...)', found {_show(expr)}", expr)
        name = _head(expr)
        if name == "declare-const":
            self.declare(expr)
        elif name == "assert":
            if len(expr.items) != 2:
                raise self.fail(f"'assert' takes exactly one formula, found {len(expr.items) - 1}", expr)
            self.assertion(expr.items[1])
        elif name not in IGNORED_COMMANDS:
            raise self.fail(
                f"unsupported command {name!r}; the VNN-LIB subset has 'declare-const' and 'assert'", expr
            )

    def declare(self, expr: SList) -> None:
        if len(expr.items) != 3 or not all(isinstance(item, Atom) for item in expr.items[1:]):
            raise self.fail(f"expected '(declare-const NAME Real)', found {_show(expr)}", expr)
        name, sort = expr.items[1].text, expr.items[2].text
        if sort != "Real":
            raise self.fail(f"variable {name} is declared of sort {sort!r}; only 'Real' is supported", expr)
        match = _VARIABLE.fullmatch(name)
        if match is None:
            raise self.fail(
                f"variable name {name!r} is not supported: inputs are X_0, X_1, ..., outputs Y_0, Y_1, ...",
                expr,
            )
        kind, index = match.group(1), int(match.group(2))
        declared = self.result.inputs if kind == "X" else self.result.outputs
        if index in declared:
            raise self.fail(f"{name} is declared twice", expr)
        declared.add(index)

    def assertion(self, formula: Expr) -> None:
        alternatives = self.normal_form(formula)
        if len(alternatives) == 1:
            self.result.common.extend(alternatives[0])
            return
        current = self.result.disjuncts
        if len(current) * len(alternatives) > MAX_DISJUNCTS:
            raise self.fail(
                f"the property expands to more than {MAX_DISJUNCTS} disjuncts; split it into several files",
                formula,
            )
        self.result.disjuncts = [mine + theirs for mine in current for theirs in alternatives]

    def normal_form(self, formula: Expr) -> list[list[Inequality]]:
        """Disjunctive normal form: a list of alternatives, each a list of inequalities."""
        if not isinstance(formula, SList) or _head(formula) is None:
            raise self.fail(f"expected a formula such as '(<= Y_0 Y_1)', found {_show(formula)}", formula)
        operator, arguments = _head(formula), formula.items[1:]
        if operator in ("and", "or"):
            if not arguments:
                raise self.fail(f"'{operator}' needs at least one argument", formula)
            parts = [self.normal_form(argument) for argument in arguments]
            if operator == "or":
                return [alternative for part in parts for alternative in part]
            combined: list[list[Inequality]] = [[]]
            for part in parts:
                if len(combined) * len(part) > MAX_DISJUNCTS:
                    raise self.fail(f"the 'and' expands to more than {MAX_DISJUNCTS} disjuncts", formula)
                combined = [mine + theirs for mine in combined for theirs in part]
            return combined
        if operator in ("<=", ">="):
            return [self.comparison(formula, operator, arguments)]
        if operator in ("<", ">"):
            raise self.fail(
                f"strict inequality {operator!r} is not in the supported subset; write '{operator}='",
                formula,
            )
        raise self.fail(
            f"unsupported operator {operator!r} in a formula; supported: <=, >=, and, or", formula
        )

    def comparison(self, formula: SList, operator: str, arguments: tuple[Expr, ...]) -> list[Inequality]:
        if len(arguments) < 2:
            raise self.fail(f"'{operator}' needs at least two arguments", formula)
        terms = [self.term(argument) for argument in arguments]
        inequalities = []
        for left, right in itertools.pairwise(terms):
            small, large = (left, right) if operator == "<=" else (right, left)
            coefs = dict(small[0])
            for variable, coef in large[0].items():
                coefs[variable] = coefs.get(variable, 0.0) - coef
            coefs = {variable: coef for variable, coef in coefs.items() if coef != 0.0}
            inequalities.append(Inequality(coefs, large[1] - small[1], formula.line))
        return inequalities

    def term(self, expr: Expr) -> tuple[dict[Variable, float], float]:
        """A linear term as (coefficients, constant)."""
        if isinstance(expr, Atom):
            return self.atom(expr)
        operator, arguments = _head(expr), expr.items[1:]
        if operator is None or not arguments:
            raise self.fail(f"expected a term such as '(+ Y_0 1)', found {_show(expr)}", expr)
        terms = [self.term(argument) for argument in arguments]
        if operator == "+":
            return _sum(terms)
        if operator == "-":
            if len(terms) == 1:
                return _scaled(terms[0], -1.0)
            return _sum([terms[0], *(_scaled(term, -1.0) for term in terms[1:])])
        if operator == "*":
            variable_terms = [term for term in terms if term[0]]
            if len(variable_terms) > 1:
                raise self.fail(
                    f"{_show(expr)} multiplies variables together; VNN-LIB properties must be linear", expr
                )
            factor = math.prod(term[1] for term in terms if not term[0])
            return _scaled(variable_terms[0], factor) if variable_terms else ({}, factor)
        if operator == "/":
            if len(terms) != 2 or terms[1][0]:
                raise self.fail(f"{_show(expr)}: '/' is supported only as (/ term constant)", expr)
            if terms[1][1] == 0.0:
                raise self.fail(f"{_show(expr)} divides by zero", expr)
            return _scaled(terms[0], 1.0 / terms[1][1])
        raise self.fail(f"unsupported operator {operator!r} in a term; supported: +, -, *, /", expr)

    def atom(self, atom: Atom) -> tuple[dict[Variable, float], float]:
        match = _VARIABLE.fullmatch(atom.text)
        if match is not None:
            kind, index = match.group(1), int(match.group(2))
            declared = self.result.inputs if kind == "X" else self.result.outputs
            if index not in declared:
                raise self.fail(f"{atom.text} is used before it is declared with declare-const", atom)
            return {(kind, index): 1.0}, 0.0
        try:
            value = float(atom.text)
        except ValueError:
            raise self.fail(
                f"unknown symbol {atom.text!r}: expected a number or a declared X_i / Y_i", atom
            ) from None
        if not math.isfinite(value):
            raise self.fail(f"the constant {atom.text!r} is not a finite number", atom)
        return {}, value


def _sum(terms: list[tuple[dict[Variable, float], float]]) -> tuple[dict[Variable, float], float]:
    coefs: dict[Variable, float] = {}
    for term_coefs, _ in terms:
        for variable, coef in term_coefs.items():
            coefs[variable] = coefs.get(variable, 0.0) + coef
    return coefs, sum(constant for _, constant in terms)


def _scaled(term: tuple[dict[Variable, float], float], factor: float) -> tuple[dict[Variable, float], float]:
    return {variable: factor * coef for variable, coef in term[0].items()}, factor * term[1]
