"""The training MIP: integer weights as variables, the training samples fixed.

Notation (docs/training.md): layer ``l`` has weights ``W^l`` (integers of the spec's set) and
bias ``b^l``; ``a^l_s`` is sample ``s``'s pre-activation, ``z^l_s`` its binary activation,
``u^l_s = lo + (hi - lo) z^l_s`` the neuron's value (``(-1, 1)`` for sign, ``(0, 1)`` for step).
Layer 1 is linear in the weights (the pixels are data). A later layer multiplies a weight by
a binary: ``q = w z`` is written exactly by four rows with the weight range as constants. Every
big-M constant is an interval bound of the pre-activation over the weight ranges and the
data, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from pyomo_nn.training.spec import BinarizedMLP

OBJECTIVES = ("max-margin", "min-weight", "accuracy", "lexicographic")

#: The default margin of every hidden layer (and of the output scores) with real weights.
REAL_MARGIN = 1e-3


def data_resolution(X: np.ndarray) -> float | None:
    """The grid of the data, if any: 1 for integers, 1/255 for 8-bit pixels scaled to [0, 1].

    On a grid of step ``r`` every layer-1 pre-activation (integer weights and bias) is a
    multiple of ``r``, so ``a < 0`` is exactly ``a <= -r``."""
    for step in (1.0, 1.0 / 255.0, 1.0 / 16.0):
        scaled = X / step
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6):
            return step
    return None


@dataclass
class TrainingModel:
    """A built training MIP and what reading its solution needs."""

    model: pyo.ConcreteModel
    spec: BinarizedMLP
    sizes: list[int]
    margins: list[float]  # the negative-side margin of each hidden layer (a <= -margin when off)
    nonzero: list = field(default_factory=list)
    out_margin: float = 1.0  # a sample is classified right when its score beats the others by this

    def weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The integer weights and biases at the current solution, rounded."""
        m = self.model
        out = []
        for layer in range(len(self.sizes) - 1):
            n_in, n_out = self.sizes[layer], self.sizes[layer + 1]
            # inputs that are 0 in every sample have no variable: any value of the set fits
            W = np.full((n_out, n_in), float(min(self.spec.weights, key=abs)))
            exact = round if self.spec.integer_weights else _snap
            for (j, i), var in m.W[layer].items():
                W[j, i] = exact(pyo.value(var))
            b = np.array([exact(pyo.value(m.b[layer][j])) for j in range(n_out)], dtype=float)
            out.append((W, b))
        return out


def build(
    spec: BinarizedMLP,
    X: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    objective: str,
    margin: float | None = None,
) -> TrainingModel:
    """The MIP for ``objective`` (``lexicographic`` builds its first stage, max-margin, with
    the non-zero counters ready for the second)."""
    n, d = X.shape
    sizes = [d, *spec.hidden, n_classes]
    wmin, wmax = spec.weights[0], spec.weights[-1]
    wabs = max(abs(wmin), abs(wmax))
    lo, hi = spec.activation_values
    resolution = data_resolution(X)
    if not spec.integer_weights:  # real weights: no grid anywhere
        first_margin = margin if margin is not None else REAL_MARGIN
        margins = [first_margin] * len(spec.hidden)
        out_margin = first_margin
    else:
        first_margin = margin if margin is not None else (resolution if resolution is not None else 1e-4)
        margins = [first_margin] + [1.0] * (len(spec.hidden) - 1)
        out_margin = 1.0
    domain = pyo.Integers if spec.integer_weights else pyo.Reals
    # pixels that are 0 in every sample cannot matter: their weights are fixed at 0
    used = np.flatnonzero(np.any(X != 0, axis=0))

    m = pyo.ConcreteModel(name="bnn_training")
    m.W = {}
    m.b = {}
    m.layers = pyo.Block(range(len(sizes) - 1))
    need_nonzero = objective in ("min-weight", "lexicographic")
    need_margin = objective in ("max-margin", "lexicographic")
    fit_all = objective != "accuracy"
    nonzero = []

    prev_z = None
    for layer in range(len(sizes) - 1):
        blk = m.layers[layer]
        n_in, n_out = sizes[layer], sizes[layer + 1]
        inputs = list(used) if layer == 0 else list(range(n_in))
        blk.W = pyo.Var(range(n_out), inputs, domain=domain, bounds=(wmin, wmax))
        m.W[layer] = {(j, i): blk.W[j, i] for j in range(n_out) for i in inputs}
        if layer == 0:
            reach = wabs * float(np.max(np.abs(X).sum(axis=1)))
        else:
            reach = wabs * n_in * max(abs(lo), abs(hi))
        bb = (int(np.ceil(reach)) if spec.bias_bound is None else spec.bias_bound) if spec.bias else 0
        blk.b = pyo.Var(range(n_out), domain=domain, bounds=(-bb, bb))
        m.b[layer] = blk.b
        if not spec.contiguous:
            blk.pick = pyo.Var(range(n_out), inputs, range(len(spec.weights)), domain=pyo.Binary)
            blk.one_value = pyo.Constraint(
                range(n_out),
                inputs,
                rule=lambda b_, j, i: sum(b_.pick[j, i, k] for k in range(len(spec.weights))) == 1,
            )
            blk.value_of = pyo.Constraint(
                range(n_out),
                inputs,
                rule=lambda b_, j, i: (
                    b_.W[j, i] == sum(v * b_.pick[j, i, k] for k, v in enumerate(spec.weights))
                ),
            )
        if need_nonzero:
            blk.nz = pyo.Var(range(n_out), inputs, domain=pyo.Binary)
            # nz = 0 -> w = 0 (the set's ends bound w otherwise)
            blk.nz_up = pyo.Constraint(
                range(n_out), inputs, rule=lambda b_, j, i: b_.W[j, i] <= max(wmax, 0) * b_.nz[j, i]
            )
            blk.nz_down = pyo.Constraint(
                range(n_out), inputs, rule=lambda b_, j, i: b_.W[j, i] >= min(wmin, 0) * b_.nz[j, i]
            )
            nonzero.append(blk.nz)

        # pre-activations a[s, j] and their interval bounds over the weight ranges and data
        if layer == 0:
            pos = np.clip(X[:, used], 0, None)
            neg = np.clip(X[:, used], None, 0)
            low = wmin * pos + wmax * neg
            up = wmax * pos + wmin * neg
            L = low.sum(axis=1) - bb
            U = up.sum(axis=1) + bb

            def pre(b_, s, j, _X=X, _used=used):
                row = _X[s, _used]
                return sum(float(row[k]) * b_.W[j, i] for k, i in enumerate(_used) if row[k] != 0) + b_.b[j]

            L = np.repeat(L[:, None], n_out, axis=1)
            U = np.repeat(U[:, None], n_out, axis=1)
        else:
            # q[s, j, i] = W[j, i] z[s, i], exactly: four rows with the weight range
            blk.q = pyo.Var(range(n), range(n_out), inputs, bounds=(min(wmin, 0), max(wmax, 0)))
            z = prev_z

            def q_rows(b_, s, j, i, k, _z=z):
                w, q, zz = b_.W[j, i], b_.q[s, j, i], _z[s, i]
                return (
                    q <= wmax * zz,
                    q >= wmin * zz,
                    q <= w - wmin * (1 - zz),
                    q >= w - wmax * (1 - zz),
                )[k]

            blk.q_rows = pyo.Constraint(range(n), range(n_out), inputs, range(4), rule=q_rows)

            # u = lo + (hi - lo) z, so W u = lo * sum_i W + (hi - lo) * sum_i q
            def pre(b_, s, j, _lo=lo, _hi=hi, _inputs=inputs):
                return (
                    _lo * sum(b_.W[j, i] for i in _inputs)
                    + (_hi - _lo) * sum(b_.q[s, j, i] for i in _inputs)
                    + b_.b[j]
                )

            per = n_in * max(abs(wmin * lo), abs(wmin * hi), abs(wmax * lo), abs(wmax * hi))
            L = np.full((n, n_out), -per - bb, dtype=float)
            U = np.full((n, n_out), per + bb, dtype=float)
        blk.a = pyo.Expression(range(n), range(n_out), rule=pre)

        if layer == len(sizes) - 2:  # output scores: classify
            diffs = [(s, k) for s in range(n) for k in range(n_out) if k != labels[s]]
            if fit_all:
                blk.classify = pyo.Constraint(
                    diffs, rule=lambda b_, s, k: b_.a[s, int(labels[s])] - b_.a[s, k] >= out_margin
                )
            else:
                blk.correct = pyo.Var(range(n), domain=pyo.Binary)
                span = U.max(axis=1) - L.min(axis=1)
                blk.classify = pyo.Constraint(
                    diffs,
                    rule=lambda b_, s, k, _span=span: (
                        b_.a[s, int(labels[s])] - b_.a[s, k]
                        >= out_margin - (out_margin + float(_span[s])) * (1 - b_.correct[s])
                    ),
                )
            break

        # binary activation: z = 1 -> a >= mu, z = 0 -> a <= -mu (mu = margin, or a variable)
        eps = margins[layer]
        blk.z = pyo.Var(range(n), range(n_out), domain=pyo.Binary)
        if need_margin:
            mu_max = float(max(np.max(U), np.max(-L), eps))
            blk.mu = pyo.Var(range(n_out), bounds=(eps, mu_max))
            blk.on = pyo.Constraint(
                range(n),
                range(n_out),
                rule=lambda b_, s, j, _L=L, _mm=mu_max: (
                    b_.a[s, j] - b_.mu[j] >= (float(_L[s, j]) - _mm) * (1 - b_.z[s, j])
                ),
            )
            blk.off = pyo.Constraint(
                range(n),
                range(n_out),
                rule=lambda b_, s, j, _U=U, _mm=mu_max: (
                    b_.a[s, j] + b_.mu[j] <= (float(_U[s, j]) + _mm) * b_.z[s, j]
                ),
            )
        else:
            blk.on = pyo.Constraint(
                range(n),
                range(n_out),
                rule=lambda b_, s, j, _L=L: b_.a[s, j] >= float(min(_L[s, j], 0.0)) * (1 - b_.z[s, j]),
            )
            blk.off = pyo.Constraint(
                range(n),
                range(n_out),
                rule=lambda b_, s, j, _U=U, _e=eps: (
                    b_.a[s, j] <= -_e + (float(max(_U[s, j], 0.0)) + _e) * b_.z[s, j]
                ),
            )
        prev_z = {(s, j): blk.z[s, j] for s in range(n) for j in range(n_out)}

    last = m.layers[len(sizes) - 2]
    if objective == "accuracy":
        m.obj = pyo.Objective(expr=sum(last.correct[s] for s in range(n)), sense=pyo.maximize)
    elif objective == "min-weight":
        m.obj = pyo.Objective(expr=_count(nonzero), sense=pyo.minimize)
    else:  # max-margin, and the first stage of lexicographic
        m.obj = pyo.Objective(
            expr=sum(
                m.layers[layer].mu[j] for layer in range(len(spec.hidden)) for j in range(sizes[layer + 1])
            ),
            sense=pyo.maximize,
        )
    return TrainingModel(m, spec, sizes, margins, nonzero, out_margin)


def _snap(value: float) -> float:
    """A real weight, with the solver's round-off around 0 (below 1e-9) set to 0."""
    return 0.0 if abs(value) < 1e-9 else float(value)


def _count(nonzero: list) -> object:
    return sum(var for component in nonzero for var in component.values())


def second_stage(tm: TrainingModel, slack: float = 1e-6) -> None:
    """Lexicographic stage 2: keep every hidden margin at least what stage 1 found, minimise
    the non-zero weights (starting from stage 1's solution)."""
    m = tm.model
    keep = []
    for layer in range(len(tm.spec.hidden)):
        blk = m.layers[layer]
        for j, mu in blk.mu.items():
            keep.append((layer, j, max(pyo.value(mu) - slack * max(1.0, abs(pyo.value(mu))), blk.mu[j].lb)))
    m.keep = pyo.Constraint(
        range(len(keep)), rule=lambda _m, k: _m.layers[keep[k][0]].mu[keep[k][1]] >= keep[k][2]
    )
    for component in tm.nonzero:
        blk = component.parent_block()
        for (j, i), nz in component.items():
            nz.set_value(1 if abs(round(pyo.value(blk.W[j, i]))) > 0 else 0)
    m.obj.deactivate()
    m.obj2 = pyo.Objective(expr=_count(tm.nonzero), sense=pyo.minimize)


def set_start(
    tm: TrainingModel, layers: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, labels: np.ndarray
) -> None:
    """Give every variable the value of the network ``layers`` (integer weights, clipped to the
    weight set's range; biases rounded) on the training data: a MIP start, which the solver
    uses if it satisfies the rows (always for ``accuracy``)."""
    m, spec = tm.model, tm.spec
    lo, hi = spec.activation_values
    values = np.asarray(spec.weights)
    h = X
    prev_z = None
    n = X.shape[0]
    for k in range(len(tm.sizes) - 1):
        blk = m.layers[k]
        W, b = layers[k]
        W = np.asarray(W, dtype=float)
        b = np.asarray(b, dtype=float)
        if spec.integer_weights:
            W = values[np.abs(W[..., None] - values).argmin(axis=-1)].astype(float)
            b = np.round(b)
        else:
            W = np.clip(W, values[0], values[-1])
        b = np.clip(b, blk.b[0].lb, blk.b[0].ub)
        for (j, i), var in blk.W.items():
            var.set_value(float(W[j, i]))
        for j, var in blk.b.items():
            var.set_value(float(b[j]))
        if hasattr(blk, "pick"):
            for (j, i, v), var in blk.pick.items():
                var.set_value(1.0 if values[v] == W[j, i] else 0.0)
        if hasattr(blk, "nz"):
            for (j, i), var in blk.nz.items():
                var.set_value(1.0 if W[j, i] != 0 else 0.0)
        a = h @ W.T + b
        if prev_z is not None:
            for (s, j, i), var in blk.q.items():
                var.set_value(float(W[j, i] * prev_z[s, i]))
        if k == len(tm.sizes) - 2:
            if hasattr(blk, "correct"):
                rows = np.arange(n)
                own = a[rows, labels]
                rival = np.where(np.arange(a.shape[1])[None, :] == labels[:, None], -np.inf, a).max(axis=1)
                for s, var in blk.correct.items():
                    var.set_value(1.0 if own[s] - rival[s] >= tm.out_margin else 0.0)
            break
        # on the data's grid a pre-activation is 0 or at least a margin away; float sums put an
        # exact 0 at +-1e-16, which must count as on (a <= -margin is the off side's row)
        z = (a >= -0.5 * tm.margins[k]).astype(float)
        for (s, j), var in blk.z.items():
            var.set_value(float(z[s, j]))
        if hasattr(blk, "mu"):
            for j, var in blk.mu.items():
                var.set_value(float(np.clip(np.abs(a[:, j]).min(), var.lb, var.ub)))
        prev_z = z
        h = np.where(z > 0, hi, lo).astype(float)
