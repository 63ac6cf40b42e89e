"""Indexed Pyomo components built from data instead of rule closures.

Pyomo keeps a component's construction rule for the model's lifetime, and a closure (a
lambda over local variables) cannot be pickled, so a model holding one cannot be sent to
another process (``pickle``, Dask, multiprocessing). These helpers evaluate the rule once
and give Pyomo the resulting values as a dict, which pickles and clones with the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pyomo.environ as pyo


def bounded_var(
    index: Iterable[Any], lower: Sequence[float] | np.ndarray, upper: Sequence[float] | np.ndarray
) -> pyo.Var:
    """An indexed Var with ``lower[i] <= v[i] <= upper[i]`` for every ``i`` of ``index``."""
    members = list(index)
    return pyo.Var(members, bounds={i: (float(lower[i]), float(upper[i])) for i in members})


def constraint_rows(index: Iterable[Any], row: Callable[..., object]) -> pyo.Constraint:
    """An indexed Constraint whose member ``j`` is ``row(j)`` (``row(*j)`` for a tuple index);
    ``row`` may return ``Constraint.Skip``."""
    members = list(index)
    return pyo.Constraint(members, rule={j: row(*j) if isinstance(j, tuple) else row(j) for j in members})


def set_values(var: pyo.Var, values: np.ndarray) -> None:
    """Set the values of the (non-fixed) members of an indexed Var from a full-length array."""
    for index in var:
        if not var[index].fixed:
            var[index].set_value(float(values[index]), skip_validation=True)
