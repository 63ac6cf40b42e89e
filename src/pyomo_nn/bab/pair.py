"""Two chains that read the same input, side by side as one chain: how branch and bound
compares networks (maxdiff on logits: the objective ``y[i] - y[outputs + i]``)."""

from __future__ import annotations

import numpy as np

from pyomo_nn.bab.chain import relu_chain
from pyomo_nn.errors import IncompatibleNetworksError
from pyomo_nn.ir import INPUT, Dense, Network, ReLU


def side_by_side(first: Network, second: Network) -> Network:
    """One Dense/ReLU chain computing both networks: hidden layers stacked (block-diagonal
    weights), outputs ``first``'s then ``second``'s. Both must be chains of equal depth over
    the same input (checked; other pairs: compare them with a MILP, pnn.Comparison)."""
    if first.input_size != second.input_size:
        raise IncompatibleNetworksError(
            f"the networks read {first.input_size} and {second.input_size} inputs; "
            "a pair must share its input"
        )
    for network in (first, second):  # the chain check, with its error naming the layer
        relu_chain(network, np.zeros((1, 1, network.output_size)), np.zeros((1, 1)))
    dense_first = [layer for layer in first.layers if isinstance(layer, Dense)]
    dense_second = [layer for layer in second.layers if isinstance(layer, Dense)]
    if len(dense_first) != len(dense_second):
        raise IncompatibleNetworksError(
            f"the networks have {len(dense_first)} and {len(dense_second)} Dense layers; side by side "
            "needs equal depth (compare them with pnn.Comparison instead)"
        )
    layers = []
    previous = INPUT
    for k, (a, b) in enumerate(zip(dense_first, dense_second, strict=True)):
        if k == 0:
            weight = np.vstack([a.weight, b.weight])
        else:
            weight = np.block(
                [
                    [a.weight, np.zeros((a.weight.shape[0], b.weight.shape[1]))],
                    [np.zeros((b.weight.shape[0], a.weight.shape[1])), b.weight],
                ]
            )
        layers.append(Dense(f"pair_dense_{k}", previous, weight, np.concatenate([a.bias, b.bias])))
        previous = f"pair_dense_{k}"
        if k + 1 < len(dense_first):
            layers.append(ReLU(f"pair_relu_{k}", previous))
            previous = f"pair_relu_{k}"
    return Network(tuple(layers), first.input_shape)
