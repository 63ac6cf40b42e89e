"""A gradient-trained start for the MIP: the straight-through estimator (STE) in numpy.

Latent float weights and biases; the forward pass uses them rounded to the spec's integer set
(biases to integers), exactly the network the MIP would hold; the backward pass treats the
rounding as the identity and each binary activation as a hard tanh scaled by the spread of its
pre-activations. Full-batch Adam on the cross-entropy of the output scores. The best epoch's
network (most training samples classified with the MIP's strict margin, then lowest loss) is
returned, so a start that fits every sample stays feasible for the fit-all objectives.
"""

from __future__ import annotations

import itertools

import numpy as np

from pyomo_nn.training.spec import BinarizedMLP


def _round_to(values: np.ndarray, W: np.ndarray) -> np.ndarray:
    return values[np.abs(W[..., None] - values).argmin(axis=-1)].astype(float)


def strict_correct(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Samples whose own score beats every other by at least 1 (the MIP's fit-all rows)."""
    rows = np.arange(labels.size)
    own = scores[rows, labels]
    rival = np.where(np.arange(scores.shape[1])[None, :] == labels[:, None], -np.inf, scores).max(axis=1)
    return own - rival >= 1


def ste_layers(
    spec: BinarizedMLP,
    X: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    *,
    epochs: int = 300,
    lr: float = 0.02,
    seed: int = 0,
    restarts: int = 5,
    margins: list[float] | None = None,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """Integer ``(W, b)`` per layer of ``spec`` trained by the STE on ``X``, ``labels`` (class
    indices), and the share of samples it classifies with margin 1. Up to ``restarts`` runs
    from seeds ``seed, seed + 1, ...`` (binary nets get stuck): the first that fits every
    sample, else the best. ``margins``: the MIP's margin of each hidden layer; a neuron is on
    when its pre-activation is above minus half of it (float round-off at an exact 0 on the
    data's grid), as in the exported network."""
    best: tuple[list, float] | None = None
    for run in range(restarts):
        layers, share = _ste_run(spec, X, labels, n_classes, epochs, lr, seed + run, margins)
        if best is None or share > best[1]:
            best = (layers, share)
        if share == 1.0:
            break
    assert best is not None
    return best


def _ste_run(spec, X, labels, n_classes, epochs, lr, seed, margins):
    rng = np.random.default_rng(seed)
    shifts = [0.0] * len(spec.hidden) if margins is None else [0.5 * m for m in margins]
    values = np.asarray(spec.weights, dtype=float)
    lo, hi = spec.activation_values
    sizes = [X.shape[1], *spec.hidden, n_classes]
    bound = float(spec.bias_bound) if spec.bias_bound is not None else np.inf
    if not spec.bias:
        bound = 0.0
    scale = max(abs(values[0]), abs(values[-1]), 1e-12)
    params = []
    h = X
    for k, (a, b) in enumerate(itertools.pairwise(sizes)):
        W = rng.uniform(values[0] - 0.49, values[-1] + 0.49, (b, a))
        Wq = _round_to(values, W) if spec.integer_weights else W
        bias = np.zeros(b)
        if k < len(sizes) - 2:  # each hidden neuron starts splitting the data in half
            pre = h @ Wq.T
            bias = np.clip(-np.median(pre, axis=0), -bound, bound)
            h = np.where(pre + np.round(bias) >= 0, hi, lo).astype(float)
        params.append([W, bias])
    moments = [[(np.zeros_like(p), np.zeros_like(p)) for p in layer] for layer in params]
    onehot = np.eye(n_classes)[labels]
    best: tuple[float, float, list] | None = None
    beta1, beta2 = 0.9, 0.999
    for epoch in range(1, epochs + 1):
        if spec.integer_weights:
            quant = [(_round_to(values, W), np.clip(np.round(b), -bound, bound)) for W, b in params]
        else:
            quant = [(np.clip(W, values[0], values[-1]), np.clip(b, -bound, bound)) for W, b in params]
        # forward, keeping what the backward pass needs
        hs, pres = [X], []
        for k, (W, b) in enumerate(quant[:-1]):
            a = hs[-1] @ W.T + b + shifts[k]
            pres.append(a)
            hs.append(np.where(a >= 0, hi, lo).astype(float))
        W, b = quant[-1]
        scores = hs[-1] @ W.T + b
        shifted = scores - scores.max(axis=1, keepdims=True)
        prob = np.exp(shifted)
        prob /= prob.sum(axis=1, keepdims=True)
        loss = float(-np.mean(np.log(prob[np.arange(labels.size), labels] + 1e-12)))
        fit = float(np.mean(strict_correct(scores, labels)))
        if best is None or (fit, -loss) > (best[0], -best[1]):
            best = (fit, loss, [(W_.copy(), b_.copy()) for W_, b_ in quant])
        if fit == 1.0 and epoch > epochs // 2:
            break
        # backward (straight through the roundings and the steps)
        grad = (prob - onehot) / labels.size
        grads = []
        for k in range(len(quant) - 1, -1, -1):
            W, _ = quant[k]
            grads.append((grad.T @ hs[k], grad.sum(axis=0)))
            if k == 0:
                break
            a = pres[k - 1]
            spread = a.std(axis=0, keepdims=True) + 1e-6
            grad = (grad @ W) * (0.5 * (hi - lo) / spread) * (np.abs(a) <= spread)
        grads.reverse()
        for k, (gW, gb) in enumerate(grads):
            for p, (g, (m1, m2)) in enumerate(zip((gW, gb), moments[k], strict=True)):
                m1 *= beta1
                m1 += (1 - beta1) * g
                m2 *= beta2
                m2 += (1 - beta2) * g * g
                step = lr * (m1 / (1 - beta1**epoch)) / (np.sqrt(m2 / (1 - beta2**epoch)) + 1e-8)
                params[k][p] -= step * (scale if p == 0 else 10.0 * scale)
            slack = 0.5 if spec.integer_weights else 0.0
            params[k][0] = np.clip(params[k][0], values[0] - slack, values[-1] + slack)
    assert best is not None
    return best[2], best[0]
