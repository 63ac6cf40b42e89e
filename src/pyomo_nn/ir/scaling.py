"""Input and output scaling folded into a network (:meth:`pyomo_nn.ir.Network.scaled`).

OMLT's convention (its ``OffsetScaling``): the network reads ``x_scaled = (x - input_offset) /
input_factor`` and the user's output is ``y = y_scaled * output_factor + output_offset``. Folding
both into the first and last affine layers gives a network in the user's units with the same
layer kinds and sizes: a Dense layer reading the input gets ``W diag(1/f)`` and
``b - W (o/f)``, the output layer ``diag(f) W`` and ``f b + o``. Where the layer next to the
input or the output cannot absorb the scaling (a convolution reading the input, a ReLU or max
pool at the output), an :class:`~pyomo_nn.ir.Elementwise` layer is inserted instead: one more
affine layer, no binaries.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from pyomo_nn.errors import InvalidArgumentError, InvalidArgumentTypeError, ShapeMismatchError
from pyomo_nn.ir.layers import Dense, Elementwise, Layer


@dataclass(frozen=True)
class Scaling:
    """Per-value affine maps around a network: the inputs' ``(x - offset) / factor``, the
    outputs' ``y * factor + offset`` (flat arrays, float64)."""

    input_offset: np.ndarray
    input_factor: np.ndarray
    output_offset: np.ndarray
    output_factor: np.ndarray

    @classmethod
    def checked(
        cls,
        input_size: int,
        output_size: int,
        input_offset: object,
        input_factor: object,
        output_offset: object,
        output_factor: object,
    ) -> Scaling:
        """The scaling from the user's arguments: scalars or vectors of the right length; every
        offset finite, every factor finite and positive. Typed errors name the argument."""
        return cls(
            input_offset=_vector(input_offset, input_size, "input_offset", "inputs", 0.0),
            input_factor=_factors(input_factor, input_size, "input_factor", "inputs"),
            output_offset=_vector(output_offset, output_size, "output_offset", "outputs", 0.0),
            output_factor=_factors(output_factor, output_size, "output_factor", "outputs"),
        )

    @property
    def scales_inputs(self) -> bool:
        return bool(np.any(self.input_offset != 0.0) or np.any(self.input_factor != 1.0))

    @property
    def scales_outputs(self) -> bool:
        return bool(np.any(self.output_offset != 0.0) or np.any(self.output_factor != 1.0))

    def to_network(self, x: np.ndarray) -> np.ndarray:
        """User's inputs (batch, n) -> the inputs the original network reads."""
        return (np.asarray(x, dtype=np.float64) - self.input_offset) / self.input_factor

    def from_network(self, y: np.ndarray) -> np.ndarray:
        """Outputs of the original network (batch, m) -> the user's outputs."""
        return np.asarray(y, dtype=np.float64) * self.output_factor + self.output_offset


def scaled_layers(layers: tuple[Layer, ...], input_name: str, scaling: Scaling) -> tuple[Layer, ...]:
    """``layers`` (in order, the last one the output) with ``scaling`` folded in, see the module
    docstring; inserted layers are called ``input_scaling`` / ``output_scaling`` (with a suffix
    if a layer already has that name)."""
    names = {layer.name for layer in layers}
    result = list(layers)
    if scaling.scales_inputs:
        result = _fold_input(result, input_name, scaling, _fresh("input_scaling", names))
    if scaling.scales_outputs:
        result = _fold_output(result, scaling, _fresh("output_scaling", names))
    return tuple(result)


def _fold_input(layers: list[Layer], input_name: str, scaling: Scaling, inserted: str) -> list[Layer]:
    scale = 1.0 / scaling.input_factor
    shift = -scaling.input_offset / scaling.input_factor
    result: list[Layer] = []
    needs_layer = False
    for layer in layers:
        if input_name not in layer.inputs:
            result.append(layer)
        elif isinstance(layer, Dense):
            weight, bias = layer.weight * scale[None, :], layer.bias + layer.weight @ shift
            result.append(dataclasses.replace(layer, weight=weight, bias=bias))
        elif isinstance(layer, Elementwise):
            result.append(
                dataclasses.replace(layer, scale=layer.scale * scale, shift=layer.shift + layer.scale * shift)
            )
        else:
            needs_layer = True
            result.append(_renamed_input(layer, input_name, inserted))
    if needs_layer:
        result.insert(0, Elementwise(inserted, input_name, scale, shift))
    return result


def _fold_output(layers: list[Layer], scaling: Scaling, inserted: str) -> list[Layer]:
    *before, last = layers
    factor, offset = scaling.output_factor, scaling.output_offset
    if isinstance(last, Elementwise):
        scale, shift = last.scale * factor, last.shift * factor + offset
        return [*before, dataclasses.replace(last, scale=scale, shift=shift)]
    absorb = getattr(last, "with_output_scaled", None)
    folded = None if absorb is None else absorb(factor, offset)
    if folded is not None:
        return [*before, folded]
    return [*layers, Elementwise(inserted, last.name, factor, offset)]


def _renamed_input(layer: Layer, old: str, new: str) -> Layer:
    if hasattr(layer, "input"):
        return dataclasses.replace(layer, input=new)
    return dataclasses.replace(layer, inputs=tuple(new if name == old else name for name in layer.inputs))


def _fresh(name: str, taken: set[str]) -> str:
    candidate, k = name, 1
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    return candidate


def _vector(value: object, size: int, label: str, what: str, default: float) -> np.ndarray:
    """``value`` as a flat float64 array of ``size`` finite numbers (a scalar applies to all)."""
    if value is None:
        return np.full(size, default)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidArgumentTypeError(
            f"{label} must be a number or one number per {what[:-1]}, got {_short(value)}"
        ) from error
    if array.size == 1:
        array = np.full(size, float(array.ravel()[0]))
    elif array.size != size:
        raise ShapeMismatchError(
            f"{label} has {array.size} values but the network has {size} {what}: give one value "
            f"per {what[:-1]} (in the network's order) or a single number for all"
        )
    array = array.ravel()
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise InvalidArgumentError(
            f"{label}[{int(bad[0])}] is {array[bad[0]]}: scaling values must be finite numbers"
        )
    return array


def _factors(value: object, size: int, label: str, what: str) -> np.ndarray:
    array = _vector(value, size, label, what, 1.0)
    bad = np.flatnonzero(array <= 0)
    if bad.size:
        i = int(bad[0])
        raise InvalidArgumentError(
            f"{label}[{i}] is {array[i]:g}: scaling factors must be positive (a standard deviation "
            "or a range, as in x_scaled = (x - offset) / factor); for a constant column use 1"
        )
    return array


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
