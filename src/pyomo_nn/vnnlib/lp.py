"""The LP (triangle) relaxation over a property's rows, with certified lower bounds.

The relaxation is the bound engine's (:func:`pyomo_nn.bounds.relaxation.layer_problem`),
built once per box with the property's rows as the objective layer and re-optimised per
row by the engine's HiGHS backend. The value HiGHS reports is not used as a proof: the
bound is recomputed from its duals by weak duality (:mod:`pyomo_nn.bounds.duality`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from pyomo_nn.bounds import Bounds
from pyomo_nn.bounds.backends import HighsBackend
from pyomo_nn.bounds.relaxation import LayerProblem, layer_problem
from pyomo_nn.ir import Network


class OutputRelaxation:
    """The LP relaxation of ``network`` (whose last layer holds the property's rows) over
    ``bounds``, loaded into HiGHS once."""

    def __init__(self, network: Network, bounds: Bounds) -> None:
        self.problem: LayerProblem = layer_problem(
            network, bounds.tensor_boxes(network), network.layers[-1], integer=False
        )
        self.backend = HighsBackend(self.problem)

    def certified_lower_bounds(self, neurons: Sequence[int], deadline: float) -> np.ndarray:
        """Certified lower bound of each of ``neurons`` of the last layer (-inf where the LP
        did not give a dual solution before ``deadline``, a ``time.perf_counter()`` value)."""
        result = np.full(len(neurons), -np.inf)
        for position, neuron in enumerate(neurons):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            value = self.backend.bound(int(neuron), maximise=False, time_limit=remaining)
            if value is not None:
                result[position] = value
        return result
