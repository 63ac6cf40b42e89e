"""``Problem``: one Pyomo model with a NetworkBlock per network, one shared input, one objective.

This is the model of the thesis' comparison problem (PC), (4.1)-(4.11): each network keeps
its own Big-M encoding and the networks meet only at the input, ``x = h_1^(0) = h_2^(0)``,
and in the objective. With a single network it is the verification problem (PV).
:class:`~pyomo_nn.Comparison` and :class:`~pyomo_nn.Verification` build it; the model is
public (``problem.model``), so users may add constraints before calling :meth:`Problem.solve`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pyomo.environ as pyo
from numpy.typing import ArrayLike

from pyomo_nn.blocks import NetworkBlock
from pyomo_nn.blocks.components import constraint_rows
from pyomo_nn.bounds import Bounds
from pyomo_nn.domains import InputDomain
from pyomo_nn.errors import (
    IncompatibleNetworksError,
    InfeasibleModelError,
    ObjectiveConfigError,
    ShapeMismatchError,
    SolverCapabilityError,
    UnsupportedOperatorError,
)
from pyomo_nn.ir import Network
from pyomo_nn.objectives.base import EXP_CAPABLE_SOLVERS, Objective, softmax
from pyomo_nn.problem_result import NetworkEvaluation, ProblemResult
from pyomo_nn.solvers import DEFAULT_TIME_LIMIT, SolverConfig, available_solvers, solve
from pyomo_nn.solvers.gradient_start import (
    FoundStart,
    ascend,
    config_after_search,
    search_seconds,
    through_networks,
)


class Problem:
    """The built model: ``model[name]`` is each network's block, ``block`` the objective's part."""

    def __init__(
        self,
        networks: Sequence[Network],
        names: Sequence[str],
        domain: InputDomain,
        bounds: Sequence[Bounds],
        objective: Objective,
        bounds_time: float = 0.0,
    ) -> None:
        if not isinstance(objective, Objective):
            raise ObjectiveConfigError(
                f"expected an objective such as pyomo_nn.objectives.MaxDiff(), got {objective!r}"
            )
        start = time.perf_counter()
        self.networks = tuple(networks)
        self.names = tuple(names)
        self.domain = domain
        self.bounds = tuple(bounds)
        self.objective = objective
        self.bounds_time = bounds_time
        #: Scratch space where an objective keeps what it built (e.g. for its warm start).
        self.state: dict[str, Any] = {}
        self.model = pyo.ConcreteModel()
        self.blocks = tuple(self._add_blocks())
        self.block = pyo.Block()
        self.model.add_component("objective_terms", self.block)
        objective.build(self)
        objectives = list(self.model.component_data_objects(pyo.Objective, active=True, descend_into=True))
        if len(objectives) != 1:
            raise ObjectiveConfigError(
                f"objective {objective.name!r} must add exactly one active Pyomo Objective, it added "
                f"{len(objectives)}"
            )
        self.sense = "maximize" if objectives[0].sense == pyo.maximize else "minimize"
        #: What the problem built; a component added later is the user's (see _search_start).
        self._built = frozenset(self.model.component_map())
        self.build_time = time.perf_counter() - start

    # -- what objectives read --------------------------------------------------------
    @property
    def x(self) -> pyo.Var:
        """The shared input variables (those of the first network's block)."""
        return self.blocks[0].inputs

    @property
    def input_size(self) -> int:
        return self.networks[0].input_size

    def outputs(self, i: int) -> pyo.Var:
        """Logit variables of network ``i``."""
        return self.blocks[i].outputs

    def output_bounds(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Valid (lower, upper) bounds of network ``i``'s logits over the domain."""
        outputs = self.blocks[i].outputs
        size = self.networks[i].output_size
        return (
            np.array([outputs[k].lb for k in range(size)], dtype=np.float64),
            np.array([outputs[k].ub for k in range(size)], dtype=np.float64),
        )

    def input_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-input (lower, upper) of the shared input: the domain's box (which every
        network's bounds cover)."""
        boxes = [block.input_box() for block in self.blocks]
        return np.max([lower for lower, _ in boxes], axis=0), np.min([upper for _, upper in boxes], axis=0)

    def reference_logits(self, i: int, x: np.ndarray) -> np.ndarray:
        """Logits of network ``i`` at ``x`` from onnxruntime (numpy for a network built in code)."""
        net = self.networks[i]
        return net.source.run(x)[0] if net.source is not None else net.forward(x)

    # -- solving -----------------------------------------------------------------------
    def solve(
        self,
        solver: str | SolverConfig | None = None,
        *,
        time_limit: float | None = DEFAULT_TIME_LIMIT,
        mip_gap: float | None = None,
        threads: int | None = None,
        options: Mapping[str, Any] | None = None,
        start: ArrayLike | None = None,
        search_start: bool = True,
    ) -> ProblemResult:
        """Solve and judge the answer with onnxruntime.

        ``solver`` defaults to HiGHS, or to ``scip_direct`` for objectives that need exp()
        (a MINLP). The solver is warm-started at input ``start``, e.g. the answer of a cheaper
        objective; without one, objectives that offer a search score (MaxDiff, Verify) start
        from the best input of a short gradient search on it (``search_start``; as in
        :func:`pyomo_nn.solve`, HiGHS then runs without its RINS/RENS sub-MIPs), the others
        from the centre of the input box. A time limit returns the incumbent
        (if any) with the dual bound; a proof of infeasibility returns a result with status
        ``infeasible`` whose ``meaning`` says what was proved.
        """
        config = (
            solver
            if isinstance(solver, SolverConfig)
            else SolverConfig(
                name=solver or self.objective.default_solver,
                time_limit=time_limit,
                mip_gap=mip_gap,
                threads=threads,
                options=options or {},
            )
        )
        self._check_solver(config.name)
        found = self._search_start(config.time_limit) if start is None and search_start else None
        if found is not None:
            start = found.point
            config = config_after_search(config, found.summary)
        self._warm_start(start)
        meaning = ""
        try:
            solved = solve(self.model, config, search_start=False)
        except InfeasibleModelError as error:
            solved = error.result
            meaning = f"proved infeasible: {self.objective.infeasible_meaning(self)}"
        if found is not None:
            solved = replace(solved, start=str(found.summary))
        x = self.blocks[0].input_values() if solved.has_solution else None
        networks: tuple[NetworkEvaluation, ...] = ()
        evaluation = None
        if x is not None:
            checks = [solved.blocks[block.name] for block in self.blocks]
            networks = tuple(
                NetworkEvaluation(
                    name=name,
                    logits=check.reference_outputs,
                    probabilities=softmax(check.reference_outputs),
                    predicted_class=check.reference_class,
                    reference=check.reference,
                    milp_logits=check.milp_outputs,
                    matches=check.matches,
                )
                for name, check in zip(self.names, checks, strict=True)
            )
            evaluation = self.objective.evaluate(self, x, [check.reference_outputs for check in checks])
        return ProblemResult(
            objective_name=self.objective.name,
            settings=self.objective.settings(),
            sense=self.sense,
            status=solved.status,
            solver=solved.solver,
            message=solved.message,
            objective=solved.objective,
            dual_bound=solved.dual_bound,
            bounds_method=self.bounds[0].method,
            bounds_time=self.bounds_time,
            build_time=self.build_time,
            solve_time=solved.wall_time,
            x=x,
            networks=networks,
            evaluation=evaluation,
            meaning=meaning,
            solve_result=solved,
        )

    # -- internals -------------------------------------------------------------------
    def _add_blocks(self) -> list[NetworkBlock]:
        sizes = {net.input_size for net in self.networks}
        if len(sizes) != 1:
            raise IncompatibleNetworksError(
                "networks compared on one input must have the same number of inputs, got "
                + ", ".join(
                    f"{name}: {net.input_size}" for name, net in zip(self.names, self.networks, strict=True)
                )
            )
        if len(set(self.names)) != len(self.names):
            raise ObjectiveConfigError(f"network names must be distinct, got {list(self.names)}")
        blocks = []
        for name, net, bounds in zip(self.names, self.networks, self.bounds, strict=True):
            block = NetworkBlock(net, bounds, self.domain)
            self.model.add_component(name, block)
            blocks.append(block)
        first = blocks[0]
        pairs = [(b, i) for b in range(1, len(blocks)) for i in range(self.input_size)]
        self.model.shared_input = constraint_rows(pairs, lambda b, i: blocks[b].inputs[i] == first.inputs[i])
        return blocks

    def _check_solver(self, name: str) -> None:
        if self.objective.nonlinear and name not in EXP_CAPABLE_SOLVERS:
            capable = [solver for solver in available_solvers() if solver in EXP_CAPABLE_SOLVERS]
            raise SolverCapabilityError(
                f"{self.objective!r} is a MINLP (softmax needs exp()), which solver {name!r} cannot "
                f"take. Use a global MINLP solver: {', '.join(EXP_CAPABLE_SOLVERS)} (available here: "
                f"{', '.join(capable) or 'none; pip install pyscipopt for scip_direct'}), or optimise "
                "in logit space (a MILP)"
            )

    def _search_start(self, time_limit: float | None) -> FoundStart | None:
        """The best input of a gradient search on the objective's search score over the input
        box, or None when the objective has none, a network a layer without a gradient, or the
        user added components to the model (their constraints might refuse the point)."""
        if set(self.model.component_map(active=True)) - self._built:
            return None
        lower, upper = self.input_box()
        if self.objective.search_score(self, [net.forward(lower[None]) for net in self.networks]) is None:
            return None
        sign = 1.0 if self.sense == "maximize" else -1.0

        def score(x: np.ndarray, logits: list[np.ndarray]) -> tuple:
            found = self.objective.search_score(self, logits)
            return found.values, found.logit_gradients, None

        try:
            evaluate = through_networks(list(self.networks), score, sign)
        except UnsupportedOperatorError:
            return None
        return ascend(evaluate, lower, upper, search_seconds(time_limit), sign)

    def _warm_start(self, start: ArrayLike | None) -> None:
        """Start every block (and the objective, if it can) from ``start`` clipped to the input
        box, or from the box's centre."""
        lower, upper = self.input_box()
        if start is None:
            point = (lower + upper) / 2.0
        else:
            point = np.asarray(start, dtype=np.float64).ravel()
            if point.size != lower.size:
                raise ShapeMismatchError(
                    f"start has {point.size} values but the networks have {lower.size} inputs"
                )
            point = np.clip(point, lower, upper)
        for block in self.blocks:
            block.warm_start(point)
        self.objective.warm_start(self, point)
