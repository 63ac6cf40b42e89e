"""``compute_bounds``: the one entry point to every bound method."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pyomo_nn.bounds.container import Bounds
from pyomo_nn.bounds.interval import interval_bounds
from pyomo_nn.bounds.naive import naive_bounds
from pyomo_nn.domains import InputDomain
from pyomo_nn.ir import Network

BoundMethod = Callable[[Network, np.ndarray, np.ndarray], list[tuple[np.ndarray, np.ndarray]]]

METHODS: dict[str, BoundMethod] = {"naive": naive_bounds, "interval": interval_bounds}


def compute_bounds(network: Network, domain: InputDomain, method: str = "interval") -> Bounds:
    """Valid pre-activation bounds of every affine layer of ``network`` over ``domain``.

    Methods: ``"naive"`` (thesis Prop. 2.1/2.2) and ``"interval"`` (interval arithmetic).
    """
    if method not in METHODS:
        raise ValueError(f"unknown bound method {method!r}; choose one of {sorted(METHODS)}")
    lower, upper = domain.box(network.input_size)
    layers = METHODS[method](network, lower, upper)
    return Bounds(
        input_lower=lower,
        input_upper=upper,
        lower=tuple(lo for lo, _ in layers),
        upper=tuple(hi for _, hi in layers),
        layer_names=tuple(layer.name for layer in network.dense_layers),
        method=method,
        fingerprint=network.fingerprint(),
    )
