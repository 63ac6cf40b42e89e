"""MIP training of binarised networks (pyomo_nn.training): perfect fits on tiny data sets, the
exported ONNX against onnxruntime, an infeasible fit-all request, the bad inputs."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.datasets import load_digits

from pyomo_nn import training
from pyomo_nn.errors import (
    InvalidArgumentError,
    PyomoNNError,
    TrainingDataError,
    TrainingInfeasibleError,
)


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.data / 16.0, d.target


def tiny(digits, classes=(0, 1, 2), per_class=3, seed=0):
    X, y = digits
    rng = np.random.default_rng(seed)
    rows = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes])
    return X[rows], y[rows]


def onnx_scores(path, X):
    session = ort.InferenceSession(str(path))
    return session.run(None, {"x": np.asarray(X, dtype=np.float32)})[0]


SPEC = training.BinarizedMLP(hidden=(3,), weights=(-1, 0, 1), activation="sign")


@pytest.mark.parametrize("objective", ["accuracy", "max-margin", "min-weight", "lexicographic"])
def test_perfect_network_found_and_exported(digits, tmp_path, objective):
    X, y = tiny(digits)
    fit = training.fit_mip(SPEC, X, y, objective, time_limit=5)
    assert fit.train_accuracy == 1.0
    assert fit.status in ("optimal", "time_limit")
    assert fit.accuracy(X, y) == 1.0
    assert set(np.unique(np.concatenate([W.ravel() for W, _ in fit.layers]))) <= {-1.0, 0.0, 1.0}
    path = tmp_path / "bnn.onnx"
    fit.to_onnx(path)
    scores = onnx_scores(path, X)
    assert np.array_equal(fit.classes[np.argmax(scores, axis=1)], y)
    # on unseen digits the file and the numpy forward pass agree too
    Xall, _ = digits
    assert np.array_equal(np.argmax(onnx_scores(path, Xall), axis=1), np.argmax(fit.scores(Xall), axis=1))


def test_step_activation_and_two_hidden_layers(digits, tmp_path):
    X, y = tiny(digits, classes=(3, 7), per_class=3)
    spec = training.BinarizedMLP(hidden=(2, 2), weights=(-1, 1), activation="step")
    fit = training.fit_mip(spec, X, y, "accuracy", time_limit=10)
    assert fit.train_accuracy == 1.0
    assert set(np.unique(fit.layers[0][0])) <= {-1.0, 1.0}
    fit.to_onnx(tmp_path / "step.onnx")
    Xall, _ = digits
    assert np.array_equal(
        fit.classes[np.argmax(onnx_scores(tmp_path / "step.onnx", Xall), axis=1)], fit.predict(Xall)
    )


def test_pixel_grid_is_exact_at_the_threshold(tmp_path):
    """8-bit pixels: a pre-activation exactly 0 is +1 in numpy and in the float32 file."""
    X = np.array([[0, 0], [255, 0], [0, 255], [255, 255], [3, 0]], dtype=float) / 255.0
    y = np.array([0, 1, 1, 0, 0])  # xor: needs the hidden layer
    fit = training.fit_mip(training.BinarizedMLP(hidden=(2,)), X, y, "accuracy", time_limit=10)
    assert fit.margins[0] == pytest.approx(1 / 255)
    assert fit.train_accuracy == 1.0
    fit.to_onnx(tmp_path / "xor.onnx")
    grid = np.array([[i, j] for i in range(0, 256, 15) for j in range(0, 256, 15)], dtype=float) / 255.0
    assert np.array_equal(
        fit.classes[np.argmax(onnx_scores(tmp_path / "xor.onnx", grid), axis=1)], fit.predict(grid)
    )


def test_no_perfect_network_is_proved(digits):
    X, y = tiny(digits, classes=(0, 1), per_class=2)
    X = np.vstack([X, X[:1]])
    y = np.concatenate([y, [1 - y[0]]])  # the same image with both labels
    with pytest.raises(TrainingInfeasibleError) as info:
        training.fit_mip(SPEC, X, y, "max-margin", time_limit=10)
    assert info.value.result.status == "infeasible"
    assert "no network" in str(info.value)
    # the accuracy objective trains the best one instead
    fit = training.fit_mip(SPEC, X, y, "accuracy", time_limit=10)
    assert fit.train_accuracy == pytest.approx(4 / 5)


def test_pairwise_ensemble_votes_and_exports(digits, tmp_path):
    X, y = tiny(digits, classes=(0, 1, 2), per_class=3)
    lines = []
    ens = training.fit_pairwise(
        training.BinarizedMLP(hidden=(2,)), X, y, "accuracy", time_limit=5, progress=lines.append
    )
    assert len(ens.fits) == 3 and len(lines) == 3
    assert ens.accuracy(X, y) == 1.0
    ens.to_onnx(tmp_path / "ens.onnx")
    Xall, _ = digits
    votes = onnx_scores(tmp_path / "ens.onnx", Xall)
    assert np.array_equal(ens.classes[np.argmax(votes, axis=1)], ens.predict(Xall))
    assert np.all(votes.sum(axis=1) == 3)  # every pair votes once
    # the same pairs solved two at a time in worker processes
    parallel = training.fit_pairwise(
        training.BinarizedMLP(hidden=(2,)), X, y, "accuracy", time_limit=5, workers=2, threads=1
    )
    assert parallel.pairs == ens.pairs and parallel.accuracy(X, y) == 1.0
    with pytest.raises(InvalidArgumentError, match="workers"):
        training.fit_pairwise(training.BinarizedMLP(hidden=(2,)), X, y, workers=0)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"hidden": (0,)}, InvalidArgumentError, "hidden"),
        ({"hidden": ()}, InvalidArgumentError, "hidden"),
        ({"weights": (-0.5, 0.5)}, InvalidArgumentError, "integers"),
        ({"weights": (1,)}, InvalidArgumentError, "weights"),
        ({"activation": "relu"}, InvalidArgumentError, "activation"),
    ],
)
def test_bad_spec(kwargs, error, words):
    with pytest.raises(error, match=words):
        training.BinarizedMLP(**kwargs)


def test_bad_data(digits):
    X, y = tiny(digits, classes=(0, 1), per_class=2)
    bad = X.copy()
    bad[0, 0] = np.nan
    cases = [
        (bad, y, {}, "NaN"),
        (X, y[:-1], {}, "labels"),
        (X, y + 5, {"classes": (0, 1)}, "outside the classes"),
        (X, y.astype(float) + 0.5, {}, "integers"),
        (X, np.zeros_like(y), {}, "two different classes"),
        (X[:, :, None], y, {}, "shape"),
    ]
    for Xc, yc, kw, words in cases:
        with pytest.raises(TrainingDataError, match=words):
            training.fit_mip(SPEC, Xc, yc, time_limit=5, **kw)
    with pytest.raises(InvalidArgumentError, match="objective"):
        training.fit_mip(SPEC, X, y, "hinge")
    with pytest.raises(InvalidArgumentError, match="time_limit"):
        training.fit_mip(SPEC, X, y, time_limit=0)
    fit = training.fit_mip(SPEC, X, y, "accuracy", time_limit=5)
    with pytest.raises(TrainingDataError, match="features"):
        fit.predict(np.zeros((2, 10)))
    with pytest.raises(PyomoNNError):
        fit.accuracy(X, y[:1])


def test_load_onnx_reads_the_export_and_verification_runs_on_it(digits, tmp_path):
    import pyomo_nn as pnn
    from pyomo_nn.ir import Sign
    from pyomo_nn.objectives import Adversarial

    X, y = tiny(digits)
    fit = training.fit_mip(SPEC, X, y, "accuracy", time_limit=5)
    fit.to_onnx(tmp_path / "bnn.onnx")
    net = pnn.load_onnx(tmp_path / "bnn.onnx")
    assert sum(isinstance(layer, Sign) for layer in net.layers) == 2
    Xall, _ = digits
    assert np.array_equal(np.argmax(net.forward(Xall), axis=1), np.argmax(fit.scores(Xall), axis=1))
    # a tiny ball around a training image: no input reaches another class (a proof)
    x0 = X[0]
    other = int((np.flatnonzero(fit.classes != y[0]))[0])
    result = pnn.Verification(net, pnn.LinfBall(x0, 0.001, 0.0, 1.0)).solve(
        Adversarial(x0, target=other, margin=1.0, norm="linf"), "highs", time_limit=30
    )
    assert result.status == "infeasible"


def test_adversarial_distance_on_a_binarised_net_is_the_true_one(tmp_path):
    import pyomo_nn as pnn
    from pyomo_nn.objectives import Adversarial

    X = np.array([[0, 0], [255, 0], [0, 255], [255, 255], [3, 0]], dtype=float) / 255.0
    y = np.array([0, 1, 1, 0, 0])
    fit = training.fit_mip(training.BinarizedMLP(hidden=(2,)), X, y, "accuracy", time_limit=10)
    fit.to_onnx(tmp_path / "xor.onnx")
    net = pnn.load_onnx(tmp_path / "xor.onnx")
    x0 = np.array([0.2, 0.1])
    start = int(fit.predict(x0)[0])
    target = 1 - start
    result = pnn.Verification(net, pnn.Box(0.0, 1.0)).solve(
        Adversarial(x0, target=target, margin=1.0, norm="linf"), "highs", time_limit=30
    )
    grid = np.linspace(0, 1, 501)
    points = np.array(np.meshgrid(grid, grid)).reshape(2, -1).T
    scores = fit.scores(points)
    reach = scores[:, target] >= scores[:, start] + 1
    if not reach.any():
        assert result.status == "infeasible"
        return
    best = np.abs(points[reach] - x0).max(axis=1).min()
    assert result.status == "optimal"
    # the MILP's optimum is a sound lower bound of the sampled distance, and close to it
    assert best - grid[1] - 1e-6 <= result.objective <= best + 1e-6


def test_command_line_trains_and_writes_onnx(tmp_path, capsys):
    from pyomo_nn.cli.main import main

    out = tmp_path / "bnn.onnx"
    code = main(
        [
            "train",
            "--data",
            "digits",
            "--per-class",
            "1",
            "--hidden",
            "2",
            "--objective",
            "accuracy",
            "--time-limit",
            "5",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0 and out.exists()
    assert "Fit(accuracy" in printed and "wrote" in printed
    data = tmp_path / "data.npz"
    X, y = tiny(load_digits_arrays(), classes=(0, 1), per_class=2)
    np.savez(data, X=(X * 255).astype(np.uint8), y=y)
    code = main(
        [
            "train",
            "--data",
            str(data),
            "--per-class",
            "2",
            "--hidden",
            "1",
            "--pairwise",
            "--objective",
            "accuracy",
            "--time-limit",
            "5",
            "--out",
            str(tmp_path / "e.onnx"),
        ]
    )
    assert code == 0 and "pair 0 vs 1" in capsys.readouterr().out
    assert main(["train", "--data", str(tmp_path / "missing.npz"), "--out", str(out)]) == 2


def load_digits_arrays():
    d = load_digits()
    return d.data / 16.0, d.target


def test_a_start_network_is_used_and_checked(digits):
    X, y = tiny(digits)
    first = training.fit_mip(SPEC, X, y, "accuracy", time_limit=5)
    assert first.train_accuracy == 1.0
    again = training.fit_mip(SPEC, X, y, "accuracy", time_limit=1, start=first)
    assert again.train_accuracy == 1.0  # the start is an incumbent at once
    with pytest.raises(InvalidArgumentError, match="start"):
        training.fit_mip(SPEC, X, y, "accuracy", time_limit=1, start=[(np.zeros((2, 2)), np.zeros(2))])
