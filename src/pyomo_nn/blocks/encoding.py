"""Encodings of the piecewise-linear layer kinds (ReLU, max pooling) as MILP rows.

A :class:`~pyomo_nn.NetworkBlock` encodes its affine and data-movement layers one way only;
its piecewise layers go through the *encoding* chosen by name when the block is built
(``NetworkBlock(net, bounds, encoding="bigm")``). An encoding is a table with one
:class:`Encoding` per piecewise kind, registered by the kind's unit in :mod:`pyomo_nn.units`
(``units/relu.py`` holds the ReLU's Big-M rows, ``units/max_pool2d.py`` Fischetti & Jo's).

Big-M is the one encoding now. Another (SOS1, complementarity, partition) is one more entry
of :data:`ENCODINGS` with an :class:`Encoding` for each piecewise kind, side by side with
Big-M's; nothing else of the block changes (docs/extending.md, "New encoding").
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks.stats import LayerStats
from pyomo_nn.errors import InvalidArgumentError
from pyomo_nn.ir import Layer, StageTable


class Encoded(Protocol):
    """What an encoding keeps of one layer after :meth:`Encoding.encode` (for the warm start
    and the block's questions about the layer); ``stats`` is what it added."""

    stats: LayerStats


class Encoding(Protocol):
    """How one piecewise kind is written as MILP rows under one encoding.

    ``encode`` adds the rows of ``layer`` to ``block`` (its own sub-block,
    ``network_block.layers[layer.name]``) for an input ``source`` whose values lie in
    [``lower``, ``upper``] (the Big-M constants come from these bounds only), and returns the
    output variables (flat, C order) and what it keeps. ``source`` is a list of variables, or,
    when ``accepts_rows``, a :class:`~pyomo_nn.blocks.network_block.LinearRows` of linear
    expressions (an affine layer read only by such kinds gets no variables of its own).
    ``warm_start`` gives every variable of the sub-block its value for input values ``x`` with
    outputs ``y`` (numpy, one sample), a feasible point of the rows.
    """

    accepts_rows: bool

    def encode(
        self, block: pyo.Block, layer: Layer, source: Any, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[list, Encoded]: ...

    def warm_start(
        self, block: pyo.Block, layer: Layer, encoded: Encoded, x: np.ndarray, y: np.ndarray
    ) -> None: ...


#: The encodings by name; each holds one :class:`Encoding` per piecewise kind (an optional
#: table: only piecewise kinds have one).
ENCODINGS: dict[str, StageTable[Encoding]] = {"bigm": StageTable("Big-M encoding", required=False)}

#: Big-M (thesis (1.1)-(1.8); Fischetti & Jo for max pooling).
BIG_M = ENCODINGS["bigm"]

DEFAULT_ENCODING = "bigm"


def encoding_named(name: object) -> StageTable[Encoding]:
    """The encoding called ``name``, or an error listing those there are."""
    if not isinstance(name, str) or name not in ENCODINGS:
        raise InvalidArgumentError(f"unknown encoding {name!r}; choose one of {sorted(ENCODINGS)}")
    return ENCODINGS[name]
