"""``Verification``: questions about one network over an input domain (the thesis' problem (PV))."""

from __future__ import annotations

from pyomo_nn.bounds import DEFAULT_BOUND_METHOD, Bounds
from pyomo_nn.comparison import Comparison
from pyomo_nn.domains import InputDomain
from pyomo_nn.ir import Network


class Verification(Comparison):
    """One network over ``domain``: ``Verification(net, domain).solve(objectives.Verify(x0))``.

    ``bounds`` is a bound method name or a precomputed :class:`~pyomo_nn.Bounds` covering the
    domain (bounds over a narrower box are refused; the inputs get the domain's box); the
    block is called ``name`` in the model and in reports.
    """

    def __init__(
        self,
        network: Network,
        domain: InputDomain,
        bounds: str | Bounds = DEFAULT_BOUND_METHOD,
        name: str = "net",
    ) -> None:
        super().__init__(
            network,
            domain=domain,
            bounds=bounds if isinstance(bounds, str) else (bounds,),
            names=(name,),
        )
