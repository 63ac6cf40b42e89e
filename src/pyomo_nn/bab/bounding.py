"""Lower bounds of many branches at once: back-substitution with optimised ReLU slopes
(alpha) and Lagrange multipliers of the split constraints (beta), as in beta-CROWN
(Wang et al., NeurIPS 2021).

A branch fixes some ReLUs that are split at the root: ``z >= 0`` (active, ``s = +1``) or
``z <= 0`` (inactive, ``s = -1``). Its objective row ``c(x)`` is bounded below by walking the
chain backwards with coefficients ``lambda`` (rows x neurons):

* a ReLU fixed by the root bounds or by the branch is exact (slope 1 or 0);
* a free split ReLU is relaxed: the lower line ``alpha z`` (any ``alpha`` in [0, 1]) when its
  coefficient is positive, else the upper line ``u (z - l) / (u - l)``;
* each split constraint enters with a multiplier ``beta >= 0``: ``c(x) >= c(x) - beta s z``
  on the branch, so ``- beta s`` is added to the coefficients of ``z``;

and the affine function left over the input is minimised over the input box. Every
``alpha``/``beta`` gives a valid bound; both are improved by projected Adam steps on the
bound's exact (sub)gradient, computed in one forward pass from the minimising input corner:
``d bound / d beta = - s z_hat`` and ``d bound / d alpha = lambda z_hat`` where ``z_hat`` are the
pre-activations of the relaxed solution. The best bound of all iterates is kept.

Intermediate bounds are the root's (valid on every branch, which is a subset of the root);
a split neuron's own bound is clipped at zero by its phase.

All arrays carry a leading batch axis (branches) and a row axis; parameters live on the
root's split neurons only (``m`` of them, layer after layer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyomo_nn.bab.chain import ReluChain
from pyomo_nn.bounds import Bounds
from pyomo_nn.tolerances import SYMBOLIC_ROUNDING

#: Adam step sizes for the slopes (in [0, 1]) and the multipliers (>= 0; they live on the
#: scale of the objective's coefficients), and the step decay per iteration (beta-CROWN's).
#: Measured on three digits 64-50-50-50-10 margins at eps 0.2 (branches to optimality):
#: beta step 0.05 -> 15,037, 0.2 -> 11,319, 0.5 -> 11,379; alpha step 0.2 -> 12,271.
ALPHA_STEP = 0.1
BETA_STEP = 0.2
STEP_DECAY = 0.98

#: Adam's moment decay rates and denominator guard (the usual values).
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8


@dataclass
class BranchBatch:
    """Branches to bound: ``problems`` (batch,) picks each branch's objective rows;
    ``splits`` (batch, m) in {-1, 0, +1}; ``alpha``/``beta`` (batch, rows, m) warm starts."""

    problems: np.ndarray
    splits: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray


@dataclass
class BatchBounds:
    """Per branch and row: ``lower`` (a valid bound), ``points`` (the minimising input of
    the relaxation, a candidate for the real minimum), ``coefficients`` (the ``lambda`` of
    the split neurons at the best parameters, for branching: (batch, rows, m)) and the
    best ``alpha``/``beta``."""

    lower: np.ndarray
    points: np.ndarray
    coefficients: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray


class BatchBounder:
    """Bounds of branches of one chain over one input box, given valid root bounds of the
    pre-activations of every hidden layer."""

    def __init__(
        self,
        chain: ReluChain,
        input_lower: np.ndarray,
        input_upper: np.ndarray,
        pre_lower: list[np.ndarray],
        pre_upper: list[np.ndarray],
    ) -> None:
        self.chain = chain
        self.pre_lower = pre_lower
        self.pre_upper = pre_upper
        self.input_lower = np.asarray(input_lower, dtype=np.float64)
        self.input_upper = np.asarray(input_upper, dtype=np.float64)
        self.input_magnitude = np.maximum(np.abs(self.input_lower), np.abs(self.input_upper))
        self.base_slopes = []
        self.unstable = []
        self.upper_slopes = []
        self.intercepts = []
        self.offsets = [0]
        for lower, upper in zip(pre_lower, pre_upper, strict=True):
            split = np.flatnonzero((lower < 0) & (upper > 0))
            self.base_slopes.append((lower >= 0).astype(np.float64))
            self.unstable.append(split)
            width = upper[split] - lower[split]
            self.upper_slopes.append(upper[split] / width)
            self.intercepts.append(-upper[split] * lower[split] / width)
            self.offsets.append(self.offsets[-1] + split.size)
        self.widest = max([self.input_lower.size, *chain.widths])
        self.single = _SinglePrecision(self)

    @classmethod
    def from_bounds(
        cls, chain: ReluChain, input_lower: np.ndarray, input_upper: np.ndarray, bounds: Bounds
    ) -> BatchBounder:
        """The bounder of ``chain`` from a network's :class:`~pyomo_nn.Bounds` (its first
        affine layers are the chain's hidden layers; later ones, output or rows, are unused)."""
        hidden = len(chain.weights)
        return cls(chain, input_lower, input_upper, list(bounds.lower[:hidden]), list(bounds.upper[:hidden]))

    @property
    def split_count(self) -> int:
        """``m``: neurons split at the root, the ones branches fix."""
        return self.offsets[-1]

    def initial_parameters(self, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """DeepPoly's slopes (1 where ``u > -l``, else 0) and zero multipliers, for one branch."""
        alpha = np.concatenate(
            [(slope > 0.5).astype(np.float64) for slope in self.upper_slopes] or [np.zeros(0)]
        )
        alpha = np.broadcast_to(alpha, (rows, self.split_count)).copy()
        return alpha, np.zeros_like(alpha)

    # -- one evaluation -----------------------------------------------------------------------
    def _backward(self, batch: BranchBatch, alpha: np.ndarray, beta: np.ndarray, keep: bool, arrays=None):
        """(bound, minimising corner, saved per-layer values for the gradient or None);
        ``arrays`` is this bounder (float64: a valid bound) or its :class:`_SinglePrecision`
        copy (float32: twice as fast, for the optimisation steps only)."""
        a = self if arrays is None else arrays
        chain = a.chain
        lam = chain.rows[batch.problems].copy()
        constant = chain.offsets[batch.problems].copy()
        magnitude = np.abs(constant)
        saved = []
        for k in range(len(chain.weights) - 1, -1, -1):
            part = slice(self.offsets[k], self.offsets[k + 1])
            columns = self.unstable[k]
            signs = batch.splits[:, None, part]
            free = signs == 0
            on_split = lam[..., columns]
            positive = on_split >= 0
            slopes = np.where(
                signs > 0,
                1.0,
                np.where(signs < 0, 0.0, np.where(positive, alpha[..., part], self.upper_slopes[k])),
            )
            upper_line = free & ~positive
            intercept_terms = np.where(upper_line, on_split * a.intercepts[k], 0.0)
            constant += intercept_terms.sum(axis=-1)
            magnitude += np.abs(intercept_terms).sum(axis=-1)
            coefficients = lam * a.base_slopes[k]
            coefficients[..., columns] = on_split * slopes - beta[..., part] * signs
            constant += coefficients @ chain.biases[k]
            magnitude += np.abs(coefficients) @ np.abs(chain.biases[k])
            if keep:
                saved.append((k, on_split, slopes, positive, upper_line, signs))
            lam = coefficients @ chain.weights[k]
        corner = np.where(lam > 0, a.input_lower, a.input_upper)
        value = constant + np.einsum("brn,brn->br", lam, corner)
        magnitude += np.abs(lam) @ a.input_magnitude
        value -= SYMBOLIC_ROUNDING * magnitude * (self.widest + 1)
        return value, corner, saved, lam

    def _gradients(self, corner: np.ndarray, saved: list, arrays=None) -> tuple[np.ndarray, np.ndarray]:
        """d bound / d alpha and d bound / d beta (batch, rows, m) from the forward pass."""
        a = self if arrays is None else arrays
        chain = a.chain
        grad_alpha = np.zeros((*corner.shape[:2], self.split_count), dtype=corner.dtype)
        grad_beta = np.zeros_like(grad_alpha)
        h = corner
        for k, on_split, slopes, positive, upper_line, signs in reversed(saved):
            part = slice(self.offsets[k], self.offsets[k + 1])
            columns = self.unstable[k]
            z = h @ chain.weights[k].T + chain.biases[k]
            z_split = z[..., columns]
            grad_alpha[..., part] = np.where((signs == 0) & positive, on_split * z_split, 0.0)
            grad_beta[..., part] = -signs * z_split
            h = z * a.base_slopes[k]
            h[..., columns] = slopes * z_split + np.where(upper_line, a.intercepts[k], 0.0)
        return grad_alpha, grad_beta

    def estimate(self, batch: BranchBatch) -> np.ndarray:
        """Bounds (batch, rows) at the batch's own parameters, without optimising, in float32:
        to compare branching choices, not a valid bound."""
        alpha, beta = batch.alpha.astype(np.float32), batch.beta.astype(np.float32)
        return self._backward(batch, alpha, beta, keep=False, arrays=self.single)[0]

    # -- optimised bounds ------------------------------------------------------------------------
    def optimise(self, batch: BranchBatch, iterations: int) -> BatchBounds:
        """Best parameters over ``iterations`` projected Adam steps from the batch's own (in
        float32), and the valid bound (float64) at the best of them."""
        single = self.single
        alpha = batch.alpha.astype(np.float32)
        beta = np.where(batch.splits[:, None, :] != 0, batch.beta, 0.0).astype(np.float32)
        best_value = np.full(alpha.shape[:2], -np.inf, dtype=np.float32)
        best_alpha, best_beta = alpha.copy(), beta.copy()
        moments = [np.zeros_like(alpha) for _ in range(4)]
        beta1, beta2 = ADAM_BETAS
        has_splits = np.any(batch.splits != 0)
        for iteration in range(iterations):
            value, corner, saved, _ = self._backward(batch, alpha, beta, keep=True, arrays=single)
            improved = value > best_value
            best_value = np.where(improved, value, best_value)
            best_alpha = np.where(improved[..., None], alpha, best_alpha)
            best_beta = np.where(improved[..., None], beta, best_beta)
            if self.split_count == 0:
                break
            grad_alpha, grad_beta = self._gradients(corner, saved, arrays=single)
            decay = STEP_DECAY**iteration
            correction1 = 1 - beta1 ** (iteration + 1)
            correction2 = 1 - beta2 ** (iteration + 1)
            parameters = [(alpha, grad_alpha, 0, ALPHA_STEP)]
            if has_splits:
                parameters.append((beta, grad_beta, 2, BETA_STEP))
            for values, gradient, slot, step in parameters:
                first, second = moments[slot], moments[slot + 1]
                first *= beta1
                first += (1 - beta1) * gradient
                second *= beta2
                second += (1 - beta2) * gradient**2
                scale = np.sqrt(second / correction2) + ADAM_EPSILON
                values += step * decay * (first / correction1) / scale
            np.clip(alpha, 0.0, 1.0, out=alpha)
            np.maximum(beta, 0.0, out=beta)
        if iterations:
            value = self._backward(batch, alpha, beta, keep=False, arrays=single)[0]
            improved = value > best_value
            best_alpha = np.where(improved[..., None], alpha, best_alpha)
            best_beta = np.where(improved[..., None], beta, best_beta)
        best_alpha, best_beta = best_alpha.astype(np.float64), best_beta.astype(np.float64)
        final = BranchBatch(batch.problems, batch.splits, best_alpha, best_beta)
        value, corner, saved, _ = self._backward(final, best_alpha, best_beta, keep=True)
        coefficients = self._split_coefficients(saved, value.shape)
        return BatchBounds(value, corner, coefficients, best_alpha, best_beta)

    def _split_coefficients(self, saved: list, shape: tuple[int, int]) -> np.ndarray:
        """The ``lambda`` of every split neuron (batch, rows, m) from a kept backward pass."""
        result = np.zeros((*shape, self.split_count))
        for k, on_split, *_ in saved:
            result[..., self.offsets[k] : self.offsets[k + 1]] = on_split
        return result


class _SinglePrecision:
    """The arrays of a :class:`BatchBounder` in float32, for the optimisation steps."""

    def __init__(self, bounder: BatchBounder) -> None:
        chain = bounder.chain
        self.chain = ReluChain(
            tuple(w.astype(np.float32) for w in chain.weights),
            tuple(b.astype(np.float32) for b in chain.biases),
            chain.rows.astype(np.float32),
            chain.offsets.astype(np.float32),
        )
        self.base_slopes = [s.astype(np.float32) for s in bounder.base_slopes]
        self.upper_slopes = [s.astype(np.float32) for s in bounder.upper_slopes]
        self.intercepts = [t.astype(np.float32) for t in bounder.intercepts]
        self.input_lower = bounder.input_lower.astype(np.float32)
        self.input_upper = bounder.input_upper.astype(np.float32)
        self.input_magnitude = bounder.input_magnitude.astype(np.float32)
