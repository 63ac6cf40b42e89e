"""Fast falsification in numpy: projected sign-gradient descent on the property's violation.

Each sample of a batch belongs to one disjunct and descends that disjunct's violation
``max_r (C y + D x - rhs)_r`` inside the disjunct's box (L-inf geometry: sign steps, then
clipping). The forward pass is exact; only the backward pass may use a *surrogate*: inactive
ReLUs pass a fraction ``leak`` of the gradient, as if they were leaky. Plain gradients die
when most first-layer ReLUs are off or the outputs are nearly one-hot; the leak lets the
descent see neurons it could switch on. Every point is scored by the exact forward pass, so
the surrogate can only change which points are tried, never what counts as a counterexample.

:data:`CHEAP` runs in a fraction of a second and finds most counterexamples; :data:`THOROUGH`
(several leaks, step sizes and restarts) is for the disjuncts that bounds could not rule out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from pyomo_nn.ir import Network
from pyomo_nn.ir.gradients import GradientNetwork
from pyomo_nn.vnnlib.spec import Disjunct


@dataclass(frozen=True)
class AttackPlan:
    """One falsification effort: for every leak and step-size schedule, ``restarts`` starts
    per disjunct run ``steps`` sign-gradient steps; a schedule is the first step as a
    fraction of the box width, decaying geometrically to 1/20 of it."""

    leaks: tuple[float, ...]
    first_steps: tuple[float, ...]
    restarts: int
    steps: int


#: A quick pass run before any bound: one leak, two schedules, two starts per disjunct.
#: On the VNN-COMP 2021 mnist_fc benchmark it finds 21 of the 22 known counterexamples.
CHEAP = AttackPlan(leaks=(0.003,), first_steps=(1.0, 0.2), restarts=2, steps=40)

#: The thorough pass for disjuncts that bounds could not refute (it finds all 22 of
#: mnist_fc); the leaks and step sizes most often successful come first.
THOROUGH = AttackPlan(leaks=(0.001, 0.01, 0.0, 0.1), first_steps=(1.0, 0.2, 0.5, 0.05), restarts=6, steps=100)


@dataclass(frozen=True)
class AttackResult:
    """Best point found per disjunct (exact numpy evaluation) and whether any is a
    counterexample: ``found`` names the disjunct whose ``best_points`` entry has
    violation ``<= target``."""

    best_points: dict[int, np.ndarray]
    best_violations: dict[int, float]
    found: int | None
    evaluations: int
    seconds: float

    @property
    def counterexample(self) -> np.ndarray | None:
        return None if self.found is None else self.best_points[self.found]


def falsify(
    network: Network,
    disjuncts: dict[int, Disjunct],
    plan: AttackPlan,
    *,
    deadline: float,
    target: float = 0.0,
    starts: dict[int, np.ndarray] | None = None,
    seed: int = 0,
) -> AttackResult:
    """Search each of ``disjuncts`` (keyed by their index in the specification) for an
    input whose violation is ``<= target``; stops at the first one or at ``deadline``
    (a ``time.perf_counter()`` value). ``starts`` adds one extra start per disjunct.

    BLAS runs single-threaded here: the batches are small, and threaded BLAS on them is
    several times slower, far worse when other processes share the cores.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _falsify(network, disjuncts, plan, deadline, target, starts or {}, seed)


def _falsify(
    network: Network,
    disjuncts: dict[int, Disjunct],
    plan: AttackPlan,
    deadline: float,
    target: float,
    starts: dict[int, np.ndarray],
    seed: int,
) -> AttackResult:
    begin = time.perf_counter()
    gradients = GradientNetwork(network)
    rng = np.random.default_rng(seed)
    keys = list(disjuncts)
    best_points = {key: (disjuncts[key].input_lower + disjuncts[key].input_upper) / 2 for key in keys}
    best_violations = {key: np.inf for key in keys}
    evaluations = 0

    def score(x: np.ndarray, owners: np.ndarray, outputs: np.ndarray) -> int | None:
        nonlocal evaluations
        evaluations += len(x)
        for key in keys:
            rows = np.flatnonzero(owners == key)
            if rows.size == 0:
                continue
            values = disjuncts[key].violation(x[rows], outputs[rows])
            winner = int(np.argmin(values))
            if values[winner] < best_violations[key]:
                best_violations[key] = float(values[winner])
                best_points[key] = x[rows[winner]].copy()
            if best_violations[key] <= target:
                return key
        return None

    def result(found: int | None) -> AttackResult:
        return AttackResult(best_points, best_violations, found, evaluations, time.perf_counter() - begin)

    if not keys:
        return result(None)
    lower = np.concatenate([np.repeat(disjuncts[k].input_lower[None], plan.restarts, 0) for k in keys])
    upper = np.concatenate([np.repeat(disjuncts[k].input_upper[None], plan.restarts, 0) for k in keys])
    owners = np.repeat(np.array(keys), plan.restarts)
    output_coefs, input_coefs, rhs = _stacked_rows([disjuncts[k] for k in owners])
    width = upper - lower
    decay = 0.05 ** (1.0 / max(plan.steps - 1, 1))
    picked = np.arange(len(owners))
    for leak in plan.leaks:
        for first_step in plan.first_steps:
            x = _starting_points(lower, upper, plan.restarts, rng)
            for group, key in enumerate(keys):
                if key in starts:
                    box = disjuncts[key]
                    x[(group + 1) * plan.restarts - 1] = np.clip(
                        starts[key], box.input_lower, box.input_upper
                    )
            step = first_step
            for _ in range(plan.steps):
                values = gradients.forward(x)
                outputs = gradients.outputs(values)
                found = score(x, owners, outputs)
                if found is not None or time.perf_counter() > deadline:
                    return result(found)
                rows = np.einsum("brk,bk->br", output_coefs, outputs) - rhs
                if input_coefs is not None:
                    rows += np.einsum("bri,bi->br", input_coefs, x)
                worst = np.argmax(rows, axis=1)
                grad = gradients.input_gradient(values, output_coefs[picked, worst], leak)
                if input_coefs is not None:
                    grad += input_coefs[picked, worst]
                x = np.clip(x - step * width * np.sign(grad), lower, upper)
                step *= decay
            found = score(x, owners, gradients.outputs(gradients.forward(x)))
            if found is not None:
                return result(found)
    return result(None)


def _stacked_rows(owners: list[Disjunct]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Per sample the rows of its disjunct, padded to a common count with rows that can never
    be the largest (right-hand side +inf); input coefficients only if some row has them."""
    count = max(1, max(d.num_rows for d in owners))
    output_coefs = np.zeros((len(owners), count, owners[0].output_coefs.shape[1]))
    rhs = np.full((len(owners), count), np.inf)
    with_inputs = any(d.has_input_terms for d in owners)
    input_coefs = np.zeros((len(owners), count, owners[0].input_coefs.shape[1])) if with_inputs else None
    for sample, disjunct in enumerate(owners):
        rows = disjunct.num_rows
        output_coefs[sample, :rows] = disjunct.output_coefs
        rhs[sample, :rows] = disjunct.rhs
        if input_coefs is not None:
            input_coefs[sample, :rows] = disjunct.input_coefs
    return output_coefs, input_coefs, rhs


def _starting_points(
    lower: np.ndarray, upper: np.ndarray, restarts: int, rng: np.random.Generator
) -> np.ndarray:
    """Per group of ``restarts`` rows: the box centre first, then random points and corners."""
    x = rng.uniform(lower, upper)
    corners = np.where(rng.random(lower.shape) < 0.5, lower, upper)
    position = np.arange(len(x)) % restarts
    x[position % 2 == 1] = corners[position % 2 == 1]
    x[position == 0] = ((lower + upper) / 2)[position == 0]
    return x
