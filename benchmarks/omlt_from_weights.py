"""What several benchmarks share: OMLT's network built from a pyomo-nn network's weights, and
the MNIST files of ``../shared/bench`` (read only when present; a benchmark skips what is
missing).

OMLT's ONNX reader fails on some valid files (``mnist-net_256x2.onnx``: ``KeyError: '11'``, its
Flatten node), so the benchmarks that put OMLT on such a network give it the same weights
through its own API, :func:`omlt_definition`. Used by ``build_and_solve_vs_omlt.py``,
``defaults_vs_omlt.py`` and ``formulations.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import pyomo_nn as pnn

if TYPE_CHECKING:
    from omlt.neuralnet import NetworkDefinition

SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
MNIST_IMAGES = SHARED_BENCH / "mnist_images" / "mnist_test_first100.csv"
MNIST_256X2 = SHARED_BENCH / "mnist_fc" / "mnist-net_256x2.onnx"


def mnist_test_image(index: int) -> tuple[np.ndarray, int] | None:
    """MNIST test image ``index`` (< 100) as 784 pixels in [0, 1] and its label; None without
    the file."""
    if not MNIST_IMAGES.exists():
        return None
    row = np.loadtxt(MNIST_IMAGES, delimiter=",", skiprows=index, max_rows=1)
    return row[1:] / 255.0, int(row[0])


def omlt_definition(network: pnn.Network, lower: np.ndarray, upper: np.ndarray) -> NetworkDefinition:
    """OMLT NetworkDefinition with the same weights: Dense(+ReLU) layers, input box as bounds."""
    from omlt.neuralnet import NetworkDefinition
    from omlt.neuralnet.layer import DenseLayer, InputLayer

    layers = network.layers
    kinds = [type(layer).__name__ for layer in layers]
    expected = ["Dense", "ReLU"] * (len(network.dense_layers) - 1) + ["Dense"]
    if kinds != expected:
        raise ValueError(f"only Dense/ReLU MLPs are supported here, got layers {kinds}")
    box = {i: (float(lower[i]), float(upper[i])) for i in range(network.input_size)}
    definition = NetworkDefinition(scaled_input_bounds=box)
    previous = InputLayer([network.input_size])
    definition.add_layer(previous)
    dense_layers = network.dense_layers
    for k, dense in enumerate(dense_layers):
        layer = DenseLayer(
            [dense.in_features],
            [dense.out_features],
            np.asarray(dense.weight).T,  # OMLT indexes weights [input, output]
            np.asarray(dense.bias),
            activation="relu" if k < len(dense_layers) - 1 else "linear",
        )
        definition.add_layer(layer)
        definition.add_edge(previous, layer)
        previous = layer
    return definition
