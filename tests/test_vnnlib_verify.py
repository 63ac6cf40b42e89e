"""VNN-LIB verification: right answers on the VNN-COMP sanity instances, every stage of the
procedure, honest counterexamples, the competition's result files and the command line."""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from conftest import DATA, random_mlp
from pyomo_nn.cli.main import main
from pyomo_nn.vnnlib import decide as decide_module
from pyomo_nn.vnnlib import parse_vnnlib, read_result_file, verify_property, write_result_file
from pyomo_nn.vnnlib.bench import instance_name
from pyomo_nn.vnnlib.decide import float32_inside, with_property_rows
from pyomo_nn.vnnlib.lp import OutputRelaxation

VNNLIB = DATA / "vnnlib"
ACAS_SAT = DATA / "acasxu_test_sat.onnx"
ACAS_UNSAT = VNNLIB / "test_unsat.onnx"


@pytest.mark.parametrize(
    ("network", "prop"),
    [
        (VNNLIB / "test_nano.onnx", "test_nano.vnnlib"),
        (VNNLIB / "test_tiny.onnx", "test_tiny.vnnlib"),
        (DATA / "vnncomp_test_small.onnx", "test_small.vnnlib"),
        (ACAS_UNSAT, "test_prop.vnnlib"),
    ],
)
def test_sanity_instances_are_unsat(network, prop):
    result = verify_property(pnn.load_onnx(network), pnn.load_vnnlib(VNNLIB / prop), timeout=60)
    assert result.answer == "unsat"
    assert result.counterexample is None


def test_acas_sat_instance_has_a_counterexample_that_onnxruntime_confirms():
    net = pnn.load_onnx(ACAS_SAT)
    spec = pnn.load_vnnlib(VNNLIB / "test_prop.vnnlib")
    result = verify_property(net, spec, timeout=60)
    assert result.answer == "sat"
    found = result.counterexample
    assert np.array_equal(found.x.astype(np.float32).astype(np.float64), found.x)  # exact float32 values
    outputs = net.source.run(found.x)[0]
    assert np.array_equal(outputs, found.y)
    assert spec.satisfied_disjunct(found.x, outputs) == found.disjunct


def test_result_file_in_competition_format(tmp_path):
    net = pnn.load_onnx(ACAS_SAT)
    spec = pnn.load_vnnlib(VNNLIB / "test_prop.vnnlib")
    result = verify_property(net, spec, timeout=60)
    path = tmp_path / "out.txt"
    write_result_file(path, result)
    lines = path.read_text().splitlines()
    assert lines[0] == "sat"
    assert lines[1].startswith("((X_0 ") and lines[-1].startswith(" (Y_4 ") and lines[-1].endswith("))")
    assert len(lines) == 1 + 5 + 5
    read = read_result_file(path)
    assert read.answer == "sat"
    assert np.array_equal(read.x, result.counterexample.x) and np.array_equal(read.y, result.counterexample.y)
    assert spec.satisfied_disjunct(read.x, net.source.run(read.x)[0]) is not None

    unsat = verify_property(pnn.load_onnx(ACAS_UNSAT), spec, timeout=60)
    write_result_file(path, unsat)
    assert path.read_text() == "unsat\n"


def _box_property(threshold: float, extra: str = "") -> str:
    """Three inputs in [-1, 1], one output: counterexamples have Y_0 <= threshold."""
    declarations = "".join(f"(declare-const X_{i} Real)" for i in range(3)) + "(declare-const Y_0 Real)"
    box = "".join(f"(assert (<= X_{i} 1))(assert (>= X_{i} -1))" for i in range(3))
    return declarations + box + (extra or f"(assert (<= Y_0 {threshold!r}))")


@pytest.fixture(scope="module")
def small_net_and_minimum() -> tuple[pnn.Network, float]:
    """A random 3-10-10-1 network (no ONNX file: numpy is its reference) and its exact minimum."""
    net = random_mlp([3, 10, 10, 1], seed=0)
    bounds = pnn.compute_bounds(net, pnn.Box(-1, 1), method="symbolic")
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    model.objective = pyo.Objective(expr=model.nn.outputs[0])
    result = pnn.solve(model, time_limit=60)
    assert result.status == "optimal"
    return net, result.objective


def test_milp_refutes_what_bounds_cannot(small_net_and_minimum):
    net, minimum = small_net_and_minimum
    spec = parse_vnnlib(_box_property(minimum - 0.05))
    result = verify_property(net, spec, timeout=30, workers=1)
    assert result.answer == "unsat"
    assert result.refuted_by == {"MILP": 1}


def test_parallel_milps_refute_two_disjuncts(small_net_and_minimum):
    net, minimum = small_net_and_minimum
    both = f"(assert (or (<= Y_0 {minimum - 0.05!r}) (<= (* 2 Y_0) {2 * minimum - 0.2!r})))"
    result = verify_property(net, parse_vnnlib(_box_property(0.0, both)), timeout=30, workers=2)
    assert result.answer == "unsat"
    assert result.refuted_by == {"MILP": 2}


def test_counterexample_just_below_the_minimum(small_net_and_minimum):
    net, minimum = small_net_and_minimum
    result = verify_property(net, parse_vnnlib(_box_property(minimum + 0.01)), timeout=30, workers=1)
    assert result.answer == "sat"
    assert net.forward(result.counterexample.x)[0] <= minimum + 0.01


def test_rows_with_input_terms(small_net_and_minimum):
    """(<= (- Y_0 X_0) t): the rows layer reads the outputs and the inputs."""
    net, _ = small_net_and_minimum
    grid = np.stack(np.meshgrid(*[np.linspace(-1, 1, 21)] * 3), axis=-1).reshape(-1, 3)
    lowest = float(np.min(net.forward(grid)[:, 0] - grid[:, 0]))
    sat = verify_property(net, parse_vnnlib(_box_property(0.0, f"(assert (<= (- Y_0 X_0) {lowest!r}))")), 30)
    assert sat.answer == "sat"
    x = sat.counterexample.x
    assert net.forward(x)[0] - x[0] <= lowest
    unsat = verify_property(net, parse_vnnlib(_box_property(0.0, "(assert (<= (- Y_0 X_0) -100))")), 30)
    assert unsat.answer == "unsat"


def test_lp_tightening_runs_only_where_alpha_did_not(small_net_and_minimum):
    """After alpha bounds the LP tightening is skipped (it adds next to nothing to them); rows
    that read the inputs make the extended network a non-chain, where alpha cannot run and the
    LPs tighten the hidden layers."""
    net, minimum = small_net_and_minimum
    chain_lines: list[str] = []
    result = verify_property(
        net, parse_vnnlib(_box_property(minimum - 0.05)), 30, workers=1, log=chain_lines.append
    )
    assert result.answer == "unsat"
    assert any("bounds (alpha)" in line for line in chain_lines)
    assert any("bounds (lp): skipped" in line for line in chain_lines)
    assert not any("LP relaxation (tightened)" in line for line in chain_lines)
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, pnn.compute_bounds(net, pnn.Box(-1, 1), method="symbolic"))
    model.objective = pyo.Objective(expr=model.nn.outputs[0] - model.nn.inputs[0])
    lowest = pnn.solve(model, time_limit=60).objective
    joined_lines: list[str] = []
    rows = f"(assert (<= (- Y_0 X_0) {lowest - 0.05!r}))"
    result = verify_property(
        net, parse_vnnlib(_box_property(0.0, rows)), 30, workers=1, log=joined_lines.append
    )
    assert result.answer == "unsat"
    assert any("bounds (alpha): skipped" in line for line in joined_lines)
    tightening = [line for line in joined_lines if "bounds (lp)" in line]
    assert tightening and "skipped" not in tightening[0]


def test_a_counterexample_that_does_not_reproduce_is_never_sat(small_net_and_minimum, monkeypatch):
    """If the reference evaluation disagrees with every candidate, the answer is not 'sat'."""
    net, minimum = small_net_and_minimum
    monkeypatch.setattr(decide_module, "reference_outputs", lambda network, x: network.forward(x) + 100.0)
    result = verify_property(net, parse_vnnlib(_box_property(minimum + 0.5)), timeout=30, workers=1)
    assert result.answer == "unknown"
    assert result.counterexample is None
    assert result.rejected_candidates >= 2  # the attack's and the MILP's


def test_contradictory_property_is_unsat_at_once():
    spec = parse_vnnlib(_box_property(0.0, "(assert (and (<= Y_0 0) (<= 1 0)))"))
    result = verify_property(random_mlp([3, 4, 1]), spec, timeout=5)
    assert result.answer == "unsat" and "contradicts itself" in result.reason


def test_property_must_fit_the_network():
    spec = pnn.load_vnnlib(VNNLIB / "test_prop.vnnlib")
    with pytest.raises(pnn.errors.ShapeMismatchError, match="declares 5 inputs"):
        verify_property(random_mlp([3, 4, 1]), spec, timeout=5)


def test_float32_rounding_stays_inside_the_box():
    lower, upper = np.array([0.1, 0.0]), np.array([0.30000001, 1e-9])
    point = float32_inside(np.array([0.30000001, 1e-9]), lower, upper)
    assert np.all(point >= lower) and np.all(point <= upper)
    assert np.array_equal(point.astype(np.float32).astype(np.float64), point)
    assert float32_inside(np.array([0.1]), np.array([0.1]), np.array([0.1])) is None  # 0.1 has no float32


def test_cli_prints_progress_and_the_answer_last(tmp_path, capsys):
    out = tmp_path / "out.txt"
    code = main(
        [
            "vnnlib",
            str(ACAS_SAT),
            str(VNNLIB / "test_prop.vnnlib"),
            "--timeout",
            "60",
            "--result-file",
            str(out),
        ]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[-1] == "sat" and any("attack" in line for line in lines[:-1])
    assert out.read_text().startswith("sat\n((X_0 ")


def test_cli_bench_counts_answers_and_wrong_ones(tmp_path, capsys):
    (tmp_path / "instances.csv").write_text(
        f"{ACAS_SAT},test_prop.vnnlib,60\n{ACAS_UNSAT},test_prop.vnnlib,60\n"
        f"{VNNLIB / 'test_tiny.onnx'},test_tiny.vnnlib,60\n"
    )
    (tmp_path / "expected.csv").write_text(
        "network,property,result\nacasxu_test_sat,test_prop,sat\ntest_unsat,test_prop,unsat\n"
        "test_tiny,test_tiny,sat\n"  # deliberately wrong: the tool must report a wrong answer
    )
    results = tmp_path / "results.csv"
    code = main(
        [
            "vnnlib-bench",
            str(tmp_path / "instances.csv"),
            "--root",
            str(VNNLIB),
            "--expected",
            str(tmp_path / "expected.csv"),
            "--out",
            str(results),
        ]
    )
    output = capsys.readouterr().out
    assert code == 0
    assert "WRONG" in output
    rows = results.read_text().splitlines()
    assert rows[0].startswith("network,property,answer,expected,wrong")
    assert [row.split(",")[2] for row in rows[1:]] == ["sat", "unsat", "unsat"]
    assert [row.split(",")[4] for row in rows[1:]] == ["0", "0", "1"]
    table = output.splitlines()[-1].split()
    assert table[:7] == ["all", "3", "1", "2", "0", "0", "1"]


def test_cli_error_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.vnnlib"
    bad.write_text("(declare-const X_0 Real)\n(assert (<= X_3 1))\n")
    assert main(["vnnlib", str(ACAS_SAT), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyomo-nn: error: ") and "bad.vnnlib:2:" in err


def test_instance_names_keep_the_eps_of_the_property():
    assert instance_name("prop_0_0.03.vnnlib") == "prop_0_0.03"
    assert instance_name("nets/mnist-net_256x2.onnx") == "mnist-net_256x2"
    assert instance_name("prop_1_0.05") == "prop_1_0.05"


def test_lp_certificate_is_a_lower_bound_for_any_duals(small_net_and_minimum):
    """Weak duality: the certified bound matches the LP optimum for HiGHS' duals and stays
    below it for arbitrary ones, so a solver's inaccuracy can only weaken it."""
    net, minimum = small_net_and_minimum
    spec = parse_vnnlib(_box_property(0.0))
    extended = with_property_rows(net, list(spec.disjuncts))
    relaxation = OutputRelaxation(extended, pnn.compute_bounds(extended, spec.domain(), method="symbolic"))
    (certified,) = relaxation.certified_lower_bounds([0], deadline=time.perf_counter() + 30)
    offset = float(relaxation.problem.objective_offsets[0])
    lp_optimum = relaxation.backend.highs.getInfo().objective_function_value + offset
    assert certified <= lp_optimum + 1e-12 and certified == pytest.approx(lp_optimum, abs=1e-6)
    assert lp_optimum <= minimum + 1e-9
    costs = np.zeros(relaxation.problem.column_lower.size)
    columns, values = relaxation.problem.objective.row(0)
    costs[columns] = values
    rng = np.random.default_rng(0)
    for _ in range(20):
        duals = rng.normal(size=relaxation.problem.rows.lower.size)
        assert relaxation.backend.certificate.lower_bound(costs, duals) + offset <= lp_optimum + 1e-9


def test_parallel_milps_survive_a_capture_lock_left_taken(small_net_and_minimum):
    """A worker stopped at a deadline can leave Pyomo's process-shared output-capture lock
    taken; later workers must not depend on it."""
    from pyomo.common import dependencies

    net, minimum = small_net_and_minimum
    both = f"(assert (or (<= Y_0 {minimum - 0.05!r}) (<= (* 2 Y_0) {2 * minimum - 0.2!r})))"
    assert dependencies.capture_output_lock.acquire(timeout=5)
    try:
        result = verify_property(net, parse_vnnlib(_box_property(0.0, both)), timeout=30, workers=2)
    finally:
        dependencies.capture_output_lock.release()
    assert result.answer == "unsat"


@pytest.mark.parametrize(("timeout", "workers"), [(0, None), (-1, None), (10, 0)])
def test_verify_property_refuses_bad_settings(timeout, workers):
    net = pnn.load_onnx(VNNLIB / "test_nano.onnx")
    spec = parse_vnnlib((VNNLIB / "test_nano.vnnlib").read_text())
    with pytest.raises(pnn.errors.InvalidArgumentError):
        verify_property(net, spec, timeout, workers=workers)
