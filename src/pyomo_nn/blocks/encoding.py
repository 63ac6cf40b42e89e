"""Encodings of the piecewise-linear layer kinds (ReLU, max pooling) as MILP rows.

A :class:`~pyomo_nn.NetworkBlock` encodes its affine and data-movement layers one way only;
its piecewise layers go through the *encoding* (formulation) chosen by name when the block is
built (``NetworkBlock(net, bounds, formulation="bigm")``). An encoding is a table with one
:class:`Encoding` per piecewise kind, registered by the kind's unit in :mod:`pyomo_nn.units`
(``units/relu.py`` holds the ReLU's Big-M rows, ``units/max_pool2d.py`` Fischetti & Jo's).

The encodings are ``bigm`` (the default), ``sos1``, ``partition`` and ``complementarity``
(:data:`ENCODING_INFO` says what each needs of a solver; docs/formulations.md). Each is one
entry of :data:`ENCODINGS` with an :class:`Encoding` for each piecewise kind, side by side
with Big-M's (docs/extending.md, "New encoding").
"""

from __future__ import annotations

from dataclasses import dataclass
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
ENCODINGS: dict[str, StageTable[Encoding]] = {
    "bigm": StageTable("Big-M encoding", required=False),
    "sos1": StageTable("SOS1 encoding", required=False),
    "partition": StageTable("partition encoding", required=False),
    "complementarity": StageTable("complementarity encoding", required=False),
}

#: Big-M (thesis (1.1)-(1.8); Fischetti & Jo for max pooling).
BIG_M = ENCODINGS["bigm"]

DEFAULT_ENCODING = "bigm"

#: What a model may need of its solver: ``binaries`` (integer variables), ``sos1`` (SOS1
#: constraints), ``nonlinear`` (products or smooth functions of variables).
REQUIREMENTS = ("binaries", "sos1", "nonlinear")


@dataclass(frozen=True)
class EncodingInfo:
    """What an encoding is and which solvers it suits: ``needs`` (of :data:`REQUIREMENTS`),
    ``solver_kinds`` (words for people), ``solvers`` (Pyomo names known to take it),
    ``global_optimum`` (False: a solver may stop at a local optimum and prove no bound)."""

    name: str
    description: str
    needs: frozenset[str]
    solver_kinds: str
    solvers: tuple[str, ...]
    global_optimum: bool = True


#: The encodings' descriptions, in the order :func:`formulations` lists them.
ENCODING_INFO: dict[str, EncodingInfo] = {
    "bigm": EncodingInfo(
        "bigm",
        "Big-M, thesis (1.1)-(1.8): one binary per split neuron, constants from the bounds",
        frozenset({"binaries"}),
        "MILP",
        ("highs", "cbc", "glpk", "scip_direct", "gurobi", "cplex", "xpress"),
    ),
    "sos1": EncodingInfo(
        "sos1",
        "h, hbar of a split neuron in one SOS1 set: no binary, no M in the rows",
        frozenset({"sos1"}),
        "MILP with SOS constraints",
        ("cbc", "scip_direct", "gurobi", "cplex", "xpress"),
    ),
    "partition": EncodingInfo(
        "partition",
        "Tsay, Kronqvist, Thebelt, Misener (NeurIPS 2021): each split neuron's sum in N "
        "partitions (partitions=N), between Big-M and the convex hull",
        frozenset({"binaries"}),
        "MILP",
        ("highs", "cbc", "glpk", "scip_direct", "gurobi", "cplex", "xpress"),
    ),
    "complementarity": EncodingInfo(
        "complementarity",
        "h * hbar = 0 for a split neuron: no binary, a nonconvex NLP (local optimum unless "
        "the solver is global)",
        frozenset({"nonlinear"}),
        "NLP (local: Ipopt) or global MINLP (SCIP, Gurobi)",
        ("ipopt", "cyipopt", "scip_direct", "gurobi"),
        global_optimum=False,
    ),
}

#: Default number of partitions per split neuron of the ``partition`` encoding.
DEFAULT_PARTITIONS = 2


def formulations() -> list[EncodingInfo]:
    """Every encoding (formulation) of the piecewise layers with the solver kinds it suits."""
    return [ENCODING_INFO[name] for name in ENCODINGS]


def encoding_named(name: object) -> StageTable[Encoding]:
    """The encoding called ``name``, or an error listing those there are."""
    if not isinstance(name, str) or name not in ENCODINGS:
        raise InvalidArgumentError(f"unknown formulation {name!r}; choose one of {sorted(ENCODINGS)}")
    return ENCODINGS[name]
