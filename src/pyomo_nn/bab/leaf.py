"""Exact leaves: a branch handed to a MILP through any Pyomo solver.

The branch is the chain with its split neurons' bounds clipped at zero by their phases (so
the block encodes them without a binary and enforces the phase through the variable's
bound) and the problem's rows as the output layer; the MILP minimises ``max_r row_r``.
Its dual bound, widened by the MILP margin of bound tightening, is a valid bound of the
branch; its point is a candidate like any other. Solved to optimality, the branch is done:
its minimum is the value at that point.
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.bab.bounding import BatchBounder
from pyomo_nn.blocks import NetworkBlock
from pyomo_nn.bounds import Bounds
from pyomo_nn.bounds.container import widen
from pyomo_nn.errors import InfeasibleModelError, SolverFailedError
from pyomo_nn.ir import INPUT, Dense, Network, ReLU
from pyomo_nn.solvers import SolverConfig, solve
from pyomo_nn.tolerances import LP_BOUND_ABS, LP_BOUND_REL


class MilpLeaves:
    """Solves leaves of ``bounder``'s problems with ``solver`` (a Pyomo solver name)."""

    def __init__(self, bounder: BatchBounder, solver: str) -> None:
        self.bounder = bounder
        self.solver = solver

    def __call__(
        self, problem: int, splits: np.ndarray, deadline: float
    ) -> tuple[float, np.ndarray | None, bool]:
        network, bounds = self._branch(problem, splits)
        model = pyo.ConcreteModel()
        model.network = NetworkBlock(network, bounds)
        rows = range(network.output_size)
        if network.output_size == 1:
            model.objective = pyo.Objective(expr=model.network.outputs[0])
        else:
            model.worst_row = pyo.Var()
            model.above_rows = pyo.Constraint(rows, rule=lambda m, r: m.worst_row >= m.network.outputs[r])
            model.objective = pyo.Objective(expr=model.worst_row)
        time_limit = max(deadline - time.perf_counter(), 0.1)
        try:
            result = solve(model, SolverConfig(name=self.solver, time_limit=time_limit, mip_gap=0.0))
        except InfeasibleModelError:
            return np.inf, None, True  # the phases contradict each other: the branch is empty
        except SolverFailedError as error:
            result = error.result
        dual = result.dual_bound
        lower = -np.inf if dual is None else dual - LP_BOUND_ABS - LP_BOUND_REL * abs(dual)
        point = model.network.input_values() if result.has_solution else None
        return lower, point, result.status == "optimal" and point is not None

    def _branch(self, problem: int, splits: np.ndarray) -> tuple[Network, Bounds]:
        """The chain of ``problem`` with the bounds of branch ``splits``."""
        chain, bounder = self.bounder.chain, self.bounder
        layers = []
        lowers, uppers = [], []
        previous = INPUT
        for k, (weight, bias) in enumerate(zip(chain.weights, chain.biases, strict=True)):
            lower, upper = bounder.pre_lower[k].copy(), bounder.pre_upper[k].copy()
            phases = splits[bounder.offsets[k] : bounder.offsets[k + 1]]
            columns = bounder.unstable[k]
            lower[columns[phases > 0]] = 0.0
            upper[columns[phases < 0]] = 0.0
            lowers.append(lower)
            uppers.append(upper)
            layers += [Dense(f"dense_{k}", previous, weight, bias), ReLU(f"relu_{k}", f"dense_{k}")]
            previous = f"relu_{k}"
        rows, offsets = chain.rows[problem], chain.offsets[problem]
        layers.append(Dense("rows", previous, rows, offsets))
        h_lower = np.maximum(lowers[-1], 0.0) if lowers else bounder.input_lower
        h_upper = np.maximum(uppers[-1], 0.0) if uppers else bounder.input_upper
        positive, negative = np.maximum(rows, 0.0), np.minimum(rows, 0.0)
        row_lower = positive @ h_lower + negative @ h_upper + offsets
        row_upper = positive @ h_upper + negative @ h_lower + offsets
        row_lower, row_upper = widen(row_lower, row_upper)
        lowers.append(row_lower)
        uppers.append(row_upper)
        network = Network(tuple(layers), (chain.input_size,))
        bounds = Bounds(
            input_lower=bounder.input_lower,
            input_upper=bounder.input_upper,
            lower=tuple(lowers),
            upper=tuple(uppers),
            layer_names=tuple(layer.name for layer in layers if isinstance(layer, Dense)),
            method="branch",
            fingerprint=network.fingerprint(),
        )
        return network, bounds
