"""``method="auto"``, the default: the tightest bounds their cost justifies.

1. ``alpha`` where the network is a Dense/ReLU chain (optimised slopes cost about as much as
   one symbolic pass per layer), else ``symbolic``.
2. LP tightening (thesis Alg. 3 with relax=1) when enough neurons stay undecided (split
   ReLUs, possible maxima of max-pool windows) for the MILP to branch on: each is a binary,
   and a binary less can halve the tree, while an LP costs two solves per neuron. Its time
   budget grows with the number of undecided neurons (``AUTO_LP_SECONDS_PER_SPLIT``, at most
   ``AUTO_LP_MAX_SECONDS``, never more than the caller's ``time_limit``); neurons it does
   not reach keep their stage-1 bounds.

Measured on the digits adversarial instances (benchmarks/defaults_vs_omlt.py): with up to a
few dozen undecided neurons the MILP takes well under a second and LP tightening only adds time,
hence ``AUTO_LP_MIN_SPLIT``.
"""

from __future__ import annotations

import time
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from pyomo_nn.bounds.alpha import alpha_bounds, supports_alpha
from pyomo_nn.bounds.executors import InlineExecutor
from pyomo_nn.bounds.symbolic import symbolic_bounds
from pyomo_nn.bounds.tightening import tightened_bounds, undecided_neurons
from pyomo_nn.errors import BoundTighteningWarning
from pyomo_nn.ir import Network

#: LP tightening runs only when at least this many neurons stay undecided after stage 1.
AUTO_LP_MIN_SPLIT = 64

#: LP time budget per undecided neuron (two LPs of ~0.01-0.08 s each on 784-256 layers).
AUTO_LP_SECONDS_PER_SPLIT = 0.05

#: Upper end of the LP time budget, seconds.
AUTO_LP_MAX_SECONDS = 30.0

#: Undecided neurons from which the LPs run on a process per core instead of in this process
#: (starting the workers costs about a second).
AUTO_POOL_MIN_SPLIT = 256


@dataclass(frozen=True)
class AutoChoice:
    """What ``auto`` ran: ``method`` reproduces it (``lp`` starts from ``alpha`` itself);
    ``reason`` says why, for ``Bounds.summary()``."""

    method: str
    time_limit: float | None
    reason: str


def auto_bounds(
    network: Network,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    time_limit: float | None,
    executor: Executor | None,
    progress: bool,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[float] | None, AutoChoice]:
    """Stage 1, then stage 2 where it pays (see the module docstring)."""
    if supports_alpha(network):
        first, why_first = "alpha", "a Dense/ReLU chain"
        layers = alpha_bounds(network, lower, upper)
    else:
        first, why_first = "symbolic", "alpha needs a Dense/ReLU chain"
        layers = symbolic_bounds(network, lower, upper)
    split = undecided_neurons(network, lower, upper, layers)
    if split < AUTO_LP_MIN_SPLIT:
        reason = f"{first} ({why_first}); {split} undecided neurons < {AUTO_LP_MIN_SPLIT}, no LP tightening"
        return layers, None, AutoChoice(first, None, reason)
    budget = min(AUTO_LP_SECONDS_PER_SPLIT * split, AUTO_LP_MAX_SECONDS)
    if time_limit is not None:
        budget = min(budget, time_limit)
    if executor is None and split < AUTO_POOL_MIN_SPLIT:
        executor = InlineExecutor()
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as cut_short:
        warnings.simplefilter("always", BoundTighteningWarning)
        tightened, seconds = tightened_bounds(
            network,
            lower,
            upper,
            integer=False,
            time_limit=budget,
            executor=executor,
            progress=progress,
            initial=layers,
        )
    after = undecided_neurons(network, lower, upper, tightened)
    reason = (
        f"{first} ({why_first}), then lp: {split} undecided neurons >= {AUTO_LP_MIN_SPLIT}, "
        f"LP budget {budget:.3g} s, used {time.perf_counter() - started:.3g} s, {after} undecided after"
    )
    if cut_short:
        reason += f"; the budget ran out on {len(cut_short)} layer(s): unreached neurons keep {first} bounds"
    return tightened, seconds, AutoChoice("lp", budget, reason)
