"""``Comparison``: two or more networks on one shared input (the thesis' problem (PC), ch. 4)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from numpy.typing import ArrayLike

from pyomo_nn.bounds import DEFAULT_BOUND_METHOD, Bounds, compute_bounds
from pyomo_nn.domains import InputDomain
from pyomo_nn.errors import ObjectiveConfigError
from pyomo_nn.ir import Network
from pyomo_nn.objectives.base import Objective
from pyomo_nn.problem import Problem
from pyomo_nn.problem_result import ProblemResult
from pyomo_nn.solvers import DEFAULT_TIME_LIMIT, SolverConfig


class Comparison:
    """Networks that share one input over ``domain``, ready to answer comparison objectives.

    ``Comparison(net_a, net_b, domain)`` or with more networks before the domain (or
    ``domain=`` by keyword). ``bounds`` is a bound method name passed to
    :func:`~pyomo_nn.compute_bounds` (computed once per network and reused by every solve)
    or one precomputed :class:`~pyomo_nn.Bounds` per network, which must hold over the whole
    domain (their input box may be wider; the model's inputs always get the domain's box,
    see :meth:`Bounds.check_covers`). ``names`` name the networks'
    blocks in the model and in reports (default ``net1``, ``net2``, ...).
    """

    def __init__(
        self,
        *networks_then_domain: Network | InputDomain,
        domain: InputDomain | None = None,
        bounds: str | Sequence[Bounds] = DEFAULT_BOUND_METHOD,
        names: Sequence[str] | None = None,
    ) -> None:
        items = list(networks_then_domain)
        if domain is None and items and isinstance(items[-1], InputDomain):
            domain = items.pop()
        if not isinstance(domain, InputDomain):
            raise ObjectiveConfigError(
                "Comparison needs an input domain after the networks, e.g. "
                "Comparison(net_a, net_b, pnn.LinfBall(x0, eps=0.05, lower=0, upper=1))"
            )
        for item in items:
            if not isinstance(item, Network):
                raise ObjectiveConfigError(f"Comparison expects networks (pyomo_nn.Network), got {item!r}")
        self.networks = tuple(items)
        self.domain = domain
        self.names = tuple(names) if names is not None else tuple(f"net{i + 1}" for i in range(len(items)))
        if len(self.names) != len(self.networks):
            raise ObjectiveConfigError(f"{len(self.names)} names for {len(self.networks)} networks")
        self._bounds_request = bounds
        self._bounds: tuple[Bounds, ...] | None = None
        self._bounds_time = 0.0

    @property
    def bounds(self) -> tuple[Bounds, ...]:
        """Each network's bounds over the domain (computed on first use)."""
        if self._bounds is None:
            start = time.perf_counter()
            request = self._bounds_request
            if isinstance(request, str):
                self._bounds = tuple(
                    compute_bounds(net, self.domain, method=request) for net in self.networks
                )
            else:
                self._bounds = self._checked(tuple(request))
            self._bounds_time = time.perf_counter() - start
        return self._bounds

    def _checked(self, given: tuple[Bounds, ...]) -> tuple[Bounds, ...]:
        """Precomputed bounds, one per network, each for its network and covering the domain."""
        if len(given) != len(self.networks):
            raise ObjectiveConfigError(f"{len(given)} Bounds objects given for {len(self.networks)} networks")
        for net, bounds in zip(self.networks, given, strict=True):
            bounds.check_matches(net, self.domain)
        return given

    def build(self, objective: Objective) -> Problem:
        """The model with every network's block, the shared input and the objective; add your
        own constraints to ``problem.model`` before ``problem.solve()`` if you like."""
        if isinstance(objective, Objective):
            objective.check_networks(self.networks, self.domain)
        bounds = self.bounds
        return Problem(self.networks, self.names, self.domain, bounds, objective, self._bounds_time)

    def solve(
        self,
        objective: Objective,
        solver: str | SolverConfig | None = None,
        *,
        time_limit: float | None = DEFAULT_TIME_LIMIT,
        mip_gap: float | None = None,
        threads: int | None = None,
        options: Mapping[str, Any] | None = None,
        start: ArrayLike | None = None,
        search_start: bool = True,
    ) -> ProblemResult:
        """Build and solve; see :meth:`Problem.solve` for the solver default, ``start``,
        ``search_start`` and the result."""
        return self.build(objective).solve(
            solver,
            time_limit=time_limit,
            mip_gap=mip_gap,
            threads=threads,
            options=options,
            start=start,
            search_start=search_start,
        )
