"""Objective-aware strengthening: a proven bound on the model's objective, written into the model.

When the active objective is a linear function ``c . y + d`` of :class:`NetworkBlock` outputs
``y`` (a margin between two logits, a logit, MaxOut's sum of chosen logits, a user's own),
the function is appended to the network as one more Dense layer (as VNN-LIB properties are, see
:func:`pyomo_nn.vnnlib.decide.with_property_rows`) and bounded over the block's input box by
back-substitution (``symbolic``, with the block's own bounds as the intermediate bounds, or
``alpha``, optimised slopes on Dense/ReLU chains). The bound becomes an ordinary constraint on
the objective's expression (``objective <= U`` for a maximisation, ``>= L`` for a
minimisation), so every Pyomo solver gets it.

The bound is never tighter than the LP relaxation of the block's Big-M rows (back-substitution
relaxes each ReLU by its triangle, the tightest single-neuron relaxation, which is also what
the Big-M rows' LP gives with the same bounds), so an LP-based MILP solver's root bound does
not move; it can still help a solver's propagation and pruning. benchmarks/README.md
(defaults_vs_omlt) has the measured effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from pyomo_nn.blocks.network_block import NetworkBlock, network_blocks
from pyomo_nn.bounds.alpha import alpha_bounds, supports_alpha
from pyomo_nn.bounds.symbolic import symbolic_bounds
from pyomo_nn.errors import InvalidArgumentError
from pyomo_nn.ir import Dense, Network

#: Name of the layer holding the objective's row in the extended network.
OBJECTIVE_LAYER = "objective_row"

#: Methods of :func:`bound_objective`.
OBJECTIVE_BOUND_METHODS = ("symbolic", "alpha", "best")


@dataclass(frozen=True)
class ObjectiveBound:
    """What :func:`bound_objective` found: ``bound`` on the objective (an upper bound for a
    maximisation, a lower bound for a minimisation), the blocks it came from, the method, and
    the constraint added (None when ``add=False``)."""

    bound: float
    sense: str
    blocks: tuple[NetworkBlock, ...]
    method: str
    constraint: pyo.Constraint | None

    def __str__(self) -> str:
        side = "<=" if self.sense == "maximize" else ">="
        names = ", ".join(block.name for block in self.blocks)
        return f"objective {side} {self.bound:.9g} ({self.method} over the input box of {names})"


def bound_objective(
    model: pyo.Block, method: str = "best", *, add: bool = True, name: str = "objective_bound"
) -> ObjectiveBound | None:
    """Bound the active objective of ``model`` over the input boxes of the network blocks it reads
    and (``add=True``) add the bound as constraint ``model.<name>``.

    Returns None, adding nothing, when the objective is not a linear function of network
    outputs alone (e.g. it reads input or auxiliary variables). With several blocks (e.g. a
    sum of logits of two networks) each block's part is bounded on its own and the bounds
    are added.
    ``method``: ``"symbolic"`` (back-substitution over the block's bounds), ``"alpha"``
    (optimised ReLU slopes; Dense/ReLU chains, else symbolic) or ``"best"`` (the tighter of
    the two where alpha applies).
    """
    if method not in OBJECTIVE_BOUND_METHODS:
        raise InvalidArgumentError(
            f"unknown objective bound method {method!r}; choose one of {list(OBJECTIVE_BOUND_METHODS)}"
        )
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1:
        return None
    objective = objectives[0]
    found = linear_in_outputs(objective.expr, network_blocks(model))
    if found is None:
        return None
    per_block, constant = found
    maximise = objective.sense == pyo.maximize
    sign = 1.0 if maximise else -1.0
    bound, used = constant, set()
    for block, coefficients in per_block:
        # bound sign * (c . y) from above: the upper bound of the row sign * c
        value, method_used = _row_upper(block, sign * coefficients, method)
        bound += sign * value
        used.add(method_used)
    constraint = None
    if add:
        if model.component(name) is not None:
            raise InvalidArgumentError(f"the model already has a component {name!r}; pass another name=")
        expr = objective.expr
        constraint = pyo.Constraint(expr=expr <= bound if maximise else expr >= bound)
        model.add_component(name, constraint)
    blocks = tuple(block for block, _ in per_block)
    return ObjectiveBound(
        bound, "maximize" if maximise else "minimize", blocks, "+".join(sorted(used)), constraint
    )


def _row_upper(block: NetworkBlock, row: np.ndarray, method: str) -> tuple[float, str]:
    """An upper bound of ``row . outputs`` over the block's input box, and the method that gave it."""
    extended = with_objective_row(block.network, row)
    lower, upper = block.input_box()
    known = {name: block.bounds.of(name) for name in block.bounds.layer_names}
    best = float(symbolic_bounds(extended, lower, upper, known=known)[-1][1][0])
    used = "symbolic"
    if method in ("alpha", "best") and supports_alpha(extended):
        alpha = float(alpha_bounds(extended, lower, upper)[-1][1][0])
        if method == "alpha" or alpha < best:
            best, used = alpha, "alpha"
    return best, used


def linear_in_outputs(
    expr: object, blocks: list[NetworkBlock]
) -> tuple[list[tuple[NetworkBlock, np.ndarray]], float] | None:
    """``([(block, c_block), ...], d)`` with ``expr = sum_block c_block . block.outputs + d``, or
    None if ``expr`` is not linear in the blocks' outputs alone (fixed variables are constants;
    a variable that is an output of two blocks, chained ones, counts for the first)."""
    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    if not repn.is_linear():
        return None
    owners: dict[int, tuple[NetworkBlock, int]] = {}
    for block in blocks:
        for k, var in enumerate(block.output_vars()):
            owners.setdefault(id(var), (block, k))
    per_block: dict[int, tuple[NetworkBlock, np.ndarray]] = {}
    for var, coefficient in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        owner = owners.get(id(var))
        if owner is None:
            return None
        block, k = owner
        if id(block) not in per_block:
            per_block[id(block)] = (block, np.zeros(block.network.output_size))
        per_block[id(block)][1][k] += float(coefficient)
    if not per_block:
        return None
    return list(per_block.values()), float(repn.constant)


def with_objective_row(network: Network, coefficients: np.ndarray) -> Network:
    """``network`` followed by one Dense layer with the single output ``coefficients . y``."""
    row = Dense(OBJECTIVE_LAYER, network.layers[-1].name, coefficients.reshape(1, -1), np.zeros(1))
    return Network((*network.layers, row), network.input_shape)
