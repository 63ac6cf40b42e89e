"""``fit_mip``: train a :class:`BinarizedMLP` by a MIP, and the :class:`Fit` it returns."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np

from pyomo_nn.errors import (
    InfeasibleModelError,
    InvalidArgumentError,
    NoTrainedNetworkError,
    TrainingInfeasibleError,
)
from pyomo_nn.solvers import solve
from pyomo_nn.training.classifier import StepsClassifier
from pyomo_nn.training.export import binary_steps
from pyomo_nn.training.mip import OBJECTIVES, build, second_stage, set_start
from pyomo_nn.training.spec import BinarizedMLP, check_features, check_labels
from pyomo_nn.training.ste import ste_layers


def forward_scores(
    spec: BinarizedMLP, layers: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray
) -> np.ndarray:
    """The output scores of the network (numpy): hidden neurons are ``hi`` where the
    pre-activation is >= 0, ``lo`` below."""
    lo, hi = spec.activation_values
    h = X
    for W, b in layers[:-1]:
        h = np.where(h @ W.T + b >= 0, hi, lo).astype(float)
    W, b = layers[-1]
    return h @ W.T + b


@dataclass
class Fit(StepsClassifier):
    """A network trained by :func:`fit_mip`. ``status``: the (last) solve's status
    (``optimal`` or ``time_limit``: an incumbent that fits the constraints, maybe not the best);
    ``gap`` its relative gap; ``layers``: the integer ``(W, b)`` of each layer; ``classes``:
    the label of each output; ``margins``: the negative-side margin of each hidden layer used
    in training (exported as a half-margin shift of the bias, so a pre-activation exactly on
    the threshold is classified as in training, also in float32)."""

    spec: BinarizedMLP
    classes: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]
    margins: list[float]
    objective: str
    status: str
    gap: float | None
    objective_value: float | None
    solve_time: float
    build_time: float
    train_accuracy: float
    results: list = field(default_factory=list, repr=False)

    @property
    def n_inputs(self) -> int:
        return self.layers[0][0].shape[1]

    @property
    def nonzero_weights(self) -> int:
        """Non-zero weights (biases not counted)."""
        return int(sum(np.count_nonzero(W) for W, _ in self.layers))

    def scores(self, X: object) -> np.ndarray:
        """Output scores, one row per sample (of the exported layers: the same classes on
        the data's grid, and what the ONNX file computes)."""
        return forward_scores(self.spec, self.export_layers(), check_features(X, self.n_inputs))

    def export_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The layers as exported: each hidden bias shifted by half its margin."""
        shifts = [0.5 * m for m in self.margins] + [0.0]
        return [(W, b + shifts[k]) for k, (W, b) in enumerate(self.layers)]

    def steps(self) -> list:
        """The exported op sequence (pyomo_nn.training.export)."""
        return binary_steps(self.spec, self.export_layers())

    def __str__(self) -> str:
        gap = "-" if self.gap is None else f"{100 * self.gap:.3g}%"
        return (
            f"Fit({self.objective}, status {self.status}, gap {gap}, train accuracy "
            f"{self.train_accuracy:.3f}, {self.nonzero_weights} non-zero weights, "
            f"solve {self.solve_time:.1f} s)"
        )


def fit_mip(
    spec: BinarizedMLP,
    X: object,
    y: object,
    objective: str = "max-margin",
    *,
    solver: str = "highs",
    time_limit: float | None = 600,
    classes: object | None = None,
    margin: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
    start: object | None = None,
    ste_seed: int = 0,
) -> Fit:
    """Train ``spec`` on ``X`` (rows of features, e.g. pixels in [0, 1]) and labels ``y`` by a
    MIP (docs/training.md). ``objective``: ``"max-margin"`` (fit every sample, maximise the
    hidden neurons' margins), ``"min-weight"`` (fit every sample with the fewest non-zero
    weights), ``"accuracy"`` (maximise the samples classified right) or ``"lexicographic"``
    (max-margin, then min-weight keeping the margins; BeMi). ``time_limit`` is the limit of each
    MIP (lexicographic solves two). ``margin``: a hidden layer-1 neuron is off when its
    pre-activation is <= -margin; by default the data's grid (1/255 for 8-bit pixels, where it
    is exact) or 1e-4. ``start``: a network (a :class:`Fit`, or a list of ``(W, b)`` per layer,
    e.g. a straight-through-estimator net; weights are rounded to the set, biases to integers)
    given to the solver as a MIP start, or ``"ste"``: a net of the spec trained first by gradient
    descent with the straight-through estimator (numpy, seed ``ste_seed``; a second or two);
    by default ``accuracy`` starts from all-zero weights.

    Raises :class:`~pyomo_nn.errors.TrainingInfeasibleError` when the solver proves no network
    fits every sample, :class:`~pyomo_nn.errors.NoTrainedNetworkError` when the time limit
    passes without any network, typed errors for bad data or settings.
    """
    if not isinstance(spec, BinarizedMLP):
        raise InvalidArgumentError(f"spec: expected a training.BinarizedMLP, got {type(spec).__name__}")
    if objective not in OBJECTIVES:
        raise InvalidArgumentError(f"objective={objective!r}: choose one of {', '.join(OBJECTIVES)}")
    if time_limit is not None and not time_limit > 0:
        raise InvalidArgumentError(f"time_limit={time_limit!r}: positive seconds or None")
    if margin is not None and not margin > 0:
        raise InvalidArgumentError(f"margin={margin!r}: a positive number or None")
    X = check_features(X)
    labels, known = check_labels(y, X.shape[0], classes)
    began = time.perf_counter()
    tm = build(spec, X, labels, len(known), objective, margin)
    build_time = time.perf_counter() - began
    if isinstance(start, str):
        if start != "ste":
            raise InvalidArgumentError(f"start={start!r}: 'ste', a Fit, or one (W, b) per layer")
        start, _ = ste_layers(spec, X, labels, len(known), seed=ste_seed, margins=tm.margins)
    if start is not None or objective == "accuracy":
        initial = start.layers if isinstance(start, Fit) else start
        if initial is None:
            initial = [(np.zeros((b, a)), np.zeros(b)) for a, b in itertools.pairwise(tm.sizes)]
        _check_start(initial, tm.sizes)
        set_start(tm, initial, X, labels)
    results = []
    result = _solve(tm.model, solver, time_limit, mip_gap, threads, objective, results)
    if objective == "lexicographic":
        stage1 = tm.weights()
        second_stage(tm)
        try:
            result = _solve(tm.model, solver, time_limit, mip_gap, threads, objective, results)
        except NoTrainedNetworkError:  # stage 2 found nothing: stage 1's network stands
            _restore(tm, stage1)
    layers = tm.weights()
    fit = Fit(
        spec=spec,
        classes=known,
        layers=layers,
        margins=tm.margins,
        objective=objective,
        status=result.status,
        gap=result.gap,
        objective_value=result.objective,
        solve_time=sum(r.wall_time for r in results),
        build_time=build_time,
        train_accuracy=0.0,
        results=results,
    )
    fit.train_accuracy = float(np.mean(np.argmax(fit.scores(X), axis=1) == labels))
    if objective != "accuracy" and fit.train_accuracy < 1.0:
        # every sample is a constraint: a network that does not fit them all is a solver fault
        raise NoTrainedNetworkError(
            f"the solver's network fits only {fit.train_accuracy:.3f} of the training samples although "
            "the model requires all; not returned as trained",
            result,
        )
    return fit


def _check_start(layers: object, sizes: list[int]) -> None:
    shapes = [(b, a) for a, b in itertools.pairwise(sizes)]
    try:
        ok = len(layers) == len(shapes) and all(
            np.shape(W) == shape
            and np.shape(b) == (shape[0],)
            and np.all(np.isfinite(W))
            and np.all(np.isfinite(b))
            for (W, b), shape in zip(layers, shapes, strict=True)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidArgumentError(
            f"start: expected a Fit or one finite (W, b) per layer with W of shapes {shapes}"
        )


def _solve(model, solver, time_limit, mip_gap, threads, objective, results):
    try:
        result = solve(model, solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads)
    except InfeasibleModelError as exc:
        raise TrainingInfeasibleError(
            f"objective={objective!r}: the solver proved that no network of this shape and weight set "
            f"classifies every training sample ({exc.result.solver}: {exc.result.message}); "
            "use objective='accuracy' to fit as many as possible, or more hidden neurons",
            exc.result,
        ) from None
    results.append(result)
    if not result.has_solution:
        raise NoTrainedNetworkError(
            f"the solver stopped ({result.status}: {result.message}) without any network; raise "
            "time_limit or train on fewer samples",
            result,
        )
    return result


def _restore(tm, layers) -> None:
    for k, (W, b) in enumerate(layers):
        for (j, i), var in tm.model.W[k].items():
            var.set_value(W[j, i])
        for j in range(len(b)):
            tm.model.b[k][j].set_value(b[j])
