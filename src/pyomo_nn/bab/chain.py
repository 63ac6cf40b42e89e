"""The networks branch and bound takes: a chain ``Dense, ReLU, Dense, ReLU, ..., Dense``,
read from the IR into plain matrices, with the objective rows folded into the last layer.

Branch and bound bounds thousands of branches at once by matrix products over these
matrices (:mod:`pyomo_nn.bab.bounding`), so it needs the network as exactly
that: ``z_k = W_k h_{k-1} + b_k``, ``h_k = max(0, z_k)``, outputs ``W_L h_{L-1} + b_L``. Any
other graph is refused with an error that names the layer and the fallback (a MILP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.errors import InvalidArgumentError, UnsupportedNetworkError
from pyomo_nn.ir import INPUT, Dense, Network, ReLU


@dataclass(frozen=True)
class ReluChain:
    """Hidden layers ``(weights[k], biases[k])`` each followed by a ReLU, then the objective
    rows ``rows @ h_{L-1} + offsets`` (the last Dense layer with ``C`` folded in: rows of
    shape (problems, rows per problem, last hidden width))."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    rows: np.ndarray
    offsets: np.ndarray

    @property
    def widths(self) -> tuple[int, ...]:
        """Neurons per hidden layer."""
        return tuple(w.shape[0] for w in self.weights)

    @property
    def input_size(self) -> int:
        return self.weights[0].shape[1] if self.weights else self.rows.shape[2]

    def pre_activations(self, x: np.ndarray) -> list[np.ndarray]:
        """``z_k`` of every hidden layer for a batch ``x`` (..., inputs)."""
        values = []
        h = x
        for weight, bias in zip(self.weights, self.biases, strict=True):
            z = h @ weight.T + bias
            values.append(z)
            h = np.maximum(z, 0.0)
        return values

    def objective(self, x: np.ndarray, problems: np.ndarray) -> np.ndarray:
        """Rows of problem ``problems[b]`` at ``x[b]`` for a batch: (batch, rows per problem)."""
        h = x
        for weight, bias in zip(self.weights, self.biases, strict=True):
            h = np.maximum(h @ weight.T + bias, 0.0)
        return np.einsum("brn,bn->br", self.rows[problems], h) + self.offsets[problems]


def relu_chain(network: Network, coefficients: np.ndarray, offsets: np.ndarray) -> ReluChain:
    """The chain of ``network`` with objective rows ``coefficients @ outputs + offsets``
    (coefficients: (problems, rows, outputs); offsets: (problems, rows))."""
    layers = network.layers
    for position, layer in enumerate(layers):
        expected_kind = Dense if position % 2 == 0 else ReLU
        expected_input = INPUT if position == 0 else layers[position - 1].name
        if type(layer) is not expected_kind or layer.inputs != (expected_input,):
            raise UnsupportedNetworkError(
                f"branch and bound takes chains Dense, ReLU, ..., Dense; layer {layer.name!r} "
                f"({type(layer).__name__}) breaks the chain; solve this network as one MILP "
                "instead (pyomo_nn.NetworkBlock and pyomo_nn.solve, or a problem class)"
            )
    if not layers or type(layers[-1]) is not Dense:
        raise UnsupportedNetworkError(
            "branch and bound takes chains Dense, ReLU, ..., Dense that end with a Dense layer; "
            "solve this network as one MILP instead"
        )
    coefficients = np.asarray(coefficients, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.float64)
    if coefficients.ndim != 3 or coefficients.shape[2] != network.output_size:
        raise InvalidArgumentError(
            f"objective coefficients must have shape (problems, rows, {network.output_size}) "
            f"(one weight per network output), got {coefficients.shape}"
        )
    if offsets.shape != coefficients.shape[:2]:
        raise InvalidArgumentError(
            f"objective offsets must have shape {coefficients.shape[:2]}, got {offsets.shape}"
        )
    if not (np.all(np.isfinite(coefficients)) and np.all(np.isfinite(offsets))):
        raise InvalidArgumentError("objective coefficients and offsets must be finite numbers")
    dense = [layer for layer in layers if isinstance(layer, Dense)]
    last = dense[-1]
    return ReluChain(
        weights=tuple(np.asarray(layer.weight, dtype=np.float64) for layer in dense[:-1]),
        biases=tuple(np.asarray(layer.bias, dtype=np.float64) for layer in dense[:-1]),
        rows=coefficients @ last.weight,
        offsets=coefficients @ last.bias + offsets,
    )
