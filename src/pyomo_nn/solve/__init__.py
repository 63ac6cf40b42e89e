"""Solving: solver configuration, solver adapters and the ``solve`` entry point."""

from pyomo_nn.solve.backends import available_solvers
from pyomo_nn.solve.config import DEFAULT_TIME_LIMIT, SolverConfig
from pyomo_nn.solve.solve import solve

__all__ = ["DEFAULT_TIME_LIMIT", "SolverConfig", "available_solvers", "solve"]
