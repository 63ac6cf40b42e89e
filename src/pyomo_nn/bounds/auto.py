"""``method="auto"``, the default: the tightest bounds their cost justifies.

1. ``symbolic`` (DeepPoly-style back-substitution: milliseconds even on 784-input nets).
2. When at least ``AUTO_MIN_UNDECIDED`` neurons stay undecided (split ReLUs, possible maxima
   of max-pool windows: the binaries the MILP branches on), a tighter method: ``alpha`` on
   Dense/ReLU chains, else LP tightening (thesis Alg. 3 with relax=1). The LP's time budget
   grows with the undecided neurons (``AUTO_LP_SECONDS_PER_SPLIT``, at most
   ``AUTO_LP_MAX_SECONDS``, never more than the caller's ``time_limit``); neurons it does not
   reach keep their symbolic bounds. LP is not run after alpha: on Dense chains alpha
   reaches nearly the LP optimum (mnist-net_256x2: 169 undecided after alpha and after LP).

Measured (benchmarks/defaults_vs_omlt.py): on the digits nets symbolic leaves 6-50 undecided
neurons, alpha decides 0-3 more and the MILPs close in 1-3 nodes, so alpha only costs time;
on a random 784-100-100-10 alpha cost 1.3-4.7 s and decided nothing more. Since ``pnn.solve``
starts from a gradient search, MILPs with up to ~100 binaries close in seconds and alpha no
longer pays there: adversarial margins around MNIST test images 0 and 1 (bounds + MILP, one
run, shared machine): mnist-net_256x2 eps 0.02, 80 and 18 undecided after symbolic: 2.4 and
0.7 s with symbolic bounds, 5.8 and 3.4 s with alpha (53 and 16 undecided); eps 0.03, 144 and
41: 38.1 and 4.2 s against 33.6 and 7.5 s; mnist-net_256x4 eps 0.015-0.02 (24-62) and
256x6 eps 0.01 (25-34): symbolic 1.5-4.8 s, alpha 1.7-12.9 s. Hence the threshold of 128.
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

#: A tighter method than symbolic runs only when at least this many neurons stay undecided.
AUTO_MIN_UNDECIDED = 128

#: LP time budget per undecided neuron (two LPs of ~0.01-0.08 s each on 784-256 layers).
AUTO_LP_SECONDS_PER_SPLIT = 0.05

#: Upper end of the LP time budget, seconds.
AUTO_LP_MAX_SECONDS = 30.0

#: Undecided neurons from which the LPs run on a process per core instead of in this process
#: (starting the workers costs about a second).
AUTO_POOL_MIN_SPLIT = 256


@dataclass(frozen=True)
class AutoChoice:
    """What ``auto`` ran: ``compute_bounds(..., method=method)`` reproduces it (``lp`` on a
    network alpha does not take starts from symbolic bounds, as here; the LP budget is
    ``time_limit``); ``reason`` says why, for ``Bounds.summary()``."""

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
    layers = symbolic_bounds(network, lower, upper)
    split = undecided_neurons(network, lower, upper, layers)
    if split < AUTO_MIN_UNDECIDED:
        reason = f"symbolic; {split} undecided neurons < {AUTO_MIN_UNDECIDED}, nothing tighter"
        return layers, None, AutoChoice("symbolic", None, reason)
    if supports_alpha(network):
        layers = alpha_bounds(network, lower, upper)
        after = undecided_neurons(network, lower, upper, layers)
        reason = f"alpha: {split} undecided after symbolic >= {AUTO_MIN_UNDECIDED}, {after} after alpha"
        return layers, None, AutoChoice("alpha", None, reason)
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
        f"lp (alpha needs a Dense/ReLU chain): {split} undecided neurons after symbolic >= "
        f"{AUTO_MIN_UNDECIDED}, "
        f"LP budget {budget:.3g} s, used {time.perf_counter() - started:.3g} s, {after} undecided after"
    )
    if cut_short:
        reason += f"; the budget ran out on {len(cut_short)} layer(s): unreached neurons keep symbolic bounds"
    return tightened, seconds, AutoChoice("lp", budget, reason)
