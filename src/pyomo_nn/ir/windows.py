"""Geometry of sliding 2-D windows (convolutions and pooling) over per-sample (C, H, W) tensors.

A window of ``kernel`` positions, spaced ``dilations`` apart, slides by ``strides`` over the
input padded with ``pads`` = (top, left, bottom, right), as in ONNX. Positions that fall in
the padding have index -1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pyomo_nn.errors import ShapeMismatchError
from pyomo_nn.ir.checks import int_tuple

#: Most entries of the window index tables (channels x output positions x kernel size; 128 MB
#: as int64). A 3 x 3 kernel over 64 channels of 112 x 112 positions needs 7.2e6, far more than
#: verification CNNs; beyond this the geometry comes from a damaged file (pads or dilations of
#: 1e9), refused before numpy spends seconds or fails with a MemoryError.
MAX_WINDOW_ENTRIES = 2**24


@dataclass(frozen=True, eq=False)
class Window2d:
    """Where each output position of a 2-D sliding-window layer reads its input."""

    layer: str
    input_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilations: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "input_shape", int_tuple(self.layer, "input_shape (C, H, W)", self.input_shape, 3, 1))
        set_(self, "kernel", int_tuple(self.layer, "kernel", self.kernel, 2, 1))
        set_(self, "strides", int_tuple(self.layer, "strides", self.strides, 2, 1))
        set_(self, "pads", int_tuple(self.layer, "pads (top, left, bottom, right)", self.pads, 4, 0))
        set_(self, "dilations", int_tuple(self.layer, "dilations", self.dilations, 2, 1))
        height, width = self.output_hw
        if height < 1 or width < 1:
            raise ShapeMismatchError(
                f"layer {self.layer!r}: a {self.kernel} window (dilations {self.dilations}) does not "
                f"fit the {self.input_shape[1:]} input padded by {self.pads}"
            )
        entries = self.channels * self.positions * self.kernel[0] * self.kernel[1]
        if entries > MAX_WINDOW_ENTRIES:
            raise ShapeMismatchError(
                f"layer {self.layer!r}: {self.channels} channels of {height} x {width} windows of size "
                f"{self.kernel} need {entries} index entries, more than pyomo-nn builds "
                f"({MAX_WINDOW_ENTRIES}); check the kernel, pads, strides and dilations"
            )
        empty = np.flatnonzero(np.all(self.spatial_indices < 0, axis=1))
        if empty.size:
            raise ShapeMismatchError(
                f"layer {self.layer!r}: {empty.size} windows lie entirely in the padding {self.pads}; "
                "pads must be smaller than the window"
            )

    @property
    def channels(self) -> int:
        return self.input_shape[0]

    @property
    def input_hw(self) -> int:
        """Values per input channel."""
        return self.input_shape[1] * self.input_shape[2]

    @property
    def output_hw(self) -> tuple[int, int]:
        """(height, width) of the output."""
        sizes = []
        for axis in (0, 1):
            padded = self.input_shape[1 + axis] + self.pads[axis] + self.pads[axis + 2]
            extent = self.dilations[axis] * (self.kernel[axis] - 1) + 1
            sizes.append((padded - extent) // self.strides[axis] + 1)
        return sizes[0], sizes[1]

    @property
    def positions(self) -> int:
        """Output positions per channel."""
        height, width = self.output_hw
        return height * width

    @cached_property
    def spatial_indices(self) -> np.ndarray:
        """(positions, kernel size) flat input index ``y * W + x`` inside one channel, -1 in the padding."""
        out_h, out_w = self.output_hw
        in_h, in_w = self.input_shape[1:]
        ky, kx = np.meshgrid(np.arange(self.kernel[0]), np.arange(self.kernel[1]), indexing="ij")
        oy, ox = np.meshgrid(np.arange(out_h), np.arange(out_w), indexing="ij")
        y = oy.reshape(-1, 1) * self.strides[0] - self.pads[0] + ky.reshape(1, -1) * self.dilations[0]
        x = ox.reshape(-1, 1) * self.strides[1] - self.pads[1] + kx.reshape(1, -1) * self.dilations[1]
        inside = (y >= 0) & (y < in_h) & (x >= 0) & (x < in_w)
        indices = np.where(inside, y * in_w + x, -1)
        indices.setflags(write=False)
        return indices

    @cached_property
    def channel_windows(self) -> np.ndarray:
        """(channels * positions, kernel size) flat input index of every window of every
        channel (output order C, H, W), -1 in the padding."""
        spatial = self.spatial_indices
        offsets = (np.arange(self.channels) * self.input_hw)[:, None, None]
        windows = np.where(spatial[None] >= 0, spatial[None] + offsets, -1).reshape(-1, spatial.shape[1])
        windows.setflags(write=False)
        return windows
