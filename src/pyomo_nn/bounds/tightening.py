"""Optimisation-based bound tightening (OBBT): ``lp`` and ``milp`` bounds.

Layer by layer (thesis Algorithm 3), every neuron that the symbolic bounds leave split is
maximised and minimised over the relaxation of the layers before it, which already carry
their tightened bounds; after each layer a new symbolic pass carries the gain forward.
Neurons of a layer are independent: chunks of them run on an executor. Soundness rules:
a neuron keeps its previous bound when a solve fails or time runs out, a MILP stopped
early contributes its dual bound, and every solver value is widened by the LP safety
margin of :mod:`pyomo_nn.tolerances`.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Executor, as_completed

import numpy as np
from tqdm import tqdm

from pyomo_nn.bounds.backends import HighsBackend
from pyomo_nn.bounds.executors import InlineExecutor, local_process_pool
from pyomo_nn.bounds.relaxation import LayerProblem, layer_problem, relu_chain
from pyomo_nn.bounds.symbolic import symbolic_bounds
from pyomo_nn.ir import Network
from pyomo_nn.tolerances import LP_BOUND_ABS, LP_BOUND_REL

#: Fewer neurons than this in a layer are solved in the calling process (a process pool's
#: start-up and the pickling of the layer problem cost more than they save).
MIN_NEURONS_FOR_POOL = 32

#: Jobs per worker and layer: more, smaller jobs balance the load and move the progress bar.
CHUNKS_PER_WORKER = 4

#: Shortest per-solve time limit given to a MILP, in seconds.
MIN_MILP_SOLVE_SECONDS = 0.05


def tightened_bounds(
    network: Network,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    integer: bool,
    time_limit: float | None,
    executor: Executor | None,
    progress: bool,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[float]]:
    """LP (``integer=False``) or MILP bounds of every Dense layer of a ReLU MLP, and the
    seconds spent on each layer.

    The MILP pass starts from the LP pass's bounds, which start from symbolic bounds.
    """
    denses = relu_chain(network)
    deadline = time.time() + time_limit if time_limit else None
    bounds = symbolic_bounds(network, lower, upper)
    seconds = [0.0] * len(denses)
    pool = None
    try:
        for integer_pass in (False, True) if integer else (False,):
            bounds, pool = _tighten_layers(
                network,
                denses,
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
    denses: list,
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
    """One pass over layers 1..L (layer 0 is exact already), adding each layer's time to
    ``seconds``; returns the bounds and the (possibly new) process pool."""
    last = len(denses) - 1
    todo = [_neurons_to_tighten(bounds[m], m == last) for m in range(len(denses))]
    bar = tqdm(
        total=sum(t.size for t in todo[1:]),
        desc=f"{'milp' if integer else 'lp'} bounds",
        unit="neuron",
        disable=not progress,
        leave=False,
    )
    try:
        for m in range(1, len(denses)):
            started = time.time()
            neurons = _neurons_to_tighten(bounds[m], m == last)
            bar.update(todo[m].size - neurons.size)
            if neurons.size == 0:
                continue
            if deadline is not None and time.time() >= deadline:
                bar.update(neurons.size)
                continue
            problem = layer_problem(denses, lower, upper, bounds[:m], m, integer)
            use_pool = neurons.size >= MIN_NEURONS_FOR_POOL
            if use_pool and executor is None and pool is None:
                pool = local_process_pool()
            runner = (executor or pool) if use_pool else InlineExecutor()
            workers = _worker_count(runner)
            layers_with_work = [k for k in range(1, len(denses)) if todo[k].size]
            solve_limit = _solve_limit(integer, m, layers_with_work, neurons.size, workers, deadline)
            chunks = np.array_split(neurons, min(neurons.size, workers * CHUNKS_PER_WORKER))
            jobs = [
                runner.submit(_tighten_chunk, problem, chunk, m < last, solve_limit, deadline)
                for chunk in chunks
                if chunk.size
            ]
            lo, hi = bounds[m][0].copy(), bounds[m][1].copy()
            for job in as_completed(jobs):
                chunk, chunk_lo, chunk_hi = job.result()
                lo[chunk] = np.maximum(lo[chunk], chunk_lo)
                hi[chunk] = np.minimum(hi[chunk], chunk_hi)
                bar.update(chunk.size)
            known = {dense.name: layer_bounds for dense, layer_bounds in zip(denses, bounds, strict=True)}
            known[denses[m].name] = (lo, hi)
            bounds = symbolic_bounds(network, lower, upper, known)
            seconds[m] += time.time() - started
    finally:
        bar.close()
    return bounds, pool


def _neurons_to_tighten(layer_bounds: tuple[np.ndarray, np.ndarray], is_output: bool) -> np.ndarray:
    """Output neurons all; hidden neurons only when split (a stable neuron's bound does not
    enter the Big-M encoding)."""
    lo, hi = layer_bounds
    return np.arange(lo.size) if is_output else np.flatnonzero((lo < 0) & (hi > 0))


def _worker_count(executor: Executor) -> int:
    if isinstance(executor, InlineExecutor):
        return 1
    count = getattr(executor, "_max_workers", None)
    return int(count) if count else 2


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
    hidden: bool,
    solve_limit: float | None,
    deadline: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Worker job: bounds of some neurons of one layer; -inf/+inf where no bound was proved."""
    backend = HighsBackend(problem)
    lows = np.full(neurons.size, -np.inf)
    highs = np.full(neurons.size, np.inf)
    for i, neuron in enumerate(neurons):
        for maximise in (True, False):
            now = time.time()
            if deadline is not None and now >= deadline:
                return neurons, lows, highs
            limit = solve_limit if deadline is None else min(solve_limit or math.inf, deadline - now)
            value = backend.bound(int(neuron), maximise, limit)
            if value is None:
                continue
            margin = LP_BOUND_ABS + LP_BOUND_REL * abs(value)
            if maximise:
                highs[i] = value + margin
                if hidden and highs[i] <= 0:
                    break
            else:
                lows[i] = value - margin
    return neurons, lows, highs
