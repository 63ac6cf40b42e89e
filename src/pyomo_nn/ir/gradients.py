"""Reverse-mode gradients of a network's outputs with respect to its inputs, per layer kind.

The backward pass of the package's gradient searches: the VNN-LIB attack
(:mod:`pyomo_nn.vnnlib.attack`) and the objective-aware MIP start of ``pnn.solve``
(:mod:`pyomo_nn.solvers.gradient_start`). Each layer kind registers its entry in
:data:`GRADIENTS` (from :mod:`pyomo_nn.units`); a ReLU may pass a fraction ``leak`` of the
gradient where it is inactive, a surrogate that lets a search see neurons it could switch on.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import scipy.sparse

from pyomo_nn.errors import UnsupportedOperatorError
from pyomo_nn.ir.kinds import StageTable
from pyomo_nn.ir.layers import AffineLayer, Layer, MovementLayer
from pyomo_nn.ir.network import INPUT, Network
from pyomo_nn.ir.sparse import SparseMatrix


class Gradient(Protocol):
    """A layer kind's backward pass: ``prepare(layer)`` once per network (e.g. its matrices),
    then ``backward(layer, values, grad, leak, prepared)`` gives, per input of ``layer``, the
    gradient with respect to that input from ``grad`` with respect to its output (``values``:
    every tensor of the batch; ``leak``: the surrogate slope of an inactive ReLU)."""

    def prepare(self, layer: Layer) -> Any: ...

    def backward(
        self, layer: Layer, values: dict[str, np.ndarray], grad: np.ndarray, leak: float, prepared: Any
    ) -> list[np.ndarray]: ...


#: Each layer kind's gradient; registered per kind by :mod:`pyomo_nn.units`.
GRADIENTS: StageTable[Gradient] = StageTable("attack gradient", error=UnsupportedOperatorError)


class GradientNetwork:
    """Reverse-mode gradients of a network's outputs with respect to its inputs.

    Works on the whole IR graph, every kind through its entry in :data:`GRADIENTS`: a ReLU
    passes ``leak`` times the gradient where it is inactive, a max pool passes it to the
    window's maximum, an affine layer multiplies by its matrices, a data-movement layer sends
    it back to the values it copied.
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        self._steps = []
        for layer in network.layers:
            entry = GRADIENTS.stage_for(layer)
            self._steps.append((layer, entry, entry.prepare(layer)))

    def forward(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every tensor of the graph for batch ``x``."""
        return self.network.activations(x)

    def outputs(self, values: dict[str, np.ndarray]) -> np.ndarray:
        return values[self.network.layers[-1].name]

    def input_gradient(
        self, values: dict[str, np.ndarray], grad_output: np.ndarray, leak: float
    ) -> np.ndarray:
        """Gradient of ``sum(grad_output * outputs)`` with respect to the inputs."""
        grads = {self.network.layers[-1].name: grad_output}
        for layer, entry, prepared in reversed(self._steps):
            grad = grads.pop(layer.name, None)
            if grad is None:
                continue
            parts = entry.backward(layer, values, grad, leak, prepared)
            for name, part in zip(layer.inputs, parts, strict=True):
                grads[name] = grads[name] + part if name in grads else part
        return grads.get(INPUT, np.zeros_like(values[INPUT]))


class _AffineGradient:
    """``grad @ M_k`` for each input (scipy CSR for the sparse maps)."""

    def prepare(self, layer: AffineLayer) -> list:
        return [_right_multipliable(m) for m in layer.linear_maps()]

    def backward(
        self, layer: Layer, values: dict[str, np.ndarray], grad: np.ndarray, leak: float, prepared: list
    ) -> list[np.ndarray]:
        return [np.asarray(grad @ matrix) for matrix in prepared]


class _MovementGradient:
    """Each output's gradient goes back to the value it copied (summed where a value is copied
    twice); a padding constant takes none."""

    def prepare(self, layer: MovementLayer) -> None:
        return None

    def backward(
        self,
        layer: MovementLayer,
        values: dict[str, np.ndarray],
        grad: np.ndarray,
        leak: float,
        prepared: None,
    ) -> list[np.ndarray]:
        sizes = [values[name].shape[1] for name in layer.inputs]
        gather = layer.gather(*sizes)
        copied = np.flatnonzero(gather >= 0)
        if copied.size == gather.size and np.array_equal(gather, np.arange(gather.size)):
            joined = grad
        else:
            selection = scipy.sparse.csr_matrix(
                (np.ones(copied.size), (copied, gather[copied])), shape=(gather.size, sum(sizes))
            )
            joined = np.asarray(grad @ selection)
        return np.split(joined, np.cumsum(sizes)[:-1], axis=1)


#: The entries of the affine and the data-movement kinds.
AFFINE_GRADIENT = _AffineGradient()
MOVEMENT_GRADIENT = _MovementGradient()


def _right_multipliable(matrix: np.ndarray | SparseMatrix) -> np.ndarray | scipy.sparse.csr_matrix:
    """A layer's linear map in a form that ``grad @ matrix`` accepts (scipy CSR if sparse)."""
    if isinstance(matrix, np.ndarray):
        return matrix
    return scipy.sparse.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape)
