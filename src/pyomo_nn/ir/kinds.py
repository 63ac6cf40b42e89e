"""Layer kinds: the role each kind plays, and the per-stage tables that find a kind's code.

A *layer kind* is an IR class (``Dense``, ``ReLU``, ``Transpose``, ...). Its numpy part, the
data with ``forward`` and ``interval``, is the class itself; everything a later stage does
with it (symbolic back-substitution, LP rows, the MILP encoding, the ONNX export, the
attack's gradient, ...) is one entry per stage, registered side by side in the kind's unit,
:mod:`pyomo_nn.units` (``units/relu.py`` holds every stage of the ReLU). A stage keeps one
:class:`StageTable` and asks it for the entry of a layer; the IR itself imports no stage.

Every class declares its :class:`Role`, which is what the stages may assume of it without
asking the kind: which outputs are bounded, which layers get binaries, which only move values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from pyomo_nn.errors import PyomoNNError, UnsupportedNetworkError


class Role(enum.Enum):
    """What a layer kind is to the stages.

    * ``AFFINE``: ``y = sum_k M_k x_k + offset`` (``linear_maps()``, ``offset``); its outputs are
      the tensors :class:`~pyomo_nn.bounds.Bounds` bounds (the pre-activations).
    * ``PIECEWISE``: piecewise linear (ReLU, max pooling): binaries in a MILP, a relaxation
      in the bound methods; encoded by the block's chosen encoding (Big-M).
    * ``MOVEMENT``: every output is one input value or a constant (``gather``, ``fill``):
      Concat, Transpose, Slice, Pad. Exact in every stage, no rows of its own in a MILP.
    """

    AFFINE = "affine"
    PIECEWISE = "piecewise"
    MOVEMENT = "movement"


@dataclass(frozen=True, eq=False)
class ValueWise:
    """Base of the piecewise kinds applied value by value to one tensor (ReLU, LeakyReLU, Sign,
    the smooth activations): they read ``input`` and their output has its size."""

    name: str
    input: str

    role: ClassVar[Role] = Role.PIECEWISE

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def output_size(self, input_size: int) -> int:
        return input_size


Entry = TypeVar("Entry")

#: Every table made, so that the contract test can check each kind against each table.
TABLES: list[StageTable] = []


class StageTable(Generic[Entry]):
    """One stage's entries, keyed by layer kind (the exact IR class).

    ``required`` tables need an entry for every kind (a stage every network goes through);
    the others are optional (``alpha`` takes Dense/ReLU chains, pruning kinds with weights,
    an encoding its piecewise kinds). ``error`` is the exception a missing entry raises.
    """

    def __init__(
        self, stage: str, *, required: bool = True, error: type[PyomoNNError] = UnsupportedNetworkError
    ) -> None:
        self.stage = stage
        self.required = required
        self.error = error
        self._entries: dict[type, Entry] = {}
        TABLES.append(self)

    def __repr__(self) -> str:
        return f"StageTable({self.stage!r}, {len(self._entries)} kinds)"

    def register(self, kind: type, entry: Entry) -> Entry:
        """Make ``entry`` the stage's code for layers of class ``kind``; returns it."""
        if kind in self._entries:
            raise ValueError(f"internal: {kind.__name__} has two entries for stage {self.stage!r}")
        self._entries[kind] = entry
        return entry

    def stage_for(self, layer: object) -> Entry:
        """The entry for ``layer``'s kind, or the table's error naming the layer and the stage."""
        entry = self._entries.get(type(layer))
        if entry is None:
            name = getattr(layer, "name", "?")
            raise self.error(
                f"layer {name!r} ({type(layer).__name__}) has no {self.stage} stage: pyomo-nn does "
                f"not support it there (a layer kind registers one entry per stage in its unit, "
                "pyomo_nn/units/<kind>.py; see docs/extending.md)"
            )
        return entry

    def __contains__(self, kind: type) -> bool:
        return kind in self._entries

    def kinds(self) -> tuple[type, ...]:
        """The kinds with an entry, in registration order."""
        return tuple(self._entries)
