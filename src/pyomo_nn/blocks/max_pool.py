"""Max pooling as a 0-1 MILP (Fischetti & Jo; docs/design.md 3.2).

For window k with inputs x_i bounded by [L_i, U_i] and ``U = max_i U_i``:
``y >= x_i``, ``y <= x_i + (U - L_i)(1 - d_i)``, ``sum_i d_i = 1``, d binary. Only inputs
that can be the maximum (``U_i`` above the window's largest lower bound) take part; a window
whose bounds decide the maximum (one input's lower bound >= every other input's upper bound)
gets ``y = x_lead`` and no binary.

Components of ``layers[<maxpool name>]``: ``y[k]``, ``d[k, i]`` (input i is the max of window
k), constraints ``decided[k]``, ``above[k, i]``, ``chosen[k, i]``, ``one_max[k]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks.components import bounded_var, constraint_rows
from pyomo_nn.blocks.stats import LayerStats
from pyomo_nn.ir import MaxPool2d


@dataclass(frozen=True)
class MaxPoolEncoding:
    """The (window, input) pairs that carry a binary, kept for the warm start."""

    pairs: list[tuple[int, int]]
    stats: LayerStats


def encode_max_pool(
    block: pyo.Block, layer: MaxPool2d, source: list, lower: np.ndarray, upper: np.ndarray
) -> tuple[list, MaxPoolEncoding]:
    """Add the encoding of ``layer`` to ``block`` (inputs ``source`` with bounds [lower, upper]);
    returns the output variables and what was added."""
    candidates = layer.candidates(lower, upper)
    out_lower, out_upper = layer.interval(lower, upper)
    n = out_lower.size
    decided = np.flatnonzero(candidates.decided).tolist()
    window, slot = np.nonzero(candidates.candidate & ~candidates.decided[:, None])
    inputs = candidates.windows[window, slot]
    pairs = list(zip(window.tolist(), inputs.tolist(), strict=True))
    big_m = {
        pair: float(candidates.upper[k] - lower[i]) for pair, k, i in zip(pairs, window, inputs, strict=True)
    }
    undecided = sorted(set(window.tolist()))

    block.y = bounded_var(range(n), out_lower, out_upper)
    block.d = pyo.Var(pairs, domain=pyo.Binary)
    y, d, leaders = block.y, block.d, candidates.leader
    block.decided = constraint_rows(decided, lambda k: y[k] - source[leaders[k]] == 0)
    block.above = constraint_rows(pairs, lambda k, i: y[k] - source[i] >= 0)
    block.chosen = constraint_rows(
        pairs, lambda k, i: y[k] - source[i] + big_m[k, i] * d[k, i] <= big_m[k, i]
    )
    members: dict[int, list[int]] = {k: [] for k in undecided}
    for k, i in pairs:
        members[k].append(i)
    block.one_max = constraint_rows(undecided, lambda k: sum(d[k, i] for i in members[k]) == 1)
    stats = LayerStats(
        name=layer.name,
        kind="maxpool",
        neurons=n,
        active=len(decided),
        dead=0,
        split=len(undecided),
        variables=n + len(pairs),
        constraints=len(decided) + 2 * len(pairs) + len(undecided),
        binaries=len(pairs),
    )
    return [block.y[k] for k in range(n)], MaxPoolEncoding(pairs, stats)


def warm_start_max_pool(block: pyo.Block, encoding: MaxPoolEncoding, x: np.ndarray, y: np.ndarray) -> None:
    """Set ``y`` and the binaries of a max pool at input values ``x`` (outputs ``y``)."""
    for k in range(y.size):
        block.y[k].set_value(float(y[k]), skip_validation=True)
    chosen: dict[int, int] = {}
    for k, i in encoding.pairs:
        if k not in chosen or x[i] > x[chosen[k]]:
            chosen[k] = i
    for k, i in encoding.pairs:
        block.d[k, i].set_value(float(chosen[k] == i), skip_validation=True)
