"""The Rounder (thesis Algorithm 2): zero every weight with ``|w| <= eps``.

Weights are those of Dense layers and Conv2d kernels (the kinds registered in
:data:`PRUNED_WEIGHTS` by their units, :mod:`pyomo_nn.units`); biases, batch-norm scales and
pooling are left alone. The pruned network is exported to ONNX in memory and imported again, so it
carries an ONNX source like any imported network; that round trip is why pruning lives here,
above the importer and exporter, and not in :mod:`pyomo_nn.ir`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from pyomo_nn.errors import InvalidArgumentError, InvalidArgumentTypeError
from pyomo_nn.exporters import to_onnx
from pyomo_nn.importers import load_onnx_bytes
from pyomo_nn.ir import Layer, Network, StageTable

#: The name of the weight array the Rounder prunes, for each kind that has one (optional:
#: other kinds are left alone). Registered per kind by :mod:`pyomo_nn.units`.
PRUNED_WEIGHTS: StageTable[str] = StageTable("pruning", required=False)


def weighted_layers(network: Network) -> tuple[Layer, ...]:
    """The layers whose weights the Rounder prunes, in order."""
    return tuple(layer for layer in network.layers if type(layer) in PRUNED_WEIGHTS)


def _weights(layer: Layer) -> np.ndarray:
    return getattr(layer, PRUNED_WEIGHTS.stage_for(layer))


@dataclass(frozen=True)
class LayerSparsity:
    """Zero weights of one layer with weights (Dense, Conv2d)."""

    name: str
    zeros: int
    total: int

    @property
    def fraction(self) -> float:
        return self.zeros / self.total if self.total else 0.0


def sparsity(network: Network) -> list[LayerSparsity]:
    """Per layer with weights (Dense, Conv2d): how many weights are exactly zero."""
    return [
        LayerSparsity(
            layer.name,
            int(_weights(layer).size - np.count_nonzero(_weights(layer))),
            int(_weights(layer).size),
        )
        for layer in weighted_layers(network)
    ]


def pruning_threshold(network: Network, percent: float) -> float:
    """The eps for which the Rounder zeroes ``percent`` % of all weights (biases untouched)."""
    percent = _number(percent, "percent")
    if not 0 <= percent <= 100:
        raise InvalidArgumentError(
            f"percent is the share of weights to zero, between 0 and 100; got {percent:g}"
        )
    layers = weighted_layers(network)
    if not layers:
        return 0.0
    magnitudes = np.sort(np.concatenate([np.abs(_weights(layer)).ravel() for layer in layers]))
    count = round(percent / 100 * magnitudes.size)
    return float(magnitudes[count - 1]) if count > 0 else 0.0


def prune(network: Network, percent: float | None = None, eps: float | None = None) -> Network:
    """A copy of ``network`` with weights ``|w| <= eps`` set to 0; give ``eps`` or the
    ``percent`` of weights to remove (eps is then chosen for it, thesis Alg. 2).

    The result carries an in-memory ONNX export as its source, so solutions on the pruned
    network are re-checked with onnxruntime like any imported network.
    """
    if (percent is None) == (eps is None):
        raise InvalidArgumentError(
            "give exactly one of percent= (share of weights to zero) or eps= (zero |w| <= eps)"
        )
    threshold = pruning_threshold(network, percent) if percent is not None else _number(eps, "eps")
    if not threshold >= 0:
        raise InvalidArgumentError(
            f"eps must be a number >= 0 (weights |w| <= eps are zeroed), got {threshold:g}"
        )
    layers = tuple(
        dataclasses.replace(
            layer,
            **{
                PRUNED_WEIGHTS.stage_for(layer): np.where(
                    np.abs(_weights(layer)) <= threshold, 0.0, _weights(layer)
                )
            },
        )
        if type(layer) in PRUNED_WEIGHTS
        else layer
        for layer in network.layers
    )
    rounded = Network(layers, network.input_shape, output_activation=network.output_activation)
    label = f"pruned(eps={threshold:.3g})" + (f" of {network.source.path}" if network.source else "")
    return load_onnx_bytes(to_onnx(rounded).SerializeToString(), label=label)


def _number(value: object, name: str) -> float:
    """``value`` as a float, or a typed error naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidArgumentTypeError(f"{name} must be a number, got {value!r}")
    return float(value)
