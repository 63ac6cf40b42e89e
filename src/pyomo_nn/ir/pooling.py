"""Max and average pooling over per-sample (C, H, W) tensors, flat in C order."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from pyomo_nn.ir.checks import check_input_size
from pyomo_nn.ir.kinds import Role
from pyomo_nn.ir.sparse import SparseMatrix
from pyomo_nn.ir.windows import Window2d


@dataclass(frozen=True)
class MaxPoolCandidates:
    """Which inputs of each max-pooling window can be its maximum, given input bounds.

    ``windows`` (outputs, kernel) holds input indices (-1 in the padding); ``candidate`` marks
    the inputs whose upper bound exceeds the window's largest lower bound, plus the input that
    has that lower bound (``leader``). A window is ``decided`` when its leader is the only
    candidate: its lower bound is >= every other input's upper bound, so no binary is needed.
    ``upper`` is the window's largest upper bound (the maximum's upper bound).
    """

    windows: np.ndarray
    candidate: np.ndarray
    leader: np.ndarray
    upper: np.ndarray

    @property
    def decided(self) -> np.ndarray:
        return self.candidate.sum(axis=1) == 1


@dataclass(frozen=True, eq=False)
class _Pool2d:
    """Shared settings of the pooling layers; ``pads`` are (top, left, bottom, right)."""

    name: str
    input: str
    input_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilations: tuple[int, int] = (1, 1)
    window: Window2d = field(init=False, repr=False)

    def __post_init__(self) -> None:
        window = Window2d(self.name, self.input_shape, self.kernel, self.strides, self.pads, self.dilations)
        for name in ("input_shape", "kernel", "strides", "pads", "dilations"):
            object.__setattr__(self, name, getattr(window, name))
        object.__setattr__(self, "window", window)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return (self.input_shape[0], *self.window.output_hw)

    def output_size(self, input_size: int) -> int:
        check_input_size(self.name, self.input, int(np.prod(self.input_shape)), input_size)
        return int(np.prod(self.output_shape))

    def _gather(self, x: np.ndarray, fill: float) -> np.ndarray:
        """(batch, outputs, kernel) window values of a batch; ``fill`` in the padding."""
        windows = self.window.channel_windows
        padded = np.concatenate([x, np.full((x.shape[0], 1), fill)], axis=1)
        return padded[:, np.where(windows >= 0, windows, x.shape[1])]


@dataclass(frozen=True, eq=False)
class MaxPool2d(_Pool2d):
    """ONNX ``MaxPool``: the largest value of each window (the padding never wins)."""

    role: ClassVar[Role] = Role.PIECEWISE

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._gather(x, -np.inf).max(axis=2)

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact: the max of the lower bounds and the max of the upper bounds."""
        return self.forward(lower[None])[0], self.forward(upper[None])[0]

    def candidates(self, lower: np.ndarray, upper: np.ndarray) -> MaxPoolCandidates:
        """Inputs that can be the maximum of each window over the box [lower, upper]."""
        windows = self.window.channel_windows
        valid = windows >= 0
        safe = np.where(valid, windows, 0)
        window_lower = np.where(valid, lower[safe], -np.inf)
        window_upper = np.where(valid, upper[safe], -np.inf)
        best = np.argmax(window_lower, axis=1)
        rows = np.arange(windows.shape[0])
        best_lower = window_lower[rows, best]
        candidate = valid & (window_upper > best_lower[:, None])
        candidate[rows, best] = True
        return MaxPoolCandidates(windows, candidate, windows[rows, best], window_upper.max(axis=1))


@dataclass(frozen=True, eq=False)
class AvgPool2d(_Pool2d):
    """ONNX ``AveragePool`` (and ``GlobalAveragePool``): the mean of each window, a sparse
    linear map. With ``count_include_pad`` the padding counts as zeros in the mean."""

    role: ClassVar[Role] = Role.AFFINE

    count_include_pad: bool = False

    @cached_property
    def matrix(self) -> SparseMatrix:
        windows = self.window.channel_windows
        valid = windows >= 0
        count = windows.shape[1] if self.count_include_pad else valid.sum(axis=1, keepdims=True)
        values = np.broadcast_to(1.0 / count, windows.shape)
        rows = np.broadcast_to(np.arange(windows.shape[0])[:, None], windows.shape)
        size = int(np.prod(self.input_shape))
        return SparseMatrix.from_coo(rows[valid], windows[valid], values[valid], (windows.shape[0], size))

    @cached_property
    def offset(self) -> np.ndarray:
        offset = np.zeros(self.matrix.shape[0])
        offset.setflags(write=False)
        return offset

    def linear_maps(self) -> tuple[SparseMatrix]:
        return (self.matrix,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        windows = self.window.channel_windows
        count = windows.shape[1] if self.count_include_pad else (windows >= 0).sum(axis=1)
        return self._gather(x, 0.0).sum(axis=2) / count

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact: the mean is monotone in every input."""
        return self.forward(lower[None])[0], self.forward(upper[None])[0]
