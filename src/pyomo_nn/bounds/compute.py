"""``compute_bounds``: the one entry point to every bound method."""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np

from pyomo_nn.bounds.alpha import alpha_bounds
from pyomo_nn.bounds.auto import auto_bounds
from pyomo_nn.bounds.container import Bounds
from pyomo_nn.bounds.interval import interval_bounds
from pyomo_nn.bounds.naive import naive_bounds
from pyomo_nn.bounds.symbolic import symbolic_bounds
from pyomo_nn.bounds.tightening import tightened_bounds
from pyomo_nn.domains import InputDomain
from pyomo_nn.errors import InvalidArgumentError, InvalidArgumentTypeError, UnboundedDomainError
from pyomo_nn.ir import Network

BoundMethod = Callable[[Network, np.ndarray, np.ndarray], list[tuple[np.ndarray, np.ndarray]]]

#: Methods that need no solver, cheapest first.
PROPAGATION_METHODS: dict[str, BoundMethod] = {
    "naive": naive_bounds,
    "interval": interval_bounds,
    "symbolic": symbolic_bounds,
    "alpha": alpha_bounds,
}

#: Optimisation-based methods: name -> whether the relaxation keeps its binaries.
TIGHTENING_METHODS = {"lp": False, "milp": True}

#: The default: picks among the others (see :mod:`pyomo_nn.bounds.auto`).
AUTO = "auto"

#: What ``compute_bounds`` and ``NetworkBlock`` use when no method is named.
DEFAULT_BOUND_METHOD = AUTO

METHODS = (AUTO, *PROPAGATION_METHODS, *TIGHTENING_METHODS)


def compute_bounds(
    network: Network,
    domain: InputDomain,
    method: str = DEFAULT_BOUND_METHOD,
    *,
    time_limit: float | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> Bounds:
    """Valid pre-activation bounds of every affine layer of ``network`` over ``domain``.

    ``"auto"`` (the default) runs ``symbolic``, then ``alpha`` (or, where alpha does not apply,
    LP tightening within a time budget) when enough neurons stay undecided for it to pay
    (:mod:`pyomo_nn.bounds.auto`); the result's ``method`` is what it ran and ``choice`` why.
    Methods, loosest and fastest first: ``"naive"`` (thesis Prop. 2.1/2.2), ``"interval"``
    (interval arithmetic), ``"symbolic"`` (DeepPoly-style back-substitution), ``"alpha"``
    (back-substitution with optimised ReLU slopes, alpha-CROWN; Dense/ReLU chains only),
    ``"lp"`` and ``"milp"`` (OBBT, thesis Alg. 3 with relax=1/0; seeded by ``alpha`` where
    the network supports it, else ``symbolic``, so never looser).
    ``time_limit`` (seconds), ``executor`` (default: a process per core; any
    ``concurrent.futures.Executor``, e.g. a Dask client's) and ``progress`` (a progress bar
    over neurons) apply to ``lp``, ``milp`` and ``auto``'s LP stage; when time runs out, the
    neurons not reached keep their starting bounds.
    """
    check_arguments(domain, method)
    time_limit = checked_time_limit(time_limit)
    lower, upper = domain.box(network.input_size)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise UnboundedDomainError(
            f"{domain!r} leaves some inputs unbounded, so every bound would be infinite; "
            "give every input finite lower and upper bounds (e.g. Box(0, 1))"
        )
    started = time.perf_counter()
    layer_seconds = None
    choice = ""
    if method == AUTO:
        layers, layer_seconds, chosen = auto_bounds(
            network, lower, upper, time_limit=time_limit, executor=executor, progress=progress
        )
        method, choice = chosen.method, chosen.reason
    elif method in PROPAGATION_METHODS:
        layers = PROPAGATION_METHODS[method](network, lower, upper)
    else:
        layers, layer_seconds = tightened_bounds(
            network,
            lower,
            upper,
            integer=TIGHTENING_METHODS[method],
            time_limit=time_limit,
            executor=executor,
            progress=progress,
        )
    return Bounds(
        input_lower=lower,
        input_upper=upper,
        lower=tuple(lo for lo, _ in layers),
        upper=tuple(hi for _, hi in layers),
        layer_names=tuple(layer.name for layer in network.affine_layers),
        method=method,
        fingerprint=network.fingerprint(),
        seconds=time.perf_counter() - started,
        layer_seconds=None if layer_seconds is None else tuple(layer_seconds),
        choice=choice,
    )


def check_arguments(domain: object, method: object) -> None:
    """Refuse a domain that is not an :class:`InputDomain` and an unknown method."""
    if not isinstance(domain, InputDomain):
        raise InvalidArgumentTypeError(
            f"domain must be an input domain such as Box(0, 1) or LinfBall(x0, eps), "
            f"got {type(domain).__name__}"
        )
    if not isinstance(method, str) or method not in METHODS:
        raise InvalidArgumentError(f"unknown bound method {method!r}; choose one of {list(METHODS)}")


def checked_time_limit(time_limit: object) -> float | None:
    """``time_limit`` as a Python float; refuses anything but a positive number of seconds
    (``None`` means no limit)."""
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real):
        raise InvalidArgumentTypeError(
            f"time_limit must be a number of seconds or None, got {type(time_limit).__name__}"
        )
    if not 0 < time_limit < float("inf"):
        raise InvalidArgumentError(
            f"time_limit must be a positive number of seconds, got {time_limit!r}; "
            "use time_limit=None for no limit"
        )
    return float(time_limit)
