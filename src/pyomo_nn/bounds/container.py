"""The ``Bounds`` object: valid pre-activation bounds for every affine layer of a network."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.errors import ShapeMismatchError
from pyomo_nn.ir import Network
from pyomo_nn.tolerances import BOUND_SAFETY_ABS, BOUND_SAFETY_REL


def widen(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round a computed bound outward by the documented safety margin (see tolerances)."""
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    return (
        lower - BOUND_SAFETY_ABS - BOUND_SAFETY_REL * np.abs(lower),
        upper + BOUND_SAFETY_ABS + BOUND_SAFETY_REL * np.abs(upper),
    )


@dataclass(frozen=True, eq=False)
class Bounds:
    """Per affine layer k (output layer included): ``lower[k] <= W_k h + b_k <= upper[k]``
    for every input of the domain. ``layer_names[k]`` is the IR name of that Dense layer."""

    input_lower: np.ndarray
    input_upper: np.ndarray
    lower: tuple[np.ndarray, ...]
    upper: tuple[np.ndarray, ...]
    layer_names: tuple[str, ...]
    method: str
    fingerprint: str

    def of(self, layer_name: str) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) pre-activation bounds of the Dense layer called ``layer_name``."""
        k = self.layer_names.index(layer_name)
        return self.lower[k], self.upper[k]

    def check_matches(self, network: Network) -> None:
        """Refuse bounds computed for a different network."""
        if self.fingerprint != network.fingerprint():
            raise ShapeMismatchError(
                "these bounds were computed for a different network (fingerprint mismatch); "
                "recompute them with compute_bounds(network, domain)"
            )

    def stability(self, k: int) -> tuple[int, int, int]:
        """Counts of (stable active, stable inactive, unstable) neurons of affine layer k."""
        lower, upper = self.lower[k], self.upper[k]
        active = int(np.count_nonzero(lower >= 0))
        inactive = int(np.count_nonzero(upper <= 0))
        return active, inactive, lower.size - active - inactive

    def summary(self) -> str:
        """Per-layer table: neurons, stable active / inactive, unstable, mean width."""
        lines = [
            f"bounds by {self.method!r}",
            f"{'layer':<12}{'neurons':>8}{'active':>8}{'dead':>8}{'split':>8}{'mean width':>14}",
        ]
        for k, name in enumerate(self.layer_names):
            active, inactive, unstable = self.stability(k)
            width = float(np.mean(self.upper[k] - self.lower[k]))
            lines.append(
                f"{name:<12}{self.lower[k].size:>8}{active:>8}{inactive:>8}{unstable:>8}{width:>14.4g}"
            )
        return "\n".join(lines)
