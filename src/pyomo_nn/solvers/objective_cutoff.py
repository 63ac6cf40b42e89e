"""Fix, for one solve, the neuron phases an objective cut-off decides (issue 14, item 2).

Once the gradient search (:mod:`~pyomo_nn.solvers.gradient_start`) has given the solver a
start with objective value v, :func:`~pyomo_nn.bounds.cutoff.decide_neurons` finds the split
neurons whose phase is the same for every network input at least as good as v (less a margin,
``CUTOFF_MARGIN_*`` in :mod:`pyomo_nn.tolerances`). Their binaries are fixed during the solve
and released after it. This is sound when the start is a feasible point of the whole model
(checked: :func:`~pyomo_nn.solvers.start_check.start_is_feasible`): then v is reachable, an
optimum lies where the objective is at least v, every point of the model there is a point of
the network there, and so it keeps its phases; the solver's answer and dual bound hold for
the model as the user built it, which is left as it was.

It applies where it is sound and pays: one network block in the objective, which the search
took (linear in the block's outputs and inputs), a start feasible for the whole model, a split
neuron with a free binary, at most ``CUTOFF_MAX_WEIGHTS`` weights (above that each LP costs
more than its share of what it saves), and a solver not in ``CUTOFF_SKIPPED_SOLVERS``.
Measured on the adversarial MILPs of benchmarks/defaults_vs_omlt.py, from ONNX file to
optimum: on the six digits instances (6-50 split neurons) 1.4-2.0x faster with HiGHS (1.7x
geometric mean), the same optima.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData

from pyomo_nn.bounds.cutoff import DecidedNeurons, decide_neurons
from pyomo_nn.errors import InvalidArgumentError, SolverFailedError
from pyomo_nn.ir import INPUT, Network, ReLU, SparseMatrix
from pyomo_nn.solvers.config import SolverConfig
from pyomo_nn.solvers.gradient_start import SearchedStart
from pyomo_nn.solvers.start_check import start_is_feasible
from pyomo_nn.tolerances import CUTOFF_MARGIN_ABS, CUTOFF_MARGIN_REL

#: Most weights (non-zeros of the affine layers) for which the cut-off runs. Every LP pays for
#: them: the digits nets have 3,400-17,400 and re-solve in 1-3 ms; on the 784-input nets of
#: the same benchmark (mnist-net_256x2: 268,800; random 784-100-100-10: 89,400) an LP costs
#: about 7 ms and the cut-off cost more than it saved (mnist-net_256x2: 1.04 s of LPs for
#: 0.62 s less of HiGHS; the random net: 0.53 s for 0.04 s).
CUTOFF_MAX_WEIGHTS = 50_000

#: Solvers the cut-off is not run for: it costs them more than it saves. On the six digits
#: instances (benchmarks/cutoff_by_solver.py, end to end, fastest of 3), GLPK closes the plain
#: models in 0.03-0.26 s and the cut-off made it 0.81x as fast (geometric mean); it made SCIP
#: 2.66x, HiGHS 1.64x, CBC 1.54x and Gurobi 1.29x as fast.
CUTOFF_SKIPPED_SOLVERS = frozenset({"glpk"})

#: The cut-off's share of the solve's time limit, and its most seconds.
CUTOFF_TIME_SHARE = 0.05
CUTOFF_MAX_SECONDS = 10.0


def cutoff_seconds(time_limit: float | None) -> float:
    """The cut-off's share of a solve's time limit."""
    return (
        CUTOFF_MAX_SECONDS if time_limit is None else min(CUTOFF_MAX_SECONDS, CUTOFF_TIME_SHARE * time_limit)
    )


def config_after_cutoff(config: SolverConfig, decided: DecidedNeurons) -> SolverConfig:
    """The solve's settings once the cut-off ran: its seconds (at most its share) come off the
    time limit, which covers the whole call."""
    if config.time_limit is None:
        return config
    spent = min(decided.seconds, CUTOFF_TIME_SHARE * config.time_limit)
    return replace(config, time_limit=config.time_limit - spent)


@contextmanager
def decided_phases_fixed(
    model: pyo.Block, searched: SearchedStart | None, config: SolverConfig
) -> Iterator[DecidedNeurons | None]:
    """Within the searched block, the binaries of the neurons the cut-off decides are fixed;
    yields what was decided (None where the cut-off does not apply or its LPs failed). Call
    it with every block of ``model`` warm-started: the start is checked against the model."""
    binaries = None if config.name in CUTOFF_SKIPPED_SOLVERS else _open_binaries(model, searched)
    if binaries is None:
        yield None
        return
    target = searched.target
    block = target.blocks[0]
    boxes = block.bounds.tensor_boxes(block.network)
    boxes[INPUT] = (target.lower, target.upper)
    best = target.sense * searched.summary.objective  # the maximised value, without the constant
    try:
        decided = decide_neurons(
            block.network,
            boxes,
            output_coefs=target.sense * target.output_coefs[0],
            input_coefs=target.sense * target.input_coefs,
            threshold=best - CUTOFF_MARGIN_ABS - CUTOFF_MARGIN_REL * abs(best),
            incumbent=searched.point,
            seconds=cutoff_seconds(config.time_limit),
            threads=config.threads,
        )
    except SolverFailedError:  # the cut-off only speeds the solve up: without it, solve as is
        yield None
        return
    fixed = []
    try:
        for phase, neurons_by_layer in ((0, decided.dead), (1, decided.active)):
            for layer, neurons in neurons_by_layer.items():
                for j in neurons:
                    var = binaries.get((layer, int(j)))
                    if var is not None:
                        var.fix(phase)
                        fixed.append(var)
        yield decided
    finally:
        for var in fixed:
            var.unfix()


def _open_binaries(model: pyo.Block, searched: SearchedStart | None) -> dict[tuple[str, int], VarData] | None:
    """The free binaries of the searched block's split ReLU neurons by (layer, neuron), or None
    where the cut-off does not apply (see the module docstring)."""
    if searched is None or len(searched.target.blocks) != 1:
        return None
    block = searched.target.blocks[0]
    if _weight_count(block.network) > CUTOFF_MAX_WEIGHTS:
        return None
    binaries = {}
    for layer in block.network.layers:
        if not isinstance(layer, ReLU):
            continue
        lower, upper = block.pre_activation_bounds(layer.name)
        for j in np.flatnonzero((lower < 0) & (upper > 0)):
            try:
                state = block.activation_state(layer.name, int(j))
            except InvalidArgumentError:  # a formulation without binaries (SOS1)
                break
            if not isinstance(state, int) and state.is_binary() and not state.fixed:
                binaries[(layer.name, int(j))] = state
    if not binaries or not start_is_feasible(model):
        return None
    return binaries


def _weight_count(network: Network) -> int:
    """Non-zero weights of the network's affine layers."""
    return sum(
        matrix.nnz if isinstance(matrix, SparseMatrix) else int(np.count_nonzero(matrix))
        for layer in network.affine_layers
        for matrix in layer.linear_maps()
    )
