"""Solvers: solver configuration, solver adapters and the ``solve`` entry point (``pyomo_nn.solve``)."""

from pyomo_nn.solvers.backends import available_solvers
from pyomo_nn.solvers.checked_solve import solve
from pyomo_nn.solvers.config import DEFAULT_TIME_LIMIT, SolverConfig
from pyomo_nn.solvers.ideal_cuts import CutReport, add_ideal_cuts

__all__ = ["DEFAULT_TIME_LIMIT", "CutReport", "SolverConfig", "add_ideal_cuts", "available_solvers", "solve"]
