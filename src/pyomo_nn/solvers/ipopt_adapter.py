"""Ipopt through cyipopt directly, as solver ``"cyipopt"``: a local NLP solver for blocks
with nonlinear rows (the ``complementarity`` encoding, Sigmoid/Tanh/Softplus layers).

Pyomo's own ``cyipopt`` interface evaluates the model through PyNumero's ASL library, which
``pyomo build-extensions`` compiles from a GitHub download; where that is missing (a machine
without network access to GitHub), this adapter gives Ipopt the model itself: values by
evaluating the Pyomo expressions, first derivatives by Pyomo's reverse-mode differentiation
(linear rows once, from their standard representation), second derivatives by Ipopt's
limited-memory approximation. Meant for the small models an NLP solver is used on here.

Statuses: Ipopt's success (and "solved to acceptable level") is ``optimal`` in Ipopt's sense,
a *local* optimum (``solve()`` says so and drops the dual bound); a time or iteration limit
is ``time_limit``/``other_limit``; a point of local infeasibility proves nothing and is an
``error``. Integer variables are refused before the solve (``solvers/capabilities.py``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.calculus.derivatives import Modes, differentiate
from pyomo.core.expr.visitor import identify_variables
from pyomo.repn import generate_standard_repn

from pyomo_nn.errors import SolverConfigError, SolverUnavailableError
from pyomo_nn.solvers.config import SolverConfig
from pyomo_nn.solvers.outcome import SolveOutcome, finite

#: Names that select this adapter.
CYIPOPT_NAMES = ("cyipopt",)

#: Ipopt's infinity: bounds beyond it are absent.
IPOPT_INFINITY = 1e19

#: Ipopt return codes (``info["status"]``) and the statuses they map to.
IPOPT_STATUSES = {0: "optimal", 1: "optimal", -4: "time_limit", -1: "other_limit", -5: "other_limit"}


class _Row:
    """One function of the variables (a constraint body or the objective): its variables'
    positions, and its constant gradient when it is linear."""

    def __init__(self, expr: object, position: dict[int, int]) -> None:
        self.expr = expr
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        if repn.is_linear():
            self.vars = list(repn.linear_vars)
            self.linear = np.array(repn.linear_coefs, dtype=np.float64)
            self.constant = float(repn.constant)
        else:
            self.vars = list(identify_variables(expr, include_fixed=False))
            self.linear = None
        self.columns = np.array([position[id(v)] for v in self.vars], dtype=np.int64)

    def value(self, x: np.ndarray) -> float:
        if self.linear is not None:
            return float(self.linear @ x[self.columns] + self.constant)
        return float(pyo.value(self.expr))

    def gradient(self) -> np.ndarray:
        if self.linear is not None:
            return self.linear
        return np.array(
            differentiate(self.expr, wrt_list=self.vars, mode=Modes.reverse_numeric), dtype=np.float64
        )


class _Problem:
    """cyipopt's callbacks over the model's free variables (values are set into the model)."""

    def __init__(self, variables: list, objective: _Row, sign: float, rows: list[_Row]) -> None:
        self.variables, self.objective_row, self.sign, self.rows = variables, objective, sign, rows
        self.structure = (
            np.concatenate(
                [np.full(row.columns.size, i) for i, row in enumerate(rows)] or [np.zeros(0, int)]
            ),
            np.concatenate([row.columns for row in rows] or [np.zeros(0, int)]),
        )
        self._at: np.ndarray | None = None

    def _set(self, x: np.ndarray) -> None:
        if self._at is None or not np.array_equal(self._at, x):
            for var, value in zip(self.variables, x, strict=True):
                var.set_value(float(value), skip_validation=True)
            self._at = x.copy()

    def objective(self, x: np.ndarray) -> float:
        self._set(x)
        return self.sign * self.objective_row.value(x)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        self._set(x)
        grad = np.zeros(x.size)
        np.add.at(grad, self.objective_row.columns, self.sign * self.objective_row.gradient())
        return grad

    def constraints(self, x: np.ndarray) -> np.ndarray:
        self._set(x)
        return np.array([row.value(x) for row in self.rows])

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        self._set(x)
        return np.concatenate([row.gradient() for row in self.rows] or [np.zeros(0)])

    def jacobianstructure(self) -> tuple[np.ndarray, np.ndarray]:
        return self.structure


def _bound(value: object, default: float) -> float:
    number = finite(pyo.value(value)) if value is not None else None
    return default if number is None else number


def run_cyipopt(model: pyo.ConcreteModel, config: SolverConfig) -> SolveOutcome:
    """Solve ``model`` with Ipopt (a local optimum); load the point if Ipopt reports success."""
    try:
        import cyipopt
    except ImportError as error:
        raise SolverUnavailableError(
            "solver 'cyipopt' needs the cyipopt package: apt-get install coinor-libipopt-dev "
            "liblapack-dev libblas-dev libmumps-seq-dev gfortran pkg-config, then pip install cyipopt"
        ) from error
    if config.mip_gap is not None or config.threads is not None:
        raise SolverConfigError("Ipopt takes no mip_gap or threads; leave them unset for solver 'cyipopt'")
    (objective,) = model.component_data_objects(pyo.Objective, active=True, descend_into=True)
    constraints = list(model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    variables, position = [], {}
    for expr in [objective.expr, *(c.body for c in constraints)]:
        for var in identify_variables(expr, include_fixed=False):
            if id(var) not in position:
                position[id(var)] = len(variables)
                variables.append(var)
    if any(var.is_integer() for var in variables):
        raise SolverConfigError("Ipopt takes no integer variables; use an encoding without binaries")
    rows = [_Row(c.body, position) for c in constraints]
    lower = np.array([_bound(v.lb, -IPOPT_INFINITY) for v in variables])
    upper = np.array([_bound(v.ub, IPOPT_INFINITY) for v in variables])
    start = np.array([v.value if v.value is not None else 0.0 for v in variables], dtype=np.float64)
    start = np.clip(start, lower, upper)
    sign = 1.0 if objective.sense == pyo.minimize else -1.0
    problem = _Problem(variables, _Row(objective.expr, position), sign, rows)
    nlp = cyipopt.Problem(
        n=len(variables),
        m=len(rows),
        problem_obj=problem,
        lb=lower,
        ub=upper,
        cl=np.array([_bound(c.lower, -IPOPT_INFINITY) for c in constraints]),
        cu=np.array([_bound(c.upper, IPOPT_INFINITY) for c in constraints]),
    )
    settings: dict[str, Any] = {"hessian_approximation": "limited-memory", "print_level": 0, "sb": "yes"}
    if config.time_limit is not None:
        settings["max_cpu_time"] = float(config.time_limit)
    settings.update(config.options)
    for name, value in settings.items():
        nlp.add_option(name, value)
    began = time.perf_counter()
    try:
        x, info = nlp.solve(start)
    except Exception as error:
        return SolveOutcome(
            "error", False, None, None, time.perf_counter() - began, f"{type(error).__name__}: {error}"
        )
    wall = time.perf_counter() - began
    code = int(info["status"])
    status = IPOPT_STATUSES.get(code, "error")
    message = (
        info["status_msg"].decode() if isinstance(info["status_msg"], bytes) else str(info["status_msg"])
    )
    has_solution = code in (0, 1)
    if has_solution:
        problem._set(np.asarray(x))
    return SolveOutcome(
        status=status,
        has_solution=has_solution,
        objective=finite(pyo.value(objective.expr)) if has_solution else None,
        dual_bound=None,
        wall_time=wall,
        message=f"Ipopt: {message}",
    )
