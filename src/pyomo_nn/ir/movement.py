"""Data-movement layers: every output value is one input value or a constant.

``Transpose``, ``Slice`` and ``Pad`` re-lay a per-sample tensor of shape ``input_shape``
(batch axis excluded, flat in C order like every IR tensor). Each describes itself by
``gather(input_size)``: for every output value the index of the input value it copies, or -1
where it holds the constant ``fill`` (Pad's ``value``). The stages treat all of them, and
``Concat``, through that one description (:class:`~pyomo_nn.ir.kinds.Role` ``MOVEMENT``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from pyomo_nn.errors import ShapeMismatchError
from pyomo_nn.ir.checks import check_input_size, frozen_weights
from pyomo_nn.ir.kinds import Role

#: Pad modes: ONNX's names; ``constant`` writes ``value``, the others repeat input values.
PAD_MODES = ("constant", "edge", "reflect")

#: Most values of a gather table (128 MB as int64), like ``MAX_WINDOW_ENTRIES`` of
#: :mod:`pyomo_nn.ir.windows`: pads beyond it come from a damaged file and are refused before
#: numpy allocates them.
MAX_TABLE_ENTRIES = 2**24


def _shape(layer: str, values: tuple[int, ...]) -> tuple[int, ...]:
    shape = tuple(int(v) for v in values)
    if not shape or any(d < 1 for d in shape):
        raise ShapeMismatchError(f"layer {layer!r}: input_shape must be positive sizes, got {tuple(values)}")
    _check_entries(layer, shape)
    return shape


def _check_entries(layer: str, shape: tuple[int, ...]) -> None:
    if math.prod(shape) > MAX_TABLE_ENTRIES:
        raise ShapeMismatchError(
            f"layer {layer!r}: a tensor of shape {shape} has more than {MAX_TABLE_ENTRIES} values"
        )


def _set_table(layer: _Movement, table: np.ndarray) -> None:
    table = np.ascontiguousarray(table, dtype=np.int64)
    table.setflags(write=False)
    object.__setattr__(layer, "table", table)


def gathered(x: np.ndarray, indices: np.ndarray, fill: float) -> np.ndarray:
    """``x[:, indices]`` for a batch, with ``fill`` where an index is -1."""
    if indices.size and indices.min() < 0:
        x = np.concatenate([x, np.full((x.shape[0], 1), fill)], axis=1)
        indices = np.where(indices >= 0, indices, x.shape[1] - 1)
    return x[:, indices]


@dataclass(frozen=True, eq=False)
class _Movement:
    """A re-layout of one input tensor; subclasses set ``table``, the gather table as an array
    of the output's per-sample shape (a read-only int array, -1 for ``fill``)."""

    role: ClassVar[Role] = Role.MOVEMENT
    fill: ClassVar[float] = 0.0

    name: str
    input: str
    input_shape: tuple[int, ...]

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.table.shape

    def output_size(self, input_size: int) -> int:
        check_input_size(self.name, self.input, math.prod(self.input_shape), input_size)
        return int(self.table.size)

    def gather(self, input_size: int) -> np.ndarray:
        """Per output value, the input value it copies (-1: the constant ``fill``)."""
        return self.table.reshape(-1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return gathered(x, self.table.reshape(-1), self.fill)

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact: each output's box is its input's (or the constant)."""
        return self.forward(lower[None])[0], self.forward(upper[None])[0]


@dataclass(frozen=True, eq=False)
class Transpose(_Movement):
    """ONNX ``Transpose``: output axis ``i`` is input axis ``perm[i]`` of the per-sample tensor
    (the batch axis stays first and is not counted)."""

    perm: tuple[int, ...] = ()
    table: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shape = _shape(self.name, self.input_shape)
        perm = tuple(int(p) for p in self.perm)
        if sorted(perm) != list(range(len(shape))):
            raise ShapeMismatchError(
                f"layer {self.name!r}: perm {tuple(self.perm)} is not a permutation of the "
                f"{len(shape)} axes of {shape}"
            )
        object.__setattr__(self, "input_shape", shape)
        object.__setattr__(self, "perm", perm)
        table = np.arange(math.prod(shape)).reshape(shape).transpose(perm)
        _set_table(self, table)


@dataclass(frozen=True, eq=False)
class Slice(_Movement):
    """ONNX ``Slice`` on static ranges: along each of ``axes`` (per-sample axes, batch not
    counted; default all, in order) the indices ``range(start, end, step)`` after ONNX's rules
    (negative starts/ends count from the end, then they are clamped to the axis)."""

    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()
    axes: tuple[int, ...] | None = None
    steps: tuple[int, ...] | None = None
    table: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shape = _shape(self.name, self.input_shape)
        starts, ends = tuple(int(v) for v in self.starts), tuple(int(v) for v in self.ends)
        axes = tuple(range(len(starts))) if self.axes is None else tuple(int(a) for a in self.axes)
        steps = (1,) * len(starts) if self.steps is None else tuple(int(s) for s in self.steps)
        if not len(starts) == len(ends) == len(axes) == len(steps):
            raise ShapeMismatchError(
                f"layer {self.name!r}: starts {starts}, ends {ends}, axes {axes} and steps {steps} "
                "must have one entry per sliced axis"
            )
        axes = tuple(a + len(shape) if a < 0 else a for a in axes)
        if any(not 0 <= a < len(shape) for a in axes) or len(set(axes)) != len(axes):
            raise ShapeMismatchError(
                f"layer {self.name!r}: axes {tuple(self.axes or ())} must be distinct axes of {shape}"
            )
        if any(s == 0 for s in steps):
            raise ShapeMismatchError(f"layer {self.name!r}: a slice step of 0")
        for name, value in (("input_shape", shape), ("starts", starts), ("ends", ends)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "steps", steps)
        keep = [np.arange(d) for d in shape]
        for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
            keep[axis] = np.arange(*_onnx_range(shape[axis], start, end, step))
            if keep[axis].size == 0:
                raise ShapeMismatchError(
                    f"layer {self.name!r}: the slice {start}:{end}:{step} of axis {axis} (size "
                    f"{shape[axis]}) is empty"
                )
        table = np.arange(math.prod(shape)).reshape(shape)[np.ix_(*keep)]
        _set_table(self, table)


def _onnx_range(size: int, start: int, end: int, step: int) -> tuple[int, int, int]:
    """(start, stop, step) of ONNX Slice along an axis of ``size`` values."""
    start = start + size if start < 0 else start
    end = end + size if end < 0 else end
    if step > 0:
        return min(max(start, 0), size), min(max(end, 0), size), step
    return min(max(start, 0), size - 1), min(max(end, -1), size - 1), step


@dataclass(frozen=True, eq=False)
class Pad(_Movement):
    """ONNX ``Pad`` of the per-sample tensor: ``pads`` = (begin_0, ..., begin_{r-1}, end_0, ...,
    end_{r-1}) over its r axes (batch not counted), ONNX's order; a negative pad removes values
    (``constant`` mode only). ``mode`` ``constant`` fills with ``value``; ``edge`` repeats the
    border value and ``reflect`` mirrors the tensor without repeating the border."""

    pads: tuple[int, ...] = ()
    value: float = 0.0
    mode: str = "constant"
    table: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shape = _shape(self.name, self.input_shape)
        pads = tuple(int(p) for p in self.pads)
        rank = len(shape)
        if len(pads) != 2 * rank:
            raise ShapeMismatchError(
                f"layer {self.name!r}: pads {pads} must have 2 x {rank} entries for a tensor of shape {shape}"
            )
        if self.mode not in PAD_MODES:
            raise ShapeMismatchError(f"layer {self.name!r}: pad mode {self.mode!r} is not one of {PAD_MODES}")
        value = float(frozen_weights(self.name, "pad value", np.array([self.value]))[0])
        begins, ends = pads[:rank], pads[rank:]
        if self.mode != "constant" and min(pads) < 0:
            raise ShapeMismatchError(f"layer {self.name!r}: negative pads crop, only in constant mode")
        if self.mode == "reflect" and any(
            max(b, e) >= d for b, e, d in zip(begins, ends, shape, strict=True)
        ):
            raise ShapeMismatchError(
                f"layer {self.name!r}: reflect pads {pads} must be smaller than the axes {shape}"
            )
        if any(d + b + e < 1 for d, b, e in zip(shape, begins, ends, strict=True)):
            raise ShapeMismatchError(f"layer {self.name!r}: pads {pads} leave no value of {shape}")
        _check_entries(self.name, tuple(d + b + e for d, b, e in zip(shape, begins, ends, strict=True)))
        for name, item in (("input_shape", shape), ("pads", pads), ("value", value)):
            object.__setattr__(self, name, item)
        table = np.arange(math.prod(shape)).reshape(shape)
        table = table[
            tuple(slice(max(-b, 0), d - max(-e, 0)) for b, e, d in zip(begins, ends, shape, strict=True))
        ]
        widths = [(max(b, 0), max(e, 0)) for b, e in zip(begins, ends, strict=True)]
        if self.mode == "constant":
            table = np.pad(table, widths, mode="constant", constant_values=-1)
        else:
            table = np.pad(table, widths, mode=self.mode)
        _set_table(self, table)

    @property
    def fill(self) -> float:  # type: ignore[override]
        return self.value
