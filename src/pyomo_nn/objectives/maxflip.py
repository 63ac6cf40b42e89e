"""``MaxFlip``: how many hidden neurons can change state between two networks of one
architecture? (thesis (4.14)-(4.15), comparator "maxflip")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.blocks.components import constraint_rows
from pyomo_nn.errors import IncompatibleNetworksError, ObjectiveConfigError
from pyomo_nn.ir import ReLU
from pyomo_nn.objectives.base import Evaluation, Objective, ProblemView
from pyomo_nn.tolerances import FLIP_MARGIN

if TYPE_CHECKING:
    from pyomo_nn.domains import InputDomain
    from pyomo_nn.ir import Network


class MaxFlip(Objective):
    """Maximise the number of hidden neurons active in one network and inactive in the other.

    For neuron i of hidden layer l, ``w_i`` is binary with ``w_i + z1_i + z2_i <= 2`` (4.14)
    and ``w_i <= z1_i + z2_i`` (4.15), so ``w_i = 1`` only if ``z1_i != z2_i``; a neuron stable
    in a network has a constant ``z`` there. Ties: at a pre-activation of exactly 0 the Big-M
    encoding lets ``z`` take either value, so a counted flip also requires, in both networks,
    ``a >= margin`` where ``z = 1`` and ``a <= -margin`` where ``z = 0``. The margin only
    constrains counted flips, never the inputs, and the result reports the true flip count
    recomputed at the found input.
    """

    name = "maxflip"
    min_networks = 2
    max_networks = 2

    def __init__(self, margin: float = FLIP_MARGIN) -> None:
        if not np.isfinite(margin) or margin <= 0:
            raise ObjectiveConfigError(f"MaxFlip margin must be a positive number, got {margin}")
        self.margin = float(margin)

    def check_networks(self, networks: Sequence[Network], domain: InputDomain) -> None:
        super().check_networks(networks, domain)
        shapes = [architecture(net) for net in networks]
        if shapes[0] != shapes[1]:
            raise IncompatibleNetworksError(
                "MaxFlip pairs neurons of two networks with the same architecture, got "
                f"{describe(shapes[0])} and {describe(shapes[1])}"
            )

    def build(self, problem: ProblemView) -> None:
        first, second = problem.blocks
        layers = list(zip(relu_names(problem.networks[0]), relu_names(problem.networks[1]), strict=True))
        neurons = [
            (index, j)
            for index, (name_a, name_b) in enumerate(layers)
            for j in range(len(first.pre_activation_bounds(name_a)[0]))
            if not _equal_constants(first.activation_state(name_a, j), second.activation_state(name_b, j))
        ]
        block = problem.block
        block.flip = pyo.Var(neurons, domain=pyo.Binary)
        states = {
            (index, j): (
                first.activation_state(layers[index][0], j),
                second.activation_state(layers[index][1], j),
            )
            for index, j in neurons
        }
        block.flip_needs_one_inactive = constraint_rows(
            neurons, lambda layer, j: block.flip[layer, j] + sum(states[layer, j]) <= 2
        )
        block.flip_needs_one_active = constraint_rows(
            neurons, lambda layer, j: block.flip[layer, j] <= sum(states[layer, j])
        )
        margins = []
        for side, network_block in enumerate((first, second)):
            for index, j in neurons:
                margins.extend(self._margin_rows(network_block, layers[index][side], j, block.flip[index, j]))
        block.flip_margin = pyo.ConstraintList()
        for row in margins:
            block.flip_margin.add(row)
        block.objective = pyo.Objective(
            expr=pyo.quicksum(block.flip[key] for key in neurons), sense=pyo.maximize
        )
        problem.state["flip_neurons"] = neurons

    def _margin_rows(self, block: pyo.Block, layer: str, j: int, flip: pyo.Var) -> list:
        """A counted flip needs ``a >= margin`` if z = 1 and ``a <= -margin`` if z = 0."""
        delta = self.margin
        lower, upper = (float(bound[j]) for bound in block.pre_activation_bounds(layer))
        z = block.activation_state(layer, j)
        a = block.pre_activation(layer, j)
        can_be_active = not (isinstance(z, int) and z == 0)
        can_be_inactive = not (isinstance(z, int) and z == 1)
        rows = []
        if can_be_active and lower < delta:
            rows.append(a >= delta - (delta - lower) * ((1 - z) + (1 - flip)))
        if can_be_inactive and upper > -delta:
            rows.append(a <= -delta + (upper + delta) * (z + (1 - flip)))
        return rows

    def warm_start(self, problem: ProblemView, x: np.ndarray) -> None:
        neurons = problem.state["flip_neurons"]
        pre = [pre_activations(net, x) for net in problem.networks]
        flip = problem.block.flip
        for index, j in neurons:
            a, b = pre[0][index][j], pre[1][index][j]
            counted = min(a, b) <= -self.margin and max(a, b) >= self.margin
            flip[index, j].set_value(float(counted), skip_validation=True)

    def evaluate(self, problem: ProblemView, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        pre = [pre_activations(net, x) for net in problem.networks]
        flipped = [(a > 0) != (b > 0) for a, b in zip(*pre, strict=True)]
        per_layer = [int(np.count_nonzero(mask)) for mask in flipped]
        closest = [np.minimum(np.abs(a), np.abs(b))[mask] for a, b, mask in zip(*pre, flipped, strict=True)]
        smallest = min((float(values.min()) for values in closest if values.size), default=None)
        return Evaluation(
            value=float(sum(per_layer)),
            holds=True,
            details={
                "flips_at_x": sum(per_layer),
                "flips_per_layer": per_layer,
                "smallest_flipped_pre_activation": smallest,
                "reference": "numpy IR (hidden pre-activations are not outputs of the ONNX file)",
            },
        )


def relu_names(network: Network) -> list[str]:
    return [layer.name for layer in network.layers if isinstance(layer, ReLU)]


def pre_activations(network: Network, x: np.ndarray) -> list[np.ndarray]:
    """Pre-activations of every ReLU layer of ``network`` at one input (numpy IR)."""
    values = network.activations(x)
    return [values[layer.inputs[0]][0] for layer in network.layers if isinstance(layer, ReLU)]


def architecture(network: Network) -> tuple:
    return (
        network.input_size,
        *((type(layer).__name__, network.sizes[layer.name]) for layer in network.layers),
    )


def describe(shape: tuple) -> str:
    return f"{shape[0]} inputs -> " + " -> ".join(f"{kind}({size})" for kind, size in shape[1:])


def _equal_constants(a: object, b: object) -> bool:
    return isinstance(a, int) and isinstance(b, int) and a == b
