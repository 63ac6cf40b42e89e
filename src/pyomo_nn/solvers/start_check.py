"""Is the point the solver starts from feasible? Checks of a model at its variables' values.

The gradient search proposes a start (:mod:`~pyomo_nn.solvers.gradient_start`); the objective
cut-off (:mod:`~pyomo_nn.solvers.objective_cutoff`) is sound only if that start's objective
value is reachable in the model the user built, i.e. if the start satisfies every part of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyomo.environ as pyo
from pyomo.core.base.var import VarData

from pyomo_nn.blocks.network_block import NetworkBlock

#: A row or bound holds at a start to this relative slack (the solver's feasibility tolerance
#: is 1e-9 on these rows' scale; a start is only a proposal, the solver checks it again).
START_CHECK_TOLERANCE = 1e-9

#: Component types a model may hold for :func:`start_is_feasible` to judge it: anything else
#: (SOS constraints, logical constraints, disjunctions, ...) restricts the model in ways the
#: check does not evaluate.
JUDGED_TYPES = (
    pyo.Var,
    pyo.Constraint,
    pyo.Objective,
    pyo.Param,
    pyo.Set,
    pyo.RangeSet,
    pyo.Expression,
    pyo.Block,
    pyo.Suffix,
)


def holds(constraint: pyo.Constraint) -> bool:
    """Whether ``constraint`` holds at the variables' current values (False if one has none)."""
    try:
        value = pyo.value(constraint.body, exception=True)
    except ValueError:
        return False
    if value is None:
        return False
    lower, upper = constraint.lb, constraint.ub
    slack = START_CHECK_TOLERANCE * (1.0 + abs(value))
    return (lower is None or value >= lower - slack) and (upper is None or value <= upper + slack)


def within_bounds(variables: Iterable[VarData]) -> bool:
    """Whether every variable with a value lies within its bounds."""
    for var in variables:
        value = var.value
        if value is None:
            continue
        slack = START_CHECK_TOLERANCE * (1.0 + abs(value))
        if (var.lb is not None and value < var.lb - slack) or (var.ub is not None and value > var.ub + slack):
            return False
    return True


def start_is_feasible(model: pyo.Block) -> bool:
    """Whether the current values satisfy all of ``model``: every active constraint, every
    variable bound, every row of the network blocks active (a deactivated row would let the
    model leave the network), and no component of a kind this check does not judge. The rows
    of a network block as it was built (:meth:`NetworkBlock.is_as_built`) hold at its warm
    start by construction and are not evaluated (on the digits models that walk cost 3-8 ms a
    solve); a block changed in any way has all its rows evaluated."""
    for component in model.component_objects(active=True, descend_into=True):
        if not issubclass(component.ctype, JUDGED_TYPES):
            return False
    for block in model.component_data_objects(pyo.Block, active=None, descend_into=True):
        if isinstance(block, NetworkBlock) and not block.all_rows_active():
            return False
    if not within_bounds(model.component_data_objects(pyo.Var, descend_into=True)):
        return False
    return all(holds(row) for row in _rows_to_evaluate(model))


def _rows_to_evaluate(block: pyo.Block) -> Iterator[pyo.Constraint]:
    """The active constraints of ``block`` and its sub-blocks, except inside network blocks as
    built."""
    yield from block.component_data_objects(pyo.Constraint, active=True, descend_into=False)
    for sub in block.component_data_objects(pyo.Block, active=True, descend_into=False):
        if not (isinstance(sub, NetworkBlock) and sub.is_as_built()):
            yield from _rows_to_evaluate(sub)
