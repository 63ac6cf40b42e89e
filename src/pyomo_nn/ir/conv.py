"""2-D convolution as a sparse affine layer over flat per-sample vectors in (C, H, W) order."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from pyomo_nn.errors import ShapeMismatchError
from pyomo_nn.ir.checks import check_input_size, frozen_weights, int_tuple
from pyomo_nn.ir.kinds import Role
from pyomo_nn.ir.sparse import SparseMatrix
from pyomo_nn.ir.windows import Window2d

#: Samples are convolved in batches of about this many gathered values (bounds peak memory).
GATHER_BUDGET = 1 << 24


@dataclass(frozen=True, eq=False)
class Conv2d:
    """ONNX ``Conv``: ``weight`` (out channels, in channels / groups, kh, kw), ``bias`` (out
    channels,), on an input of per-sample shape ``input_shape`` = (C, H, W); ``pads`` are
    (top, left, bottom, right). Output shape (out channels, H', W'), flattened in C order."""

    role: ClassVar[Role] = Role.AFFINE

    name: str
    input: str
    weight: np.ndarray
    bias: np.ndarray
    input_shape: tuple[int, int, int]
    strides: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilations: tuple[int, int] = (1, 1)
    groups: int = 1
    window: Window2d = field(init=False, repr=False)

    def __post_init__(self) -> None:
        weight = frozen_weights(self.name, "weight", self.weight)
        bias = frozen_weights(self.name, "bias", self.bias)
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "bias", bias)
        (groups,) = int_tuple(self.name, "groups", (self.groups,), 1, 1)
        object.__setattr__(self, "groups", groups)
        if weight.ndim != 4:
            raise ShapeMismatchError(
                f"layer {self.name!r}: conv weight must be 4-D (out, in/groups, kh, kw), got {weight.shape}"
            )
        if bias.shape != (weight.shape[0],):
            raise ShapeMismatchError(
                f"layer {self.name!r}: bias shape {bias.shape} does not match the "
                f"{weight.shape[0]} output channels"
            )
        window = Window2d(
            self.name, self.input_shape, weight.shape[2:], self.strides, self.pads, self.dilations
        )
        for name in ("input_shape", "strides", "pads", "dilations"):
            object.__setattr__(self, name, getattr(window, name))
        object.__setattr__(self, "window", window)
        channels = window.channels
        if channels % groups or weight.shape[0] % groups or weight.shape[1] * groups != channels:
            raise ShapeMismatchError(
                f"layer {self.name!r}: weight {weight.shape} with {groups} groups does not fit "
                f"{channels} input channels"
            )

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return (self.weight.shape[0], *self.window.output_hw)

    def output_size(self, input_size: int) -> int:
        check_input_size(self.name, self.input, int(np.prod(self.input_shape)), input_size)
        return int(np.prod(self.output_shape))

    @cached_property
    def offset(self) -> np.ndarray:
        """The bias of every output value (flat)."""
        offset = np.repeat(self.bias, self.window.positions)
        offset.setflags(write=False)
        return offset

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Batched evaluation: ``x`` has shape (batch, C * H * W)."""
        return self._correlate(x, self.weight) + self.offset

    def interval(self, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact interval image of a box (centre/radius form, ``|W|`` on the radius)."""
        centre, radius = (upper + lower) / 2.0, (upper - lower) / 2.0
        mid = self.forward(centre[None])[0]
        spread = self._correlate(radius[None], np.abs(self.weight))[0]
        return mid - spread, mid + spread

    def linear_maps(self) -> tuple[SparseMatrix]:
        return (self.matrix,)

    def with_output_scaled(self, scale: np.ndarray, shift: np.ndarray) -> Conv2d | None:
        """This layer followed by ``y -> scale * y + shift`` when both are constant per output
        channel (see :mod:`pyomo_nn.ir.fold`), else None."""
        channels = self.weight.shape[0]
        scale, shift = scale.reshape(channels, -1), shift.reshape(channels, -1)
        if np.any(scale != scale[:, :1]) or np.any(shift != shift[:, :1]):
            return None
        return dataclasses.replace(
            self,
            weight=self.weight * scale[:, 0, None, None, None],
            bias=self.bias * scale[:, 0] + shift[:, 0],
        )

    @cached_property
    def matrix(self) -> SparseMatrix:
        """The convolution as a sparse (outputs, inputs) matrix: only non-zero weights."""
        out_channels, group_channels = self.weight.shape[:2]
        window = self.window
        spatial = window.spatial_indices
        first_channel = (np.arange(out_channels) // (out_channels // self.groups)) * group_channels
        channel = first_channel[:, None] + np.arange(group_channels)[None, :]
        columns = channel[:, None, :, None] * window.input_hw + spatial[None, :, None, :]
        values = np.broadcast_to(self.weight.reshape(out_channels, 1, group_channels, -1), columns.shape)
        keep = (spatial >= 0)[None, :, None, :] & (values != 0)
        counts = keep.reshape(out_channels * window.positions, -1).sum(axis=1)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        rows = out_channels * window.positions
        return SparseMatrix(
            indptr, columns[keep].astype(np.int64), values[keep], (rows, window.channels * window.input_hw)
        )

    def _correlate(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Cross-correlation of a batch with ``weight`` (no bias), as ONNX Conv computes."""
        window = self.window
        spatial = window.spatial_indices
        gather = np.where(spatial >= 0, spatial, window.input_hw)
        out_channels, group_channels = weight.shape[:2]
        per_group = out_channels // self.groups
        kernel = weight.reshape(self.groups, per_group, group_channels, -1)
        batch = x.shape[0]
        step = max(1, GATHER_BUDGET // (window.channels * spatial.size))
        out = np.empty((batch, out_channels, window.positions))
        for start in range(0, batch, step):
            chunk = x[start : start + step].reshape(-1, window.channels, window.input_hw)
            padded = np.concatenate([chunk, np.zeros((chunk.shape[0], window.channels, 1))], axis=2)
            patches = padded[:, :, gather]  # (batch, C, positions, kernel)
            for g in range(self.groups):
                group = patches[:, g * group_channels : (g + 1) * group_channels]
                out[start : start + step, g * per_group : (g + 1) * per_group] = np.einsum(
                    "bcpk,ock->bop", group, kernel[g], optimize=True
                )
        return out.reshape(batch, -1)
