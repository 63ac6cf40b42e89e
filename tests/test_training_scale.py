"""MIP training past one MIP: the straight-through-estimator start, batch training, real-valued
weights in binary (step) nets, the pairwise ensemble on a Dask cluster. Tiny data only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.datasets import load_digits

from pyomo_nn import training
from pyomo_nn.errors import InvalidArgumentError, TrainingDataError
from pyomo_nn.training.ste import strict_correct


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.data / 16.0, d.target


def tiny(digits, classes=(0, 1, 2), per_class=4, seed=0):
    X, y = digits
    rng = np.random.default_rng(seed)
    rows = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes])
    return X[rows], y[rows]


def onnx_labels(model, path, X):
    scores = ort.InferenceSession(str(path)).run(None, {"x": np.asarray(X, dtype=np.float32)})[0]
    return model.classes[np.argmax(scores, axis=1)]


SPEC = training.BinarizedMLP(hidden=(2,))


def test_ste_start_fits_and_the_mip_keeps_it(digits):
    X, y = tiny(digits)
    from pyomo_nn.training.ste import ste_layers

    labels = np.searchsorted([0, 1, 2], y)
    layers, share = ste_layers(SPEC, X, labels, 3)
    assert share == 1.0  # 12 images, 3 classes: the STE net fits them with margin 1
    for W, b in layers:
        assert set(np.unique(W)) <= {-1.0, 0.0, 1.0} and np.all(b == np.round(b))
    from pyomo_nn.training.fit import forward_scores

    assert strict_correct(forward_scores(SPEC, layers, X), labels).all()
    fit = training.fit_mip(SPEC, X, y, "max-margin", time_limit=2, start="ste")
    assert fit.train_accuracy == 1.0  # at least the start: an incumbent from the first second
    with pytest.raises(InvalidArgumentError, match="start"):
        training.fit_mip(SPEC, X, y, "accuracy", time_limit=1, start="sgd")


@pytest.mark.parametrize("combine", ["vote", "best"])
def test_batches_train_combine_and_export(digits, tmp_path, combine):
    X, y = tiny(digits)
    lines = []
    ens = training.fit_batches(
        SPEC, X, y, "accuracy", batches=2, combine=combine, time_limit=5, progress=lines.append
    )
    assert len(ens.members) == 2 and len(lines) == 2
    assert sorted(np.concatenate(ens.batches).tolist()) == list(range(len(y)))
    assert all(set(y[rows]) == {0, 1, 2} for rows in ens.batches)  # stratified
    assert all(m.train_accuracy == 1.0 for m in ens.members)
    assert len(ens.validation) == 2 and all(0.0 <= v <= 1.0 for v in ens.validation)
    Xall, yall = digits
    keep = yall <= 2
    ens.to_onnx(tmp_path / "batches.onnx")
    assert np.array_equal(onnx_labels(ens, tmp_path / "batches.onnx", Xall[keep]), ens.predict(Xall[keep]))
    if combine == "best":
        best = ens.members[ens.best]
        assert np.array_equal(ens.predict(Xall[keep]), best.predict(Xall[keep]))
    else:  # the vote of two members: a class both predict wins, ties go to the first class
        a, b = (m.predict(Xall[keep]) for m in ens.members)
        agree = a == b
        assert np.array_equal(ens.predict(Xall[keep])[agree], a[agree])
        assert np.array_equal(ens.predict(Xall[keep])[~agree], np.minimum(a, b)[~agree])


def test_batches_of_pairwise_ensembles(digits, tmp_path):
    X, y = tiny(digits)
    ens = training.fit_batches(
        training.BinarizedMLP(hidden=(1,)), X, y, "accuracy", batches=2, pairwise=True, time_limit=5
    )
    assert all(isinstance(m, training.PairwiseEnsemble) for m in ens.members)
    ens.to_onnx(tmp_path / "pw.onnx")
    Xall, yall = digits
    keep = yall <= 2
    assert np.array_equal(onnx_labels(ens, tmp_path / "pw.onnx", Xall[keep]), ens.predict(Xall[keep]))


def test_bad_batches(digits):
    X, y = tiny(digits, per_class=2)
    with pytest.raises(TrainingDataError, match="batches=3"):
        training.fit_batches(SPEC, X, y, batches=3)
    with pytest.raises(InvalidArgumentError, match="batches"):
        training.fit_batches(SPEC, X, y, batches=0)
    with pytest.raises(InvalidArgumentError, match="combine"):
        training.fit_batches(SPEC, X, y, combine="mean")


@pytest.mark.parametrize("objective", ["accuracy", "max-margin", "min-weight"])
def test_step_net_with_real_weights_fits_and_exports(digits, tmp_path, objective):
    X, y = tiny(digits)
    spec = training.BinarizedMLP(hidden=(2,), weights=(-1, 1), real_weights=True, activation="step")
    fit = training.fit_mip(spec, X, y, objective, time_limit=2, start="ste")
    assert fit.train_accuracy == 1.0
    W = np.concatenate([W.ravel() for W, _ in fit.layers])
    assert W.min() >= -1 - 1e-9 and W.max() <= 1 + 1e-9
    fit.to_onnx(tmp_path / "real.onnx")
    Xall, _ = digits
    assert np.array_equal(onnx_labels(fit, tmp_path / "real.onnx", Xall), fit.predict(Xall))


def test_real_weights_spec_is_checked():
    assert not training.BinarizedMLP(weights=(-2, 2.5), real_weights=True).integer_weights
    for weights in [(1, -1), (-1, 0, 1), (-np.inf, 1)]:
        with pytest.raises(InvalidArgumentError, match="interval"):
            training.BinarizedMLP(weights=weights, real_weights=True)


def test_pairwise_on_an_executor(digits):
    """Any concurrent.futures.Executor runs the pairs (here threads; Dask below)."""
    X, y = tiny(digits, per_class=3)
    with ThreadPoolExecutor(2) as pool:
        ens = training.fit_pairwise(SPEC, X, y, "accuracy", time_limit=5, executor=pool, threads=1)
    assert ens.accuracy(X, y) == 1.0 and len(ens.fits) == 3
    with pytest.raises(InvalidArgumentError, match="executor"):
        training.fit_pairwise(SPEC, X, y, executor="dask")
    with pytest.raises(InvalidArgumentError, match="not both"):
        training.fit_pairwise(SPEC, X, y, executor=ThreadPoolExecutor(1), workers=2)


def test_pairwise_on_a_dask_cluster(digits):
    distributed = pytest.importorskip("dask.distributed")
    X, y = tiny(digits, classes=(0, 1), per_class=3)
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        ens = training.fit_pairwise(
            SPEC, X, y, "accuracy", time_limit=5, executor=client.get_executor(), threads=1
        )
    assert ens.accuracy(X, y) == 1.0


def test_command_line_batches_start_and_real_weights(tmp_path, capsys):
    from pyomo_nn.cli.main import main

    common = ["train", "--data", "digits", "--per-class", "2", "--hidden", "2", "--time-limit", "1"]
    code = main([*common, "--objective", "accuracy", "--batches", "2", "--start", "ste",
                 "--out", str(tmp_path / "b.onnx")])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0 and "batch 2 of 2" in printed and "validation accuracy per batch" in printed
    code = main([*common, "--objective", "accuracy", "--real-weights", "--weights", "-1", "1",
                 "--activation", "step", "--out", str(tmp_path / "r.onnx")])  # fmt: skip
    assert code == 0 and (tmp_path / "r.onnx").exists()
    bad = ["--real-weights", "--weights", "-1", "0", "1", "--out", str(tmp_path / "x.onnx")]
    assert main([*common, *bad]) == 2  # a real interval has two ends


def test_a_start_with_a_pre_activation_exactly_zero_is_feasible():
    """1/255 + 32/255 - 33/255 is -2.8e-17 in floats: the start's neuron is on, as in the MIP."""
    import pyomo.environ as pyo

    from pyomo_nn.training.mip import build, set_start

    X = np.array([[1, 32, 33], [0, 0, 200]], dtype=float) / 255.0
    labels = np.array([0, 1])
    spec = training.BinarizedMLP(hidden=(1,))
    tm = build(spec, X, labels, 2, "accuracy")
    start = [(np.array([[1.0, 1.0, -1.0]]), np.zeros(1)), (np.array([[1.0], [-1.0]]), np.zeros(2))]
    set_start(tm, start, X, labels)
    assert tm.model.layers[0].z[0, 0].value == 1.0
    for row in tm.model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(row.body)
        assert row.lower is None or body >= pyo.value(row.lower) - 1e-9, row.name
        assert row.upper is None or body <= pyo.value(row.upper) + 1e-9, row.name
