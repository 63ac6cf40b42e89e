"""The network IR: a validated graph of numpy layers with a batched forward pass."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np

from pyomo_nn.errors import InvalidArgumentError, InvalidArgumentTypeError, ShapeMismatchError
from pyomo_nn.ir.kinds import Role
from pyomo_nn.ir.layers import AffineLayer, Dense, Layer, ReLU, interval_image
from pyomo_nn.ir.onnx_source import ScaledSource
from pyomo_nn.ir.scaling import Scaling, scaled_layers

if TYPE_CHECKING:
    from pyomo_nn.ir.onnx_source import OnnxSource

#: Name of the network's input tensor inside the IR graph.
INPUT = "input"

OUTPUT_ACTIVATIONS = (None, "softmax", "log_softmax", "sigmoid")


@dataclass(frozen=True, eq=False)
class Network:
    """A feed-forward network as a graph of layers over flat per-sample vectors.

    ``layers`` are in topological order; each names the tensors it reads (another layer's
    name or :data:`INPUT`), so skip connections (``Add``) and branches (``Concat``) fit.
    Any layer kind with a unit in :mod:`pyomo_nn.units` may appear.
    The last layer's output is the network output: the logits.
    ``output_activation`` records a trailing softmax/sigmoid of the source model, which
    blocks do not encode (objectives that need probabilities apply it themselves).
    ``input_shape`` is the per-sample shape of the source tensor (batch dimension removed).

    A network is immutable, so a deep copy (e.g. by Pyomo's ``model.clone()``) shares it, as
    Pyomo shares its global sets; pickling copies it, without the source's onnxruntime session.
    """

    layers: tuple[Layer, ...]
    input_shape: tuple[int, ...]
    output_activation: str | None = None
    source: OnnxSource | ScaledSource | None = field(default=None, repr=False)
    sizes: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "input_shape", tuple(int(d) for d in self.input_shape))
        if not self.layers:
            raise ShapeMismatchError("a network needs at least one layer")
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise InvalidArgumentError(
                f"output_activation must be one of {OUTPUT_ACTIVATIONS}, got {self.output_activation!r}"
            )
        sizes = {INPUT: int(np.prod(self.input_shape, dtype=np.int64))}
        for layer in self.layers:
            if layer.name in sizes:
                raise ShapeMismatchError(f"duplicate layer name {layer.name!r}")
            for source in layer.inputs:
                if source not in sizes:
                    raise ShapeMismatchError(
                        f"layer {layer.name!r} reads {source!r}, which is not defined before it"
                    )
            sizes[layer.name] = layer.output_size(*(sizes[source] for source in layer.inputs))
        object.__setattr__(self, "sizes", sizes)

    def __deepcopy__(self, memo: dict[int, object]) -> Network:
        """The network itself: it is immutable, so copies of the models using it can share it."""
        return self

    @classmethod
    def mlp(cls, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> Network:
        """A ReLU MLP from (out, in) weight matrices: ReLU after every layer but the last."""
        if len(weights) != len(biases):
            raise ShapeMismatchError(f"{len(weights)} weight matrices but {len(biases)} bias vectors")
        layers: list[Layer] = []
        previous = INPUT
        for index, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
            dense = Dense(f"dense_{index}", previous, weight, bias)
            layers.append(dense)
            previous = dense.name
            if index < len(weights) - 1:
                relu = ReLU(f"relu_{index}", previous)
                layers.append(relu)
                previous = relu.name
        return cls(tuple(layers), (np.asarray(weights[0]).shape[1],))

    def scaled(
        self,
        input_offset: object = None,
        input_factor: object = None,
        output_offset: object = None,
        output_factor: object = None,
    ) -> Network:
        """This network in the user's units: it reads ``x`` where this one reads
        ``x_scaled = (x - input_offset) / input_factor`` and returns
        ``y = y_scaled * output_factor + output_offset`` (OMLT's ``OffsetScaling`` convention,
        e.g. offsets the training data's means and factors their standard deviations).

        The scaling is folded into the first and last affine layers (an ``Elementwise`` layer is
        inserted only where the layer next to the input or output cannot absorb it), so a block
        of the scaled network has no extra variables or rows. Each argument is a number or one
        value per input (output); omitted ones are the identity. Factors must be finite and
        positive, offsets finite. The result's ``source`` runs the original file with the same
        scaling around it, so answers are re-checked against that file.
        """
        scaling = Scaling.checked(
            self.input_size, self.output_size, input_offset, input_factor, output_offset, output_factor
        )
        if scaling.scales_outputs and self.output_activation is not None:
            raise InvalidArgumentError(
                f"the source model applies {self.output_activation} to this network's outputs, so "
                "scaling them would change what it computes; scale only the inputs (leave "
                "output_offset and output_factor out)"
            )
        source = None if self.source is None else ScaledSource(self.source, scaling)
        return Network(
            scaled_layers(self.layers, INPUT, scaling),
            self.input_shape,
            output_activation=self.output_activation,
            source=source,
        )

    @property
    def input_size(self) -> int:
        return self.sizes[INPUT]

    @property
    def output_size(self) -> int:
        return self.sizes[self.layers[-1].name]

    @property
    def dense_layers(self) -> tuple[Dense, ...]:
        """The ``Dense`` layers in order (for an MLP these are its :attr:`affine_layers`)."""
        return tuple(layer for layer in self.layers if isinstance(layer, Dense))

    @property
    def affine_layers(self) -> tuple[AffineLayer, ...]:
        """Layers with an affine output (Dense, Conv2d, AvgPool2d, Elementwise, Add) in order;
        ``Bounds.lower[k]`` belongs to the k-th of them."""
        return tuple(layer for layer in self.layers if layer.role is Role.AFFINE)

    def interval_boxes(
        self, lower: np.ndarray, upper: np.ndarray, known: Mapping[str, tuple[np.ndarray, np.ndarray]]
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(lower, upper) of every tensor: the input's from ``lower``/``upper``, those in ``known``
        as given (e.g. the affine layers' bounds), the others by interval arithmetic on their
        inputs' boxes (exact for ReLU, max pooling and Concat)."""
        boxes = {INPUT: (lower, upper)}
        for layer in self.layers:
            boxes[layer.name] = known[layer.name] if layer.name in known else interval_image(layer, boxes)
        return boxes

    def consumers(self, name: str) -> tuple[Layer, ...]:
        """Layers that read tensor ``name``."""
        return tuple(layer for layer in self.layers if name in layer.inputs)

    def as_batch(self, x: np.ndarray) -> np.ndarray:
        """Flatten ``x`` to (batch, input_size): accepts (n,), (batch, n), input_shape or
        (batch, *input_shape)."""
        try:
            array = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidArgumentTypeError(
                f"network input must be numbers (a numpy array or nested lists), got {type(x).__name__}"
            ) from error
        n = self.input_size
        if array.shape == self.input_shape or array.ndim == 1:
            array = array.reshape(1, -1)
        elif array.shape[1:] == self.input_shape:
            array = array.reshape(array.shape[0], -1)
        if array.ndim != 2 or array.shape[1] != n:
            raise ShapeMismatchError(
                f"input of shape {np.shape(x)} does not fit the network input: expected "
                f"{n} values per sample (per-sample shape {self.input_shape}), flat or batched"
            )
        return array

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits for ``x``; a single unbatched sample gives a 1-D result."""
        single = np.ndim(x) == 1 or np.shape(x) == self.input_shape
        values = self.activations(x)
        out = values[self.layers[-1].name]
        return out[0] if single else out

    def activations(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every tensor of the graph for batch ``x``: {layer name: (batch, size)}."""
        values = {INPUT: self.as_batch(x)}
        for layer in self.layers:
            values[layer.name] = layer.forward(*(values[name] for name in layer.inputs))
        return values

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class (argmax of the logits) per sample."""
        return np.argmax(np.atleast_2d(self.forward(x)), axis=1)

    def fingerprint(self) -> str:
        """SHA-256 of the architecture and weights: identifies the network, e.g. for cached bounds."""
        digest = hashlib.sha256(repr(self.input_shape).encode())
        for layer in self.layers:
            digest.update(f"{type(layer).__name__}:{layer.name}:{layer.inputs}".encode())
            for item in fields(layer):
                if not item.init or item.name in ("name", "input", "inputs"):
                    continue
                value = getattr(layer, item.name)
                if isinstance(value, np.ndarray):
                    digest.update(np.ascontiguousarray(value).tobytes())
                else:
                    digest.update(f"{item.name}={value!r}".encode())
        return digest.hexdigest()

    def summary(self) -> str:
        """One line per layer: name, type, input(s), size, non-zero weights."""
        lines = [f"{'layer':<14}{'type':<12}{'input':<16}{'size':>7}{'nonzeros':>10}"]
        lines.append(f"{INPUT:<14}{'input':<12}{'':<16}{self.input_size:>7}{'':>10}")
        for layer in self.layers:
            weight = getattr(layer, "weight", None)
            nonzeros = str(np.count_nonzero(weight)) if weight is not None else ""
            lines.append(
                f"{layer.name:<14}{type(layer).__name__:<12}{','.join(layer.inputs):<16}"
                f"{self.sizes[layer.name]:>7}{nonzeros:>10}"
            )
        if self.output_activation:
            lines.append(f"(source model applies {self.output_activation} to the logits)")
        return "\n".join(lines)
