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

Intermediate bounds are the root's (valid on every branch, which is a subset of the root),
a split neuron's own bound clipped at zero by its phase; or, with ``refine``, each branch
carries its own bounds of the split neurons (:meth:`BatchBounder.refine`: after a split in
layer ``k``, the unstable neurons of the layers after ``k`` are bounded again by
back-substitution through the branch's phases, which makes fixed ReLUs exact lines; by
default only the :data:`REFINE_TARGETS` neurons per layer whose relaxation costs the branch's
bound most). A free neuron the refined bounds prove stable becomes an implied split; a branch
whose bounds cross (``lower > upper``) is empty and gets the bound ``+inf``.

All arrays carry a leading batch axis (branches) and a row axis; parameters live on the
root's split neurons only (``m`` of them, layer after layer).
"""

from __future__ import annotations

import time
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


#: Whether branches refine their intermediate bounds by default (:meth:`BatchBounder.refine`).
REFINE_BOUNDS = False

#: Neurons per layer and branch refined after a split, the ones whose relaxation costs the
#: branch's bound most (the intercept score of :mod:`.branching`); None: every split neuron.
REFINE_TARGETS: int | None = 16

#: Branches whose intermediate bounds are refined in one back-substitution (each holds
#: ``2 x unstable x width`` coefficients: 32 branches of mnist 256x6 take about 35 MB).
REFINE_CHUNK = 32


@dataclass
class BranchBatch:
    """Branches to bound: ``problems`` (batch,) picks each branch's objective rows;
    ``splits`` (batch, m) in {-1, 0, +1}; ``alpha``/``beta`` (batch, rows, m) warm starts;
    ``lower``/``upper`` (batch, m) the branch's own pre-activation bounds of the split
    neurons (None: the root's), valid on the branch."""

    problems: np.ndarray
    splits: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None

    def subset(self, indices: np.ndarray | slice) -> BranchBatch:
        """Branches ``indices`` (an index array or a slice), every field taken along."""
        bounds = (None, None) if self.lower is None else (self.lower[indices], self.upper[indices])
        return BranchBatch(
            self.problems[indices], self.splits[indices], self.alpha[indices], self.beta[indices], *bounds
        )


def upper_lines(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of the ReLU's upper line ``u (z - l) / (u - l)`` over ``[l, u]``
    (elementwise); a stable neuron gets its exact line (slope 1 or 0, intercept 0)."""
    unstable = (lower < 0) & (upper > 0)
    width = np.where(unstable, upper - lower, 1.0)
    slopes = np.where(unstable, upper / width, (lower >= 0).astype(lower.dtype))
    intercepts = np.where(unstable, -upper * lower / width, 0.0)
    return slopes, intercepts


def clip_by_phases(lower: np.ndarray, upper: np.ndarray, splits: np.ndarray) -> None:
    """Clip bounds at zero by the phases in place: ``z >= 0`` when active, ``z <= 0`` when not."""
    np.maximum(lower, 0.0, out=lower, where=splits > 0)
    np.minimum(upper, 0.0, out=upper, where=splits < 0)


def outward_float32(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds stored in float32 (half the memory of a pool of branches), rounded outward so
    that they still hold."""
    low, high = lower.astype(np.float32), upper.astype(np.float32)
    low = np.where(low > lower, np.nextafter(low, np.float32(-np.inf)), low)
    high = np.where(high < upper, np.nextafter(high, np.float32(np.inf)), high)
    return low, high


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
        *,
        refine: bool = REFINE_BOUNDS,
        refine_targets: int | None = REFINE_TARGETS,
    ) -> None:
        self.chain = chain
        #: Whether branches carry their own intermediate bounds (:meth:`refine`), and how
        #: many neurons per layer and branch are refined (None: all).
        self.refine_bounds = refine
        self.refine_targets = refine_targets
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
        cls,
        chain: ReluChain,
        input_lower: np.ndarray,
        input_upper: np.ndarray,
        bounds: Bounds,
        *,
        refine: bool = REFINE_BOUNDS,
        refine_targets: int | None = REFINE_TARGETS,
    ) -> BatchBounder:
        """The bounder of ``chain`` from a network's :class:`~pyomo_nn.Bounds` (its first
        affine layers are the chain's hidden layers; later ones, output or rows, are unused)."""
        hidden = len(chain.weights)
        lower, upper = list(bounds.lower[:hidden]), list(bounds.upper[:hidden])
        return cls(
            chain, input_lower, input_upper, lower, upper, refine=refine, refine_targets=refine_targets
        )

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
        """(bound, minimising corner, saved per-layer values for the gradient or None, input
        coefficients) of the objective rows; ``arrays`` is this bounder (float64: a valid
        bound) or its :class:`_SinglePrecision` copy (float32: twice as fast, for the
        optimisation steps only)."""
        a = self if arrays is None else arrays
        lam = a.chain.rows[batch.problems].copy()
        constant = a.chain.offsets[batch.problems].copy()
        lines = self._lines(batch, a)
        signs = batch.splits[:, None, :]
        return self._substitute(lam, constant, len(a.chain.weights), signs, alpha, beta, lines, keep, a)

    def _lines(self, batch: BranchBatch, arrays) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per hidden layer, the upper lines (slopes, intercepts) of its split neurons: the
        root's (n_k,) or, when the batch carries its own bounds, per branch (batch, 1, n_k)."""
        if batch.lower is None:
            return list(zip(arrays.upper_slopes, arrays.intercepts, strict=True))
        dtype = arrays.input_lower.dtype
        slopes, intercepts = upper_lines(batch.lower.astype(np.float64), batch.upper.astype(np.float64))
        return self._per_layer(slopes.astype(dtype), intercepts.astype(dtype), len(self.unstable))

    def _per_layer(self, slopes: np.ndarray, intercepts: np.ndarray, layers: int) -> list:
        """(batch, m) slopes and intercepts cut into layers ``0..layers-1``, as (batch, 1, n_k)."""
        cuts = [slice(self.offsets[k], self.offsets[k + 1]) for k in range(layers)]
        return [(slopes[:, None, cut], intercepts[:, None, cut]) for cut in cuts]

    def _substitute(self, lam, constant, top, all_signs, alpha, beta, lines, keep, a):
        """Back-substitution of rows ``lam`` (batch, rows, width of layer ``top - 1``) on the
        outputs of hidden layer ``top - 1`` plus ``constant``, down to the input box: the
        ``_backward`` result for these rows. ``beta`` None: no split multipliers."""
        chain = a.chain
        magnitude = np.abs(constant)
        saved = []
        for k in range(top - 1, -1, -1):
            part = slice(self.offsets[k], self.offsets[k + 1])
            columns = self.unstable[k]
            signs = all_signs[..., part]
            line_slopes, intercepts = lines[k]
            free = signs == 0
            on_split = lam[..., columns]
            positive = on_split >= 0
            slopes = np.where(
                signs > 0,
                1.0,
                np.where(signs < 0, 0.0, np.where(positive, alpha[..., part], line_slopes)),
            )
            upper_line = free & ~positive
            intercept_terms = np.where(upper_line, on_split * intercepts, 0.0)
            constant += intercept_terms.sum(axis=-1)
            magnitude += np.abs(intercept_terms).sum(axis=-1)
            coefficients = lam * a.base_slopes[k]
            coefficients[..., columns] = on_split * slopes
            if beta is not None:
                coefficients[..., columns] -= beta[..., part] * signs
            constant += coefficients @ chain.biases[k]
            magnitude += np.abs(coefficients) @ np.abs(chain.biases[k])
            if keep:
                saved.append((k, on_split, slopes, positive, upper_line, signs, intercepts))
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
        for k, on_split, slopes, positive, upper_line, signs, intercepts in reversed(saved):
            part = slice(self.offsets[k], self.offsets[k + 1])
            columns = self.unstable[k]
            z = h @ chain.weights[k].T + chain.biases[k]
            z_split = z[..., columns]
            grad_alpha[..., part] = np.where((signs == 0) & positive, on_split * z_split, 0.0)
            grad_beta[..., part] = -signs * z_split
            h = z * a.base_slopes[k]
            h[..., columns] = slopes * z_split + np.where(upper_line, intercepts, 0.0)
        return grad_alpha, grad_beta

    # -- per-branch intermediate bounds ----------------------------------------------------------
    def root_split_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The root's pre-activation bounds of the split neurons, (m,) each."""
        lower = [low[columns] for low, columns in zip(self.pre_lower, self.unstable, strict=True)]
        upper = [up[columns] for up, columns in zip(self.pre_upper, self.unstable, strict=True)]
        return np.concatenate(lower or [np.zeros(0)]), np.concatenate(upper or [np.zeros(0)])

    def with_root_bounds(self, batch: BranchBatch) -> BranchBatch:
        """``batch`` carrying the root's bounds (clipped by its phases) as its own."""
        root_lower, root_upper = self.root_split_bounds()
        size = batch.splits.shape[0]
        lower, upper = np.tile(root_lower, (size, 1)), np.tile(root_upper, (size, 1))
        clip_by_phases(lower, upper, batch.splits)
        lower, upper = outward_float32(lower, upper)
        return BranchBatch(batch.problems, batch.splits, batch.alpha, batch.beta, lower, upper)

    def layer_of(self, neurons: np.ndarray) -> np.ndarray:
        """The hidden layer of each split neuron (indices into the ``m`` split neurons)."""
        return np.searchsorted(self.offsets, neurons, side="right") - 1

    def refine(
        self, batch: BranchBatch, first_layer: np.ndarray, scores: np.ndarray | None = None
    ) -> BranchBatch:
        """``batch`` with its intermediate bounds refined on every layer after ``first_layer``
        (batch,) (the shallowest layer whose phases changed since the bounds were computed):
        split neurons of each layer are bounded by back-substitution through the branch's
        phases and bounds (lower lines by CROWN's adaptive slope, no multipliers) and
        intersected with the bounds held, so refining never loosens a bound. With ``scores``
        (batch, m) and :attr:`refine_targets` set, only that many neurons per layer and
        branch are refined, the best scored (the rest keep their bounds). A free neuron proved
        stable joins the splits. Float64 with outward rounding, stored in float32."""
        if batch.lower is None:
            batch = self.with_root_bounds(batch)
        lower, upper = batch.lower.astype(np.float64), batch.upper.astype(np.float64)
        splits = batch.splits.copy()
        for k in range(1, len(self.unstable)):
            part = slice(self.offsets[k], self.offsets[k + 1])
            chosen = np.flatnonzero(first_layer < k)
            targets = self._targets(k, chosen, scores)
            for start in range(0, chosen.size, REFINE_CHUNK):
                rows, picked = chosen[start : start + REFINE_CHUNK], targets[start : start + REFINE_CHUNK]
                low, high = self._layer_bounds(k, picked, splits[rows], lower[rows], upper[rows])
                cells = (rows[:, None], self.offsets[k] + picked)
                lower[cells] = np.maximum(lower[cells], low)
                upper[cells] = np.minimum(upper[cells], high)
            _imply_phases(lower[:, part], upper[:, part], splits[:, part])
        lower, upper = outward_float32(lower, upper)
        return BranchBatch(batch.problems, splits, batch.alpha, batch.beta, lower, upper)

    def _targets(self, k: int, chosen: np.ndarray, scores: np.ndarray | None) -> np.ndarray:
        """Split neurons of layer ``k`` to refine on branches ``chosen``: (chosen, count)
        indices into the layer's split neurons, every one or the best scored."""
        size = self.unstable[k].size
        count = size if scores is None or self.refine_targets is None else min(self.refine_targets, size)
        if count == size:
            return np.broadcast_to(np.arange(size), (chosen.size, size))
        layer_scores = scores[chosen, self.offsets[k] : self.offsets[k + 1]]
        return np.argpartition(-layer_scores, count - 1, axis=1)[:, :count]

    def _layer_bounds(
        self, k: int, targets: np.ndarray, splits: np.ndarray, lower: np.ndarray, upper: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Valid lower and upper bounds (branches, targets) of split neurons ``targets``
        (branches, count) of layer ``k`` on branches with ``splits`` and bounds
        ``lower``/``upper`` of the layers before it (fixed neurons too: their bounds may
        contradict their phase, an empty branch)."""
        columns = self.unstable[k][targets]
        weight, bias = self.chain.weights[k][columns], self.chain.biases[k][columns]
        count = targets.shape[1]
        lam = np.concatenate([weight, -weight], axis=1)
        constant = np.concatenate([bias, -bias], axis=1)
        lines = self._per_layer(*upper_lines(lower, upper), k)
        alpha = (upper > -lower).astype(np.float64)[:, None, :]  # CROWN's adaptive lower line
        value = self._substitute(lam, constant, k, splits[:, None, :], alpha, None, lines, False, self)[0]
        return value[:, :count], -value[:, count:]

    def empty(self, batch: BranchBatch) -> np.ndarray:
        """Branches (batch,) whose bounds cross: no input reaches their phases."""
        if batch.lower is None:
            return np.zeros(batch.splits.shape[0], dtype=bool)
        return np.any(batch.lower > batch.upper, axis=1)

    def intercepts_of(self, batch: BranchBatch) -> np.ndarray:
        """Upper-line intercepts of the split neurons: the root's (m,) or per branch (batch, m)."""
        if batch.lower is None:
            return np.concatenate(self.intercepts or [np.zeros(0)])
        return upper_lines(batch.lower.astype(np.float64), batch.upper.astype(np.float64))[1]

    def split_coefficients(self, batch: BranchBatch) -> tuple[np.ndarray, np.ndarray]:
        """(``lambda`` of the split neurons (batch, rows, m), the row with the best bound
        (batch,)) at the batch's own parameters, in float32: to rank neurons, not a bound."""
        alpha, beta = batch.alpha.astype(np.float32), batch.beta.astype(np.float32)
        value, _, saved, _ = self._backward(batch, alpha, beta, keep=True, arrays=self.single)
        return self._split_coefficients(saved, value.shape), np.argmax(value, axis=1)

    def estimate(self, batch: BranchBatch) -> np.ndarray:
        """Bounds (batch, rows) at the batch's own parameters, without optimising, in float32:
        to compare branching choices, not a valid bound."""
        alpha, beta = batch.alpha.astype(np.float32), batch.beta.astype(np.float32)
        return self._backward(batch, alpha, beta, keep=False, arrays=self.single)[0]

    # -- optimised bounds ------------------------------------------------------------------------
    def optimise(self, batch: BranchBatch, iterations: int, seconds: float | None = None) -> BatchBounds:
        """Best parameters over ``iterations`` projected Adam steps from the batch's own (in
        float32), and the valid bound (float64) at the best of them. With ``seconds``, the steps
        stop once that much time has passed (after the first): every iterate is a valid bound,
        so a search keeps its time limit on wide networks where one batch takes seconds."""
        stop_at = np.inf if seconds is None else time.perf_counter() + seconds
        single = self.single
        alpha = batch.alpha.astype(np.float32)
        beta = np.where(batch.splits[:, None, :] != 0, batch.beta, 0.0).astype(np.float32)
        best_value = np.full(alpha.shape[:2], -np.inf, dtype=np.float32)
        best_alpha, best_beta = alpha.copy(), beta.copy()
        moments = [np.zeros_like(alpha) for _ in range(4)]
        beta1, beta2 = ADAM_BETAS
        has_splits = np.any(batch.splits != 0)
        for iteration in range(iterations):
            if iteration and time.perf_counter() > stop_at:
                break
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
        final = BranchBatch(batch.problems, batch.splits, best_alpha, best_beta, batch.lower, batch.upper)
        value, corner, saved, _ = self._backward(final, best_alpha, best_beta, keep=True)
        value[self.empty(batch)] = np.inf
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


def _imply_phases(lower: np.ndarray, upper: np.ndarray, splits: np.ndarray) -> None:
    """In place: free neurons whose bounds prove them stable get that phase (an implied
    split: the branch is unchanged, the ReLU becomes exact), then bounds are clipped by phase."""
    free = splits == 0
    splits[free & (lower >= 0)] = 1
    splits[free & (upper <= 0) & (lower < 0)] = -1
    clip_by_phases(lower, upper, splits)
