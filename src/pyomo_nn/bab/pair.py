"""Two chains that read the same input, side by side as one chain: how branch and bound
compares networks (maxdiff on logits: the objective ``y[i] - y[outputs + i]``)."""

from __future__ import annotations

import numpy as np

from pyomo_nn.bab.chain import relu_chain
from pyomo_nn.errors import IncompatibleNetworksError
from pyomo_nn.ir import INPUT, Dense, Network, ReLU


def side_by_side(first: Network, second: Network) -> Network:
    """One Dense/ReLU chain computing both networks: hidden layers stacked (block-diagonal
    weights), outputs ``first``'s then ``second``'s. Both must be chains over the same input
    (checked; other pairs: compare them with a MILP, pnn.Comparison). A shallower network is
    padded after its last hidden ReLU with identity layers ``relu(I h) = h`` (exact: ``h >= 0``
    there), so networks of different depth pair too (the thesis compares 3000x1 with 100x10)."""
    if first.input_size != second.input_size:
        raise IncompatibleNetworksError(
            f"the networks read {first.input_size} and {second.input_size} inputs; "
            "a pair must share its input"
        )
    stacks = [_dense_layers(first), _dense_layers(second)]
    depth = max(len(stack) for stack in stacks)
    stacks = [_padded(stack, depth) for stack in stacks]
    layers = []
    previous = INPUT
    for k in range(depth):
        (w_a, b_a), (w_b, b_b) = stacks[0][k], stacks[1][k]
        if k == 0:
            weight = np.vstack([w_a, w_b])
        else:
            weight = np.block(
                [
                    [w_a, np.zeros((w_a.shape[0], w_b.shape[1]))],
                    [np.zeros((w_b.shape[0], w_a.shape[1])), w_b],
                ]
            )
        layers.append(Dense(f"pair_dense_{k}", previous, weight, np.concatenate([b_a, b_b])))
        previous = f"pair_dense_{k}"
        if k + 1 < depth:
            layers.append(ReLU(f"pair_relu_{k}", previous))
            previous = f"pair_relu_{k}"
    return Network(tuple(layers), first.input_shape)


def _dense_layers(network: Network) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) of every Dense layer of a chain (the chain check names a bad layer)."""
    relu_chain(network, np.zeros((1, 1, network.output_size)), np.zeros((1, 1)))
    return [(layer.weight, layer.bias) for layer in network.layers if isinstance(layer, Dense)]


def _padded(stack: list[tuple[np.ndarray, np.ndarray]], depth: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``stack`` with identity layers inserted before its output layer up to ``depth`` layers."""
    width = stack[-1][0].shape[1]
    identity = (np.eye(width), np.zeros(width))
    return stack[:-1] + [identity] * (depth - len(stack)) + stack[-1:]
