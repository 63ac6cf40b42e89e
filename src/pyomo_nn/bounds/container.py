"""The ``Bounds`` object: valid pre-activation bounds for every affine layer of a network."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pyomo_nn.domains import InputDomain
from pyomo_nn.errors import StaleBoundsError
from pyomo_nn.file_errors import readable, writable
from pyomo_nn.ir import Network
from pyomo_nn.tolerances import BOUND_SAFETY_ABS, BOUND_SAFETY_REL, DOMAIN_COVER_ATOL


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
    for every input of the domain. ``layer_names[k]`` is the IR name of that layer (the k-th
    of ``network.affine_layers``: Dense, Conv2d, AvgPool2d, Elementwise, Add).
    ``input_lower``/``input_upper`` is the input box they hold over: valid for any domain
    inside it (see :meth:`check_covers`). Immutable, so a deep copy shares it."""

    input_lower: np.ndarray
    input_upper: np.ndarray
    lower: tuple[np.ndarray, ...]
    upper: tuple[np.ndarray, ...]
    layer_names: tuple[str, ...]
    method: str
    fingerprint: str
    seconds: float = 0.0
    layer_seconds: tuple[float, ...] | None = None
    #: How ``method`` was chosen when the caller asked for ``"auto"`` (empty otherwise).
    choice: str = ""

    def __deepcopy__(self, memo: dict[int, object]) -> Bounds:
        """The bounds themselves: they are immutable, so copies of models can share them."""
        return self

    def of(self, layer_name: str) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) bounds of the outputs of the affine layer called ``layer_name``."""
        k = self.layer_names.index(layer_name)
        return self.lower[k], self.upper[k]

    def tensor_boxes(self, network: Network) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Bounds of every IR tensor of ``network``: affine layers from these bounds, the others
        by interval arithmetic on their inputs' bounds (exact for ReLU, max pooling and Concat)."""
        known = {name: self.of(name) for name in self.layer_names}
        return network.interval_boxes(self.input_lower, self.input_upper, known)

    def check_matches(self, network: Network, domain: InputDomain | None = None) -> None:
        """Refuse bounds computed for a different network, or (with ``domain``) over an input
        box that does not contain the domain's: both would be stale bounds."""
        if self.fingerprint != network.fingerprint():
            raise StaleBoundsError(
                f"these {self.method} bounds were computed for a different network (fingerprint "
                f"{self.fingerprint[:12]}..., this network {network.fingerprint()[:12]}...); "
                "recompute them with compute_bounds(network, domain)"
            )
        if domain is not None:
            self.check_covers(*domain.box(network.input_size))

    def check_covers(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Refuse bounds whose input box does not contain the box ``[lower, upper]`` (up to
        :data:`~pyomo_nn.tolerances.DOMAIN_COVER_ATOL`): they do not hold over all of it, so
        an answer could miss inputs outside their box, or a "certified" claim be false.
        A wider input box is fine: bounds over a superset hold over any subset."""
        lower = np.asarray(lower, dtype=np.float64).ravel()
        upper = np.asarray(upper, dtype=np.float64).ravel()
        if lower.size != self.input_lower.size:
            raise StaleBoundsError(
                f"these bounds are for {self.input_lower.size} inputs but the domain has {lower.size}; "
                "recompute them with compute_bounds(network, domain)"
            )
        outside = (lower < self.input_lower - DOMAIN_COVER_ATOL) | (
            upper > self.input_upper + DOMAIN_COVER_ATOL
        )
        if np.any(outside):
            i = int(np.flatnonzero(outside)[0])
            raise StaleBoundsError(
                f"these {self.method} bounds hold for inputs in a box that does not contain the "
                f"domain: {int(np.count_nonzero(outside))} inputs reach outside it (first: input {i}, "
                f"domain [{lower[i]:g}, {upper[i]:g}], bounds [{self.input_lower[i]:g}, "
                f"{self.input_upper[i]:g}]); recompute them with compute_bounds(network, domain)"
            )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to an ``.npz`` file, with the network's fingerprint."""
        arrays = {f"lower_{k}": lo for k, lo in enumerate(self.lower)}
        arrays.update({f"upper_{k}": hi for k, hi in enumerate(self.upper)})
        with writable(path):
            np.savez_compressed(
                path,
                input_lower=self.input_lower,
                input_upper=self.input_upper,
                layer_names=np.array(self.layer_names),
                method=np.array(self.method),
                fingerprint=np.array(self.fingerprint),
                seconds=np.array(self.seconds),
                layer_seconds=np.array(self.layer_seconds or (), dtype=np.float64),
                choice=np.array(self.choice),
                **arrays,
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str], network: Network | None = None) -> Bounds:
        """Read bounds written by :meth:`save`; with ``network``, refuse them if stale."""
        with readable(path, "bounds (.npz written by Bounds.save)"), np.load(path) as data:
            names = tuple(str(name) for name in data["layer_names"])
            bounds = cls(
                input_lower=data["input_lower"],
                input_upper=data["input_upper"],
                lower=tuple(data[f"lower_{k}"] for k in range(len(names))),
                upper=tuple(data[f"upper_{k}"] for k in range(len(names))),
                layer_names=names,
                method=str(data["method"]),
                fingerprint=str(data["fingerprint"]),
                seconds=float(data["seconds"]),
                layer_seconds=tuple(float(s) for s in data["layer_seconds"]) or None,
                choice=str(data["choice"]) if "choice" in data else "",
            )
        if network is not None:
            bounds.check_matches(network)
        return bounds

    def stability(self, k: int) -> tuple[int, int, int]:
        """Counts of (stable active, stable inactive, unstable) neurons of affine layer k."""
        lower, upper = self.lower[k], self.upper[k]
        active = int(np.count_nonzero(lower >= 0))
        inactive = int(np.count_nonzero(upper <= 0))
        return active, inactive, lower.size - active - inactive

    def summary(self) -> str:
        """Per-layer table: neurons, stable active / inactive, split, mean width, seconds."""
        lines = [
            f"bounds by {self.method!r} in {self.seconds:.3f} s"
            + (f" (auto: {self.choice})" if self.choice else ""),
            f"{'layer':<12}{'neurons':>8}{'active':>8}{'dead':>8}{'split':>8}"
            f"{'mean width':>14}{'seconds':>10}",
        ]
        for k, name in enumerate(self.layer_names):
            active, inactive, unstable = self.stability(k)
            width = float(np.mean(self.upper[k] - self.lower[k]))
            seconds = f"{self.layer_seconds[k]:.3f}" if self.layer_seconds else "-"
            lines.append(
                f"{name:<12}{self.lower[k].size:>8}{active:>8}{inactive:>8}{unstable:>8}"
                f"{width:>14.4g}{seconds:>10}"
            )
        return "\n".join(lines)
