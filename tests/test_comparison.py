"""Objectives on the bundled digits networks, every answer re-checked with onnxruntime."""

from __future__ import annotations

import json

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.relational_expr import RangedExpression

import pyomo_nn as pnn
from pyomo_nn import objectives as obj
from pyomo_nn.bundled import digits_network_path, digits_test_set, load_digits_network
from pyomo_nn.cli.main import main
from pyomo_nn.objectives.base import softmax
from pyomo_nn.solvers.scip_ranges import ranges_read_correctly_by_scip

needs_scip = pytest.mark.skipif(
    "scip_direct" not in pnn.available_solvers(),
    reason="pyscipopt is not installed (pip install 'pyomo-nn[minlp]'); the softmax MINLP needs SCIP",
)


@pytest.fixture(scope="module")
def small() -> pnn.Network:
    return load_digits_network("64-32-32-10")


@pytest.fixture(scope="module")
def deep() -> pnn.Network:
    return load_digits_network("64-50-50-50-10")


@pytest.fixture(scope="module")
def pruned(small) -> pnn.Network:
    return pnn.prune(small, percent=80)


def image(index: int) -> np.ndarray:
    return digits_test_set()[0][index]


def onnxruntime_logits(net: pnn.Network, x: np.ndarray) -> np.ndarray:
    return net.source.run(x)[0]


def test_maxdiff_logits_on_two_architectures(small, deep):
    x0 = image(0)
    result = pnn.Comparison(small, deep, pnn.LinfBall(x0, 0.01, 0, 1)).solve(obj.MaxDiff(), time_limit=60)
    assert result.status == "optimal" and result.verified
    assert all(net.reference == "onnxruntime" for net in result.networks)
    assert np.max(np.abs(result.x - x0)) <= 0.01 + 1e-6
    a, b = onnxruntime_logits(small, result.x), onnxruntime_logits(deep, result.x)
    assert result.details["logit_l1_difference"] == pytest.approx(np.sum(np.abs(a - b)), abs=1e-9)
    assert result.details["probability_l1_difference"] == pytest.approx(
        np.sum(np.abs(softmax(a) - softmax(b))), abs=1e-9
    )
    assert result.objective == pytest.approx(np.sum(np.abs(a - b)), abs=1e-3)
    samples = np.clip(x0 + np.random.default_rng(0).uniform(-0.01, 0.01, size=(2000, 64)), 0, 1)
    sampled = np.sum(np.abs(small.forward(samples) - deep.forward(samples)), axis=1)
    assert result.objective >= sampled.max() - 1e-6


@needs_scip
def test_maxdiff_probabilities_with_scip(small, deep):
    x0 = image(3)
    comparison = pnn.Comparison(small, deep, pnn.LinfBall(x0, 0.005, 0, 1))
    result = comparison.solve(obj.MaxDiff(space="probabilities"), time_limit=15)
    assert result.solver == "scip_direct" and result.has_solution
    a, b = onnxruntime_logits(small, result.x), onnxruntime_logits(deep, result.x)
    exact = np.sum(np.abs(softmax(a) - softmax(b)))
    assert result.value_at_x == pytest.approx(exact, abs=1e-12)
    assert result.objective == pytest.approx(exact, abs=1e-4)
    assert result.dual_bound >= result.objective - 1e-6
    assert result.verified


def test_maxout_makes_the_networks_disagree(small, deep):
    x0 = image(0)
    result = pnn.Comparison(small, deep, pnn.LinfBall(x0, 0.05, 0, 1)).solve(obj.MaxOut(2, 3), time_limit=60)
    assert result.status == "optimal" and result.verified
    assert int(np.argmax(onnxruntime_logits(small, result.x))) == 2
    assert int(np.argmax(onnxruntime_logits(deep, result.x))) == 3


def test_maxflip_against_a_pruned_copy(small, pruned):
    result = pnn.Comparison(small, pruned, pnn.LinfBall(image(0), 0.02, 0, 1)).solve(
        obj.MaxFlip(), time_limit=60
    )
    assert result.status == "optimal" and result.verified
    assert result.objective >= 1
    assert result.details["flips_at_x"] >= round(result.objective)
    assert result.networks[1].reference == "onnxruntime"  # pnn.prune keeps an ONNX export


def test_mineps_against_a_pruned_copy(small, pruned):
    x0 = image(0)
    result = pnn.Comparison(small, pruned, pnn.LinfBall(x0, 0.1, 0, 1)).solve(obj.MinEps(), time_limit=60)
    assert result.status == "optimal" and result.verified
    assert 0.05 < result.objective < 0.1
    assert np.max(np.abs(result.x - x0)) <= result.objective + 1e-6
    assert int(np.argmax(onnxruntime_logits(small, result.x))) == 2
    assert int(np.argmax(onnxruntime_logits(pruned, result.x))) != 2
    certified = pnn.Comparison(small, pruned, pnn.LinfBall(x0, 0.05, 0, 1)).solve(obj.MinEps(), time_limit=60)
    assert certified.status == "infeasible" and "certified" in certified.meaning


def test_verify_adversarial_and_feature_on_one_network(small):
    x0 = image(0)
    verify = pnn.Verification(small, pnn.LinfBall(x0, 0.02, 0, 1)).solve(obj.Verify(x0), time_limit=60)
    assert verify.status == "optimal" and verify.verified
    at_x, at_x0 = onnxruntime_logits(small, verify.x), onnxruntime_logits(small, x0)
    assert verify.objective == pytest.approx(np.sum(np.abs(at_x - at_x0)), abs=1e-3)

    attack = obj.Adversarial(x0, target=3, norm="linf")
    adversarial = pnn.Verification(small, pnn.LinfBall(x0, 0.2, 0, 1)).solve(attack, time_limit=60)
    assert adversarial.status == "optimal" and adversarial.verified
    assert int(np.argmax(onnxruntime_logits(small, adversarial.x))) == 3
    assert np.max(np.abs(adversarial.x - x0)) == pytest.approx(adversarial.objective, abs=1e-6)

    feature = pnn.Verification(small, pnn.Box(0, 1)).solve(obj.Feature(layer=2, neuron=17), time_limit=60)
    assert feature.status == "optimal" and feature.verified
    assert small.activations(feature.x)["relu_1"][0][17] == pytest.approx(feature.objective, abs=1e-6)


def test_cli_compare_writes_json(tmp_path, capsys):
    x0 = tmp_path / "x0.npy"
    np.save(x0, image(0))
    out = tmp_path / "out.json"
    models = [str(digits_network_path("64-32-32-10")), str(digits_network_path("64-50-50-50-10"))]
    code = main(["compare", *models, "--objective", "maxdiff", "--linf", str(x0), "0.01", "--json", str(out)])
    assert code == 0
    assert "status      optimal" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["verified"] is True and report["models"]["net1"] == models[0]
    assert len(report["x"]) == 64 and report["details"]["logit_l1_difference"] > 0


def test_cli_verify_with_settings(tmp_path, capsys):
    x0 = tmp_path / "x0.npy"
    np.save(x0, image(0))
    model = str(digits_network_path())
    args = ["verify", model, "--objective", "adversarial", "--set", "target=3", "--set", "norm=linf"]
    assert main([*args, "--linf", str(x0), "0.2"]) == 0
    assert "class_at_x: 3" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--objective", "nope"], "unknown objective 'nope'"),
        (["--objective", "adversarial", "--set", "targt=3"], "no setting(s) ['targt']"),
        (["--objective", "adversarial", "--set", "target=3"], "needs x0"),
        (["--objective", "maxdiff"], "at least 2"),
        (["--set", "space"], "KEY=VALUE"),
        (["--linf", "missing.npy", "0.1"], "cannot read the domain's centre"),
        (["--x0", "missing.npy"], "cannot read x0"),
    ],
)
def test_cli_errors_are_one_line(capsys, extra, message):
    assert main(["verify", str(digits_network_path()), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyomo-nn: error:") and message in err


@needs_scip
def test_scip_reads_network_blocks_correctly(small):
    """PySCIPOpt shifts only one side of a ranged constraint with a constant; the rewrite while
    SCIP runs makes its optimum agree with HiGHS' and leaves the model as it was."""
    x0 = image(2)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(small, pnn.compute_bounds(small, pnn.LinfBall(x0, 0.03, 0, 1)))
    model.obj = pyo.Objective(expr=model.nn.outputs[3] - model.nn.outputs[1], sense=pyo.maximize)
    ranged = [
        con for con in model.component_data_objects(pyo.Constraint) if type(con.expr) is RangedExpression
    ]
    assert ranged, "network blocks write their equalities as ranges (0, body, 0)"
    before = [str(con.expr) for con in ranged]
    with ranges_read_correctly_by_scip(model):
        assert not any(type(con.expr) is RangedExpression and con.lower == con.upper for con in ranged)
    assert [str(con.expr) for con in ranged] == before
    reference = pnn.solve(model, "highs", time_limit=60, mip_gap=1e-9)
    scip = pnn.solve(model, "scip_direct", time_limit=60, mip_gap=1e-9)
    assert scip.status == reference.status == "optimal"
    assert scip.objective == pytest.approx(reference.objective, abs=1e-5)
    assert scip.verified


@needs_scip
@pytest.mark.parametrize(("sense", "expected"), [(pyo.minimize, -2.0), (pyo.maximize, 1.0)])
def test_scip_reads_a_range_with_a_constant(sense, expected):
    model = pyo.ConcreteModel()
    model.x = pyo.Var(bounds=(-5, 5))
    model.range = pyo.Constraint(expr=pyo.inequality(-1.0, model.x + 1.0, 2.0))
    model.obj = pyo.Objective(expr=model.x, sense=sense)
    assert pnn.solve(model, "scip_direct", time_limit=30).objective == pytest.approx(expected)
