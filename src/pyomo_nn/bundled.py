"""Small networks and test images shipped with the package, for examples and tests.

The networks are ReLU MLPs trained by ``examples/train_digits.py`` on scikit-learn's
``load_digits`` (real 8x8 handwritten digits, inputs scaled to [0, 1]), and a small CNN
trained on the same split by ``examples/train_digits_cnn.py`` (input shape (1, 8, 8)).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from pyomo_nn.errors import InvalidArgumentError
from pyomo_nn.importers import load_onnx
from pyomo_nn.ir import Network

#: Architectures of the bundled digits networks.
DIGITS_NETWORKS = ("64-32-32-10", "64-50-50-50-10")


def digits_network_path(architecture: str = "64-32-32-10") -> Path:
    """Path of a bundled digits network's ONNX file."""
    if architecture not in DIGITS_NETWORKS:
        raise InvalidArgumentError(f"no bundled network {architecture!r}; choose one of {DIGITS_NETWORKS}")
    return Path(str(resources.files("pyomo_nn") / "data" / f"digits_{architecture}.onnx"))


def load_digits_network(architecture: str = "64-32-32-10") -> Network:
    """A bundled digits network, imported like any ONNX file."""
    return load_onnx(digits_network_path(architecture))


def digits_cnn_path() -> Path:
    """Path of the bundled digits CNN's ONNX file."""
    return Path(str(resources.files("pyomo_nn") / "data" / "digits_cnn.onnx"))


def load_digits_cnn() -> Network:
    """The bundled digits CNN (Conv, MaxPool, Conv, AvgPool, Dense), imported like any ONNX file."""
    return load_onnx(digits_cnn_path())


def digits_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The held-out digits: images (n, 64) in [0, 1] and labels (n,)."""
    with resources.as_file(resources.files("pyomo_nn") / "data" / "digits_test.npz") as path:
        data = np.load(path)
        return data["x"].astype(np.float64), data["y"].astype(np.int64)
