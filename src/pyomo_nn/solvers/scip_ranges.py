"""Work around a PySCIPOpt bug that Pyomo's ``scip_direct`` runs into with ranged constraints.

Pyomo hands a ranged constraint ``lower <= body <= upper`` to PySCIPOpt as
``lower <= (body <= upper)``. When ``body`` carries a constant ``c``, PySCIPOpt moves ``c``
into the right-hand side (``upper - c``) but then sets the left-hand side to ``lower``
unshifted, so the constraint SCIP receives is ``lower + c <= body <= upper``. Every
equality a :class:`~pyomo_nn.NetworkBlock` writes as ``(0, W h + b - y, 0)`` with ``b != 0``
becomes infeasible (checked with PySCIPOpt 6.3 and Pyomo 6.10). While a SCIP solve runs,
such constraints are rewritten into an equivalent form SCIP reads correctly (an equality, or
a range whose body has no constant) and restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pyomo.environ as pyo
from pyomo.core.expr.relational_expr import RangedExpression
from pyomo.repn import generate_standard_repn

#: Pyomo solver names that translate constraints through PySCIPOpt's expression operators.
PYSCIPOPT_SOLVERS = ("scip_direct", "scip_persistent")


@contextmanager
def ranges_read_correctly_by_scip(model: pyo.Block) -> Iterator[None]:
    """Inside the ``with`` block, no active ranged constraint of ``model`` has a constant in its body."""
    originals = []
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        expr = con.expr
        if type(expr) is not RangedExpression or con.lower is None or con.upper is None:
            continue
        lower, body, upper = pyo.value(con.lower), con.body, pyo.value(con.upper)
        if lower == upper:
            originals.append((con, expr))
            con.set_value(body == lower)
            continue
        constant = float(generate_standard_repn(body, compute_values=True, quadratic=False).constant)
        if constant != 0.0:
            originals.append((con, expr))
            con.set_value((lower - constant, body - constant, upper - constant))
    try:
        yield
    finally:
        for con, expr in originals:
            con.set_value(expr)
