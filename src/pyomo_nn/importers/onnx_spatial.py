"""Settings of ONNX's sliding-window ops (Conv, MaxPool, AveragePool) in the IR's terms.

The IR works on (C, H, W) tensors; a 1-D op on (N, C, L) becomes a 2-D one with H = 1.
``auto_pad`` is turned into explicit pads; ``ceil_mode=1`` is accepted only where it gives
the same output size as ``ceil_mode=0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pyomo_nn.importers.variant import UnsupportedVariant


def spatial_input(shape: tuple[int, ...]) -> tuple[tuple[int, int, int], int]:
    """Per-sample (C, H, W) of an (N, C, H, W) or (N, C, L) tensor, and its spatial rank."""
    if len(shape) not in (3, 4) or shape[0] != 1:
        raise UnsupportedVariant(
            f"sliding-window ops need an (N, C, H, W) or (N, C, L) tensor with batch 1, got shape {shape}"
        )
    if len(shape) == 3:
        return (shape[1], 1, shape[2]), 1
    return (shape[1], shape[2], shape[3]), 2


def onnx_output_shape(channels: int, output_hw: tuple[int, int], rank: int) -> tuple[int, ...]:
    """The ONNX shape (batch 1) of an output with ``output_hw`` positions per channel."""
    return (1, channels, *output_hw) if rank == 2 else (1, channels, output_hw[1])


def window_settings(
    attrs: dict, input_shape: tuple[int, int, int], rank: int, kernel: Sequence[int]
) -> dict[str, tuple[int, ...]]:
    """``kernel``, ``strides``, ``pads`` (top, left, bottom, right) and ``dilations`` as the IR
    takes them, from the op's attributes (``kernel`` in the op's own rank)."""
    kernel = _lift(kernel, rank, "kernel_shape")
    strides = _lift(attrs.get("strides", [1] * rank), rank, "strides")
    dilations = _lift(attrs.get("dilations", [1] * rank), rank, "dilations")
    sizes = input_shape[1:]
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad in ("NOTSET", ""):
        raw = [int(p) for p in attrs.get("pads", [0] * (2 * rank))]
        if len(raw) != 2 * rank:
            raise UnsupportedVariant(f"pads {raw} do not fit a {rank}-D window")
        pads = (0, raw[0], 0, raw[1]) if rank == 1 else (raw[0], raw[1], raw[2], raw[3])
    elif auto_pad == "VALID":
        pads = (0, 0, 0, 0)
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = _same_pads(sizes, kernel, strides, dilations, upper=auto_pad == "SAME_UPPER")
    else:
        raise UnsupportedVariant(f"auto_pad={auto_pad!r} is not an ONNX setting")
    if any(p < 0 for p in pads):
        raise UnsupportedVariant(f"negative pads {pads} (cropping) are not supported")
    if int(attrs.get("ceil_mode", 0)):
        _check_ceil_mode_is_floor(sizes, kernel, strides, pads, dilations)
    return {"kernel": kernel, "strides": strides, "pads": pads, "dilations": dilations}


def _lift(values: Sequence[int], rank: int, label: str) -> tuple[int, int]:
    """A 1-D or 2-D setting of positive integers as (height, width); a 1-D op has height 1."""
    values = [int(v) for v in values]
    if len(values) != rank:
        raise UnsupportedVariant(f"{label} {values} does not fit a {rank}-D window")
    if any(v < 1 for v in values):
        raise ValueError(f"{label} {values} must be positive")
    return (1, values[0]) if rank == 1 else (values[0], values[1])


def _extent(kernel: int, dilation: int) -> int:
    return dilation * (kernel - 1) + 1


def _same_pads(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int], upper: bool
) -> tuple[int, int, int, int]:
    begin, end = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations, strict=True):
        total = max((math.ceil(size / s) - 1) * s + _extent(k, d) - size, 0)
        small, large = total // 2, total - total // 2
        begin.append(small if upper else large)
        end.append(large if upper else small)
    return begin[0], begin[1], end[0], end[1]


def _check_ceil_mode_is_floor(
    sizes: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
) -> None:
    for axis, (size, k, s, d) in enumerate(zip(sizes, kernel, strides, dilations, strict=True)):
        span = size + pads[axis] + pads[axis + 2] - _extent(k, d)
        if span % s:
            raise UnsupportedVariant(
                f"ceil_mode=1 adds a partial window on spatial axis {axis} (input {size}, kernel {k}, "
                f"stride {s}, pads {pads}), which is not supported; export with ceil_mode=False "
                "(torch: ceil_mode=False) or pad the input to a multiple of the stride"
            )
