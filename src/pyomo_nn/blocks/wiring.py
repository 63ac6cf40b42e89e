"""How network blocks meet the user's model: the user's own variables as a block's inputs and
outputs, and the order of blocks that feed each other.

A block built with ``inputs=``/``outputs=`` writes its rows on the user's variables directly.
A variable is the output of at most one block, and blocks must not feed each other in a cycle
(the model would then have no order in which to evaluate, warm-start or re-check them). These
rules are checked when a block is built, against the other blocks of the model its variables
belong to, so a refused block never reaches the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import IndexedVar, VarData

from pyomo_nn.errors import (
    EmptyDomainError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    ShapeMismatchError,
    UnboundedDomainError,
)


class Wired(Protocol):
    """What the wiring rules read of a network block (:class:`~pyomo_nn.NetworkBlock`)."""

    @property
    def name(self) -> str: ...

    def input_vars(self) -> list[VarData]: ...

    def output_vars(self) -> list[VarData]: ...

    def output_bounds(self) -> tuple[np.ndarray, np.ndarray]: ...


def user_vars(given: object, label: str, size: int, what: str) -> list[VarData]:
    """The scalar Pyomo variables of ``given`` (a list, an indexed Var in its index order, or any
    iterable of scalar vars; indexed Vars inside a list are expanded), checked against the
    network's ``size`` ``what`` (``"inputs"``/``"outputs"``)."""
    if isinstance(given, VarData):
        items: list[object] = [given]
    elif isinstance(given, IndexedVar):
        items = list(given.values())
    elif isinstance(given, str | bytes | dict) or not isinstance(given, Iterable):
        raise InvalidArgumentTypeError(
            f"{label} must be Pyomo variables (a list such as [m.x, m.y], or an indexed Var m.x), "
            f"got {type(given).__name__}"
        )
    else:
        items = []
        for item in given:
            items.extend(item.values() if isinstance(item, IndexedVar) else [item])
    for i, item in enumerate(items):
        if not isinstance(item, VarData):
            raise InvalidArgumentTypeError(
                f"{label}[{i}] is {_describe(item)}, not a Pyomo variable: pass variables (m.x[{i}]); "
                "for an expression or a constant, add a variable and tie it with your own constraint"
            )
    if len(items) != size:
        raise ShapeMismatchError(
            f"{label} has {len(items)} variable{'s' if len(items) != 1 else ''} but the network has "
            f"{size} {what}: pass one "
            f"variable per network {what[:-1]}, in the network's order"
        )
    return list(items)


def owning_model(variables: Iterable[VarData]) -> pyo.Block | None:
    """The model the first variable attached to one belongs to."""
    for var in variables:
        parent = var.parent_block()
        if parent is not None:
            return parent.model()
    return None


def check_wiring(
    inputs: list[VarData] | None, outputs: list[VarData] | None, blocks: Sequence[Wired]
) -> None:
    """Refuse outputs that are used twice, that are outputs of one of ``blocks`` (the other
    network blocks of the variables' model), or that would close a cycle of blocks feeding each
    other."""
    if outputs is None:
        return
    seen: dict[int, int] = {}
    for k, var in enumerate(outputs):
        if id(var) in seen:
            raise InvalidArgumentError(
                f"outputs[{k}] ({var.name}) is also outputs[{seen[id(var)]}]: every network output "
                "needs its own variable"
            )
        seen[id(var)] = k
    for i, var in enumerate(inputs or ()):
        if id(var) in seen:
            raise InvalidArgumentError(
                f"{var.name} is both inputs[{i}] and outputs[{seen[id(var)]}] of this block: a network "
                "cannot feed itself; give the output its own variable"
            )
    for block in blocks:
        for k, var in enumerate(block.output_vars()):
            if id(var) in seen:
                raise InvalidArgumentError(
                    f"outputs[{seen[id(var)]}] ({var.name}) is already output {k} of block "
                    f"{block.name!r}: a variable can be the output of one network only. Give this "
                    "block its own output variables (and add an equality if both must agree)"
                )
    _check_no_cycle(blocks, inputs or [], outputs)


def _check_no_cycle(blocks: Sequence[Wired], inputs: list[VarData], outputs: list[VarData]) -> None:
    """Follow the new block's outputs through the blocks that read them; reaching one of its own
    inputs would close a cycle."""
    wanted = {id(var): i for i, var in enumerate(inputs)}
    route: dict[int, tuple[str, ...]] = {id(var): () for var in outputs}  # blocks passed to reach a var
    frontier = list(route)
    while frontier:
        current = frontier.pop()
        for block in blocks:
            if current not in {id(var) for var in block.input_vars()}:
                continue
            names = (*route[current], repr(block.name))
            for var in block.output_vars():
                if id(var) in wanted:
                    raise InvalidArgumentError(
                        f"this block's outputs feed block {' -> '.join(names)}, whose output {var.name} "
                        f"is this block's inputs[{wanted[id(var)]}]: blocks chained into a cycle have no "
                        "order of evaluation. Break the loop (give one of the blocks new variables)"
                    )
                if id(var) not in route:
                    route[id(var)] = names
                    frontier.append(id(var))


def dependency_order(blocks: Sequence[Wired]) -> list[Wired]:
    """``blocks`` with every block after the blocks whose outputs it reads (the model's order
    otherwise), so that warm starts propagate along chains."""
    producer = {id(var): block for block in blocks for var in block.output_vars()}
    ordered: list[Wired] = []
    placed: set[int] = set()
    visiting: set[int] = set()

    def place(block: Wired) -> None:
        if id(block) in placed or id(block) in visiting:
            return  # a cycle cannot be built through NetworkBlock; keep the model's order if one appears
        visiting.add(id(block))
        for var in block.input_vars():
            upstream = producer.get(id(var))
            if upstream is not None and upstream is not block:
                place(upstream)
        visiting.discard(id(block))
        placed.add(id(block))
        ordered.append(block)

    for block in blocks:
        place(block)
    return ordered


def var_region(variables: list[VarData], blocks: Sequence[Wired]) -> tuple[np.ndarray, np.ndarray]:
    """The box the variables range over: their own bounds (a fixed variable: its value),
    intersected with the output bounds of the block that computes them, if any."""
    producer = {}
    for block in blocks:
        lower, upper = block.output_bounds()
        for k, var in enumerate(block.output_vars()):
            producer[id(var)] = (lower[k], upper[k])
    lower = np.full(len(variables), -np.inf)
    upper = np.full(len(variables), np.inf)
    for i, var in enumerate(variables):
        if var.fixed and var.value is not None:
            lower[i] = upper[i] = float(var.value)
        else:
            lower[i] = -np.inf if var.lb is None else float(var.lb)
            upper[i] = np.inf if var.ub is None else float(var.ub)
        if id(var) in producer:
            low, high = producer[id(var)]
            lower[i], upper[i] = max(lower[i], low), min(upper[i], high)
    return lower, upper


def check_region(variables: list[VarData], lower: np.ndarray, upper: np.ndarray, label: str) -> None:
    """Refuse a region with an infinite side (no Big-M constant exists) or an empty one, naming
    the variable and the fix."""
    for i, var in enumerate(variables):
        sides = (("lower", lower[i]), ("upper", upper[i]))
        missing = [side for side, value in sides if not np.isfinite(value)]
        if missing:
            raise UnboundedDomainError(
                f"{label}[{i}] ({var.name}) has no finite {' and '.join(missing)} bound, so no Big-M "
                f"constant exists: give it bounds (e.g. {var.name}.setlb(...) / .setub(...), or "
                "Var(bounds=(lower, upper))), or pass the block a domain (domain=pnn.Box(lower, upper))"
            )
        if lower[i] > upper[i]:
            raise EmptyDomainError(
                f"{label}[{i}] ({var.name}) can take no value: lower bound {lower[i]:g} > upper bound "
                f"{upper[i]:g} (its bounds, the domain and the outputs of the block computing it "
                "together); widen them"
            )


def _describe(item: object) -> str:
    """``item`` for a message: a Pyomo object by its name or expression, anything else by repr."""
    kind = type(item).__name__
    pyomo_object = hasattr(item, "is_expression_type")  # Params, expressions, ...
    text = str(item) if pyomo_object else repr(item)
    return f"a {kind} ({text if len(text) <= 40 else text[:37] + '...'})"
