"""Per-layer counts of what a NetworkBlock added."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerStats:
    """What the block added for one IR layer.

    For a ReLU layer ``active``/``dead``/``split`` count its stable active, stable dead and
    split neurons (one binary each). For a max pool they count the windows the bounds decide
    (``active``: the maximum is known, no binary) and the undecided ones (``split``), which get
    one binary per input that can be the maximum (``binaries``).
    """

    name: str
    kind: str
    neurons: int
    active: int
    dead: int
    split: int
    variables: int
    constraints: int
    binaries: int = 0
    #: What the rows need of a solver beyond linear rows and continuous variables (``sos1``,
    #: ``nonlinear``; binaries are counted in ``binaries``).
    needs: frozenset[str] = frozenset()
