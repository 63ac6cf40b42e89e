"""Fold an ``Elementwise`` layer (a BatchNormalization, a scale) into the layer before it,
when that layer feeds nothing else and its kind can absorb the scale (it has a
``with_output_scaled(scale, shift)`` method: Dense, Conv2d): one affine layer instead of two."""

from __future__ import annotations

import dataclasses

from pyomo_nn.ir.layers import Elementwise, Layer
from pyomo_nn.ir.network import Network


def fold_elementwise(network: Network) -> Network:
    """``network`` with every foldable Elementwise layer merged into its producer; the merged
    layer keeps the producer's name and readers of the Elementwise read it instead."""
    consumers = {layer.name: 0 for layer in network.layers}
    for layer in network.layers:
        for source in layer.inputs:
            if source in consumers:
                consumers[source] += 1
    renamed: dict[str, str] = {}
    result: dict[str, Layer] = {}
    for original in network.layers:
        layer = _with_renamed_inputs(original, renamed)
        producer = result.get(layer.inputs[0]) if isinstance(layer, Elementwise) else None
        folded = _folded(producer, layer) if producer and consumers[producer.name] == 1 else None
        if folded is None:
            result[layer.name] = layer
            continue
        result[producer.name] = folded
        renamed[layer.name] = producer.name
        consumers[producer.name] = consumers[layer.name]
    if not renamed:
        return network
    return Network(
        tuple(result.values()),
        network.input_shape,
        output_activation=network.output_activation,
        source=network.source,
    )


def _folded(producer: Layer, scaling: Elementwise) -> Layer | None:
    absorb = getattr(producer, "with_output_scaled", None)
    return None if absorb is None else absorb(scaling.scale, scaling.shift)


def _with_renamed_inputs(layer: Layer, renamed: dict[str, str]) -> Layer:
    if not any(source in renamed for source in layer.inputs):
        return layer
    if hasattr(layer, "input"):
        return dataclasses.replace(layer, input=renamed.get(layer.input, layer.input))
    return dataclasses.replace(layer, inputs=tuple(renamed.get(source, source) for source in layer.inputs))
