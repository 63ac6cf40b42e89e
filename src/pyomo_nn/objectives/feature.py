"""``Feature``: the input of the domain that maximises one neuron (feature visualisation,
Fischetti & Jo)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.errors import ObjectiveConfigError
from pyomo_nn.ir import ReLU
from pyomo_nn.objectives.base import Evaluation, Objective, ProblemView

if TYPE_CHECKING:
    from pyomo_nn.domains import InputDomain
    from pyomo_nn.ir import Network


class Feature(Objective):
    """Maximise the activation ``h`` of neuron ``neuron`` of layer ``layer``.

    ``layer`` counts as the thesis does: 1..L are the hidden ReLU layers ``h^(l)`` and L+1 is
    the output layer (a logit). A layer name of the IR (``"relu_1"``, see ``net.summary()``)
    works too. A neuron that the bounds prove dead has the proven maximum 0.
    """

    name = "feature"

    def __init__(self, layer: int | str, neuron: int) -> None:
        if isinstance(neuron, bool) or not isinstance(neuron, int | np.integer) or neuron < 0:
            raise ObjectiveConfigError(f"Feature neuron must be a non-negative integer, got {neuron!r}")
        self.layer = layer
        self.neuron = int(neuron)

    def layer_name(self, network: Network) -> str:
        """The IR name of the selected layer (a ReLU layer or the output layer)."""
        relus = [layer.name for layer in network.layers if isinstance(layer, ReLU)]
        output = network.layers[-1].name
        if isinstance(self.layer, str):
            if self.layer not in [*relus, output]:
                raise ObjectiveConfigError(
                    f"Feature layer {self.layer!r} is not a ReLU layer or the output layer; "
                    f"choose one of {[*relus, output]}"
                )
            return self.layer
        if isinstance(self.layer, bool) or not isinstance(self.layer, int | np.integer):
            raise ObjectiveConfigError(f"Feature layer must be an int or a layer name, got {self.layer!r}")
        if not 1 <= self.layer <= len(relus) + 1:
            raise ObjectiveConfigError(
                f"Feature layer {self.layer} does not exist: the network has hidden layers 1..{len(relus)} "
                f"and its output is layer {len(relus) + 1}"
            )
        return relus[self.layer - 1] if self.layer <= len(relus) else output

    def check_networks(self, networks: Sequence[Network], domain: InputDomain) -> None:
        super().check_networks(networks, domain)
        network = networks[0]
        size = network.sizes[self.layer_name(network)]
        if self.neuron >= size:
            raise ObjectiveConfigError(
                f"Feature neuron {self.neuron} does not exist: layer {self.layer!r} has {size} neurons"
            )

    def build(self, problem: ProblemView) -> None:
        network, block = problem.networks[0], problem.blocks[0]
        name = self.layer_name(network)
        activation = (
            block.outputs[self.neuron]
            if name == network.layers[-1].name
            else block.layers[name].h[self.neuron]
        )
        problem.block.objective = pyo.Objective(expr=activation, sense=pyo.maximize)

    def evaluate(self, problem: ProblemView, x: np.ndarray, logits: Sequence[np.ndarray]) -> Evaluation:
        network = problem.networks[0]
        name = self.layer_name(network)
        if name == network.layers[-1].name:
            value, reference = float(logits[0][self.neuron]), "reference logits (onnxruntime for ONNX files)"
        else:
            value = float(network.activations(x)[name][0][self.neuron])
            reference = "numpy IR (hidden activations are not outputs of the ONNX file)"
        return Evaluation(
            value=value,
            holds=True,
            details={"layer": name, "neuron": self.neuron, "activation_at_x": value, "reference": reference},
        )
