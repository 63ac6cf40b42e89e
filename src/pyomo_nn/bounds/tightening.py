"""Optimisation-based bound tightening (OBBT): ``lp`` and ``milp`` bounds.

Layer by layer (thesis Algorithm 3), every neuron whose bound matters to the encoding and is
not decided yet (a ReLU input the symbolic bounds leave split, a max-pool input that may be
its window's maximum, every output; each kind says which in :data:`OPEN_INPUTS`) is
maximised and minimised over the relaxation of the layers it depends on, which already
carry their tightened bounds; after each layer a new symbolic pass carries the gain forward.
Affine layers with no ReLU or max pool before them have exact symbolic bounds and are skipped.
Neurons of a layer are independent: chunks of them run on an executor. Soundness rules:
a neuron keeps its previous bound when a solve fails or time runs out, an LP bound is
certified by weak duality, and a MILP stopped early contributes its dual bound, widened by
the safety margin of :mod:`pyomo_nn.tolerances` (see :mod:`pyomo_nn.bounds.backends`).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from typing import Protocol

import numpy as np
from tqdm import tqdm

from pyomo_nn.bounds.alpha import alpha_bounds, supports_alpha
from pyomo_nn.bounds.backends import HighsBackend
from pyomo_nn.bounds.executors import InlineExecutor, local_process_pool, worker_count
from pyomo_nn.bounds.relaxation import LayerProblem, layer_problem
from pyomo_nn.bounds.symbolic import symbolic_bounds
from pyomo_nn.errors import BoundTighteningWarning
from pyomo_nn.ir import INPUT, AffineLayer, Layer, MovementLayer, Network, Role, StageTable

#: Fewer neurons than this in a layer are solved in the calling process (a process pool's
#: start-up and the pickling of the layer problem cost more than they save).
MIN_NEURONS_FOR_POOL = 32

#: Jobs per worker and layer: more, smaller jobs balance the load and move the progress bar.
CHUNKS_PER_WORKER = 4

#: Shortest per-solve time limit given to a MILP, in seconds.
MIN_MILP_SOLVE_SECONDS = 0.05

#: A (lower, upper) pair of arrays per tensor.
Boxes = dict[str, tuple[np.ndarray, np.ndarray]]


class OpenInputs(Protocol):
    """Which input values of a layer kind still need tighter bounds.

    ``open_inputs(network, boxes, layer, output_open)`` gives, per input of ``layer``, the mask
    of its values whose bounds the layer's encoding depends on and that are not decided yet
    (None: none); ``output_open()`` is that mask of the layer's own output, for kinds that
    pass the question on (data movement). ``dead_needs_no_lower``: a value whose upper bound
    is <= 0 needs no lower bound for this kind (a ReLU is 0 there whatever the lower bound).
    """

    dead_needs_no_lower: bool

    def open_inputs(
        self, network: Network, boxes: Boxes, layer: Layer, output_open: Callable[[], np.ndarray]
    ) -> list[np.ndarray | None]: ...


#: What each layer kind needs tightened in the tensors it reads; registered per kind by
#: :mod:`pyomo_nn.units`.
OPEN_INPUTS: StageTable[OpenInputs] = StageTable("bound tightening")


class _NoOpenInputs:
    """An affine layer reads exact linear rows: its inputs' bounds do not enter its encoding
    (its own outputs are tightened as targets)."""

    dead_needs_no_lower = False

    def open_inputs(
        self, network: Network, boxes: Boxes, layer: Layer, output_open: Callable[[], np.ndarray]
    ) -> list[np.ndarray | None]:
        return [None] * len(layer.inputs)


class _CopiedOpenInputs:
    """A data-movement layer: an input value is open when a value copied from it is."""

    dead_needs_no_lower = False

    def open_inputs(
        self, network: Network, boxes: Boxes, layer: MovementLayer, output_open: Callable[[], np.ndarray]
    ) -> list[np.ndarray | None]:
        sizes = [network.sizes[source] for source in layer.inputs]
        gather = layer.gather(*sizes)
        joined = np.zeros(sum(sizes), dtype=bool)
        joined[gather[output_open() & (gather >= 0)]] = True
        starts = np.cumsum([0, *sizes])
        return [joined[starts[k] : starts[k + 1]] for k in range(len(sizes))]


#: The entries of the affine and the data-movement kinds.
AFFINE_INPUTS = _NoOpenInputs()
MOVEMENT_INPUTS = _CopiedOpenInputs()


def tightened_bounds(
    network: Network,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    integer: bool,
    time_limit: float | None,
    executor: Executor | None,
    progress: bool,
    initial: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[float]]:
    """LP (``integer=False``) or MILP bounds of every affine layer, and the seconds spent on
    each layer.

    The MILP pass starts from the LP pass's bounds, which start from ``initial`` (valid
    bounds the caller has already) or else from alpha bounds where the network supports
    them, else from symbolic bounds.
    """
    targets = network.affine_layers
    deadline = time.time() + time_limit if time_limit else None
    start = alpha_bounds if supports_alpha(network) else symbolic_bounds
    bounds = initial if initial is not None else start(network, lower, upper)
    seconds = [0.0] * len(targets)
    pool = None
    try:
        for integer_pass in (False, True) if integer else (False,):
            bounds, pool = _tighten_layers(
                network,
                lower,
                upper,
                bounds,
                integer_pass,
                deadline,
                executor,
                pool,
                progress,
                seconds,
            )
    finally:
        if pool is not None:
            pool.shutdown()
    return bounds, seconds


def _tighten_layers(
    network: Network,
    lower: np.ndarray,
    upper: np.ndarray,
    bounds: list[tuple[np.ndarray, np.ndarray]],
    integer: bool,
    deadline: float | None,
    executor: Executor | None,
    pool: Executor | None,
    progress: bool,
    seconds: list[float],
) -> tuple[list[tuple[np.ndarray, np.ndarray]], Executor | None]:
    """One pass over the affine layers whose bounds are not exact already, adding each layer's
    time to ``seconds``; returns the bounds and the (possibly new) process pool."""
    targets = network.affine_layers
    inexact = _inexact_layers(network)
    todo = [
        _neurons_to_tighten(network, _boxes(network, lower, upper, bounds), m) for m in range(len(targets))
    ]
    bar = tqdm(
        total=sum(todo[m].size for m in inexact),
        desc=f"{'milp' if integer else 'lp'} bounds",
        unit="neuron",
        disable=not progress,
        leave=False,
    )
    try:
        for m in inexact:
            started = time.time()
            boxes = _boxes(network, lower, upper, bounds)
            neurons = _neurons_to_tighten(network, boxes, m)
            bar.update(todo[m].size - neurons.size)
            if neurons.size == 0:
                continue
            if deadline is not None and time.time() >= deadline:
                bar.update(neurons.size)
                _warn_unproved(integer, targets[m].name, 2 * neurons.size, 2 * neurons.size)
                continue
            problem = layer_problem(network, boxes, targets[m], integer)
            use_pool = neurons.size >= MIN_NEURONS_FOR_POOL
            if use_pool and executor is None and pool is None:
                pool = local_process_pool()
            runner = (executor or pool) if use_pool else InlineExecutor()
            workers = worker_count(runner)
            layers_with_work = [k for k in inexact if todo[k].size]
            solve_limit = _solve_limit(integer, m, layers_with_work, neurons.size, workers, deadline)
            chunks = np.array_split(neurons, min(neurons.size, workers * CHUNKS_PER_WORKER))
            jobs = [
                runner.submit(
                    _tighten_chunk,
                    problem,
                    chunk,
                    _feeds_only_relus(network, targets[m]),
                    solve_limit,
                    deadline,
                )
                for chunk in chunks
                if chunk.size
            ]
            lo, hi = bounds[m][0].copy(), bounds[m][1].copy()
            unproved = 0
            for job in as_completed(jobs):
                chunk, chunk_lo, chunk_hi, chunk_unproved = job.result()
                unproved += chunk_unproved
                lo[chunk] = np.maximum(lo[chunk], chunk_lo)
                hi[chunk] = np.minimum(hi[chunk], chunk_hi)
                bar.update(chunk.size)
            known = {layer.name: layer_bounds for layer, layer_bounds in zip(targets, bounds, strict=True)}
            known[targets[m].name] = (lo, hi)
            bounds = symbolic_bounds(network, lower, upper, known)
            seconds[m] += time.time() - started
            _warn_unproved(integer, targets[m].name, unproved, 2 * neurons.size)
    finally:
        bar.close()
    return bounds, pool


def _warn_unproved(integer: bool, layer: str, unproved: int, solves: int) -> None:
    """Report solves the time limit cut short or never started: their neurons keep their
    starting bounds, which are valid but looser."""
    if unproved:
        warnings.warn(
            f"{'milp' if integer else 'lp'} bounds of layer {layer!r}: {unproved} of {solves} "
            "solves stopped at the time limit or were not reached, without a bound; those neurons "
            "keep their starting (looser) bounds. Raise time_limit for tighter bounds",
            BoundTighteningWarning,
            stacklevel=5,
        )


def undecided_neurons(
    network: Network, lower: np.ndarray, upper: np.ndarray, bounds: list[tuple[np.ndarray, np.ndarray]]
) -> int:
    """Hidden neurons whose bounds the encoding still depends on (split ReLU inputs, possible
    maxima of undecided max-pool windows): the binaries a MILP over these bounds branches on."""
    boxes = _boxes(network, lower, upper, bounds)
    output = network.layers[-1].name
    return sum(
        int(np.count_nonzero(_open_values(network, boxes, layer.name)))
        for layer in network.affine_layers
        if layer.name != output
    )


def _boxes(
    network: Network, lower: np.ndarray, upper: np.ndarray, bounds: list[tuple[np.ndarray, np.ndarray]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Bounds of every tensor: affine layers from ``bounds``, the others by interval arithmetic."""
    names = (layer.name for layer in network.affine_layers)
    return network.interval_boxes(lower, upper, dict(zip(names, bounds, strict=True)))


def _inexact_layers(network: Network) -> list[int]:
    """Indices (among the affine layers) of those with a ReLU or max pool before them: the
    others are affine maps of the input box, which symbolic bounds already bound exactly."""
    piecewise_before: dict[str, bool] = {INPUT: False}
    for layer in network.layers:
        piecewise_before[layer.name] = layer.role is Role.PIECEWISE or any(
            piecewise_before[name] for name in layer.inputs
        )
    return [
        m
        for m, layer in enumerate(network.affine_layers)
        if any(piecewise_before[name] for name in layer.inputs)
    ]


def _neurons_to_tighten(
    network: Network, boxes: dict[str, tuple[np.ndarray, np.ndarray]], m: int
) -> np.ndarray:
    """Neurons of affine layer m whose bounds enter the encoding and are not decided: all of
    the output layer; a ReLU input only when split (a stable neuron's bound does not enter the
    Big-M encoding); a max-pool input when it may be the maximum of an undecided window."""
    layer = network.affine_layers[m]
    if layer.name == network.layers[-1].name:
        return np.arange(network.sizes[layer.name])
    return np.flatnonzero(_open_values(network, boxes, layer.name))


def _open_values(network: Network, boxes: Boxes, name: str) -> np.ndarray:
    """Mask of the values of tensor ``name`` whose bounds a ReLU or max pool still depends on
    (directly, or through layers that only move values)."""
    mask = np.zeros(network.sizes[name], dtype=bool)
    for reader in network.consumers(name):
        masks = OPEN_INPUTS.stage_for(reader).open_inputs(
            network, boxes, reader, lambda reader=reader: _open_values(network, boxes, reader.name)
        )
        for source, part in zip(reader.inputs, masks, strict=True):
            if source == name and part is not None:
                mask |= part
    return mask


def _feeds_only_relus(network: Network, layer: AffineLayer) -> bool:
    """True when only kinds that ignore the lower bound of a dead value (ReLUs) read the layer:
    an upper bound <= 0 then makes its lower bound moot."""
    readers = network.consumers(layer.name)
    return bool(readers) and all(OPEN_INPUTS.stage_for(reader).dead_needs_no_lower for reader in readers)


def _solve_limit(
    integer: bool, m: int, layers_with_work: list[int], neurons: int, workers: int, deadline: float | None
) -> float | None:
    """Per-solve time limit. LP: the time left. MILP: layer m gets a share of the time left
    proportional to 2^m among the layers still to do (thesis 2.3.4: deeper layers are
    exponentially harder), split over its solves."""
    remaining = None if deadline is None else max(deadline - time.time(), 0.0)
    if not integer or remaining is None:
        return remaining
    share = 2.0**m / sum(2.0**k for k in layers_with_work if k >= m)
    rounds = math.ceil(2 * neurons / workers)
    return min(max(remaining * share / rounds, MIN_MILP_SOLVE_SECONDS), remaining)


def _tighten_chunk(
    problem: LayerProblem,
    neurons: np.ndarray,
    only_relus_read: bool,
    solve_limit: float | None,
    deadline: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Worker job: bounds of some neurons of one layer (-inf/+inf where no bound was proved)
    and the number of solves that ended without a bound."""
    backend = HighsBackend(problem)
    lows = np.full(neurons.size, -np.inf)
    highs = np.full(neurons.size, np.inf)
    unproved = 0
    for i, neuron in enumerate(neurons):
        for maximise in (True, False):
            now = time.time()
            if deadline is not None and now >= deadline:
                return neurons, lows, highs, unproved + 2 * (neurons.size - i) - (not maximise)
            limit = solve_limit if deadline is None else min(solve_limit or math.inf, deadline - now)
            value = backend.bound(int(neuron), maximise, limit)
            if value is None:
                unproved += 1
                continue
            if maximise:
                highs[i] = value
                if only_relus_read and value <= 0:
                    break
            else:
                lows[i] = value
    return neurons, lows, highs, unproved
