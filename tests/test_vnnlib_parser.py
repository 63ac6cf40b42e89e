"""The VNN-LIB reader: the competition's files, the normal form, and errors with line numbers."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import pyomo_nn as pnn
from conftest import DATA
from pyomo_nn.vnnlib import parse_vnnlib

VNNLIB = DATA / "vnnlib"


def test_sanity_property_with_one_input():
    spec = pnn.load_vnnlib(VNNLIB / "test_tiny.vnnlib")
    assert (spec.num_inputs, spec.num_outputs, len(spec.disjuncts)) == (1, 1, 1)
    (part,) = spec.disjuncts
    assert part.input_lower.tolist() == [-1.0] and part.input_upper.tolist() == [1.0]
    # (>= Y_0 100) becomes -Y_0 <= -100
    assert part.output_coefs.tolist() == [[-1.0]] and part.rhs.tolist() == [-100.0]


def test_acas_property_is_one_conjunction_of_four_rows():
    spec = pnn.load_vnnlib(VNNLIB / "test_prop.vnnlib")
    assert (spec.num_inputs, spec.num_outputs, len(spec.disjuncts)) == (5, 5, 1)
    (part,) = spec.disjuncts
    assert part.input_lower[0] == pytest.approx(-0.30353115613746867)
    assert part.input_upper[0] == pytest.approx(-0.29855281193475053)
    expected = np.zeros((4, 5))
    expected[:, 0] = 1.0
    expected[np.arange(4), np.arange(1, 5)] = -1.0  # Y_0 <= Y_i
    assert np.array_equal(part.output_coefs, expected)
    assert not part.has_input_terms
    assert part.lines == (37, 38, 39, 40)


def test_mnist_property_has_one_disjunct_per_other_class():
    spec = pnn.load_vnnlib(VNNLIB / "mnist_prop_7_0.03.vnnlib")
    assert (spec.num_inputs, spec.num_outputs, len(spec.disjuncts)) == (784, 10, 9)
    label = 9  # the file's comment: label 9
    for part in spec.disjuncts:
        (row,) = part.output_coefs
        assert row[label] == 1.0 and row.sum() == 0.0 and part.rhs.tolist() == [0.0]
    box = spec.domain().box(784)
    assert np.all(box[0] >= 0.0) and np.all(box[1] <= 1.0)
    assert np.all(box[1] - box[0] <= 2 * 0.03 + 1e-6)


def test_or_inside_and_expands_to_disjunctive_normal_form():
    text = """
    (declare-const X_0 Real) (declare-const Y_0 Real) (declare-const Y_1 Real)
    (assert (<= X_0 1)) (assert (>= X_0 0))
    (assert (and (or (<= Y_0 Y_1) (>= Y_0 3)) (or (<= Y_1 2) (and (>= Y_1 5) (<= X_0 0.5)))))
    """
    spec = parse_vnnlib(text)
    assert len(spec.disjuncts) == 4
    assert sorted(part.num_rows for part in spec.disjuncts) == [2, 2, 2, 2]
    narrowed = [part for part in spec.disjuncts if part.input_upper[0] == 0.5]
    assert len(narrowed) == 2  # the (<= X_0 0.5) branch tightens the box of its disjuncts only


def test_linear_terms_and_input_terms():
    text = """
    (declare-const X_0 Real) (declare-const X_1 Real) (declare-const Y_0 Real)
    (assert (<= -1 X_0 1)) (assert (>= (* 2 X_1) -2)) (assert (<= X_1 1))
    (assert (<= (+ (* 3 Y_0) (- X_0) (/ X_1 2)) (- 4 1)))
    """
    spec = parse_vnnlib(text)
    (part,) = spec.disjuncts
    assert part.input_lower.tolist() == [-1.0, -1.0] and part.input_upper.tolist() == [1.0, 1.0]
    assert part.output_coefs.tolist() == [[3.0]]
    assert part.input_coefs.tolist() == [[-1.0, 0.5]] and part.rhs.tolist() == [3.0]
    assert part.has_input_terms


def test_contradictory_disjuncts_are_dropped():
    text = """
    (declare-const X_0 Real) (declare-const Y_0 Real)
    (assert (<= X_0 1)) (assert (>= X_0 0))
    (assert (or (and (>= X_0 2) (<= Y_0 0)) (and (<= 1 0) (<= Y_0 1)) (<= Y_0 5)))
    """
    spec = parse_vnnlib(text)
    assert len(spec.disjuncts) == 1 and spec.disjuncts[0].rhs.tolist() == [5.0]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("(declare-const X_0 Real)\n(assert (<= X_1 1))", 2, "X_1 is used before it is declared"),
        ("(declare-const X_0 Real)\n\n(assert (<= X_0 1)", 3, "never closed"),
        ("(declare-const X_0 Real))", 1, "unexpected ')'"),
        ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= (* X_0 Y_0) 1))", 3, "linear"),
        ("(declare-const Y_0 Real)\n(assert (< Y_0 1))", 2, "strict inequality"),
        ("(declare-const Y_0 Real)\n(assert (not (<= Y_0 1)))", 2, "unsupported operator 'not'"),
        ("(declare-const Y_0 Real)\n(define-fun f () Real 1)", 2, "unsupported command 'define-fun'"),
        ("(declare-const Z_0 Real)", 1, "variable name 'Z_0' is not supported"),
        ("(declare-const X_0 Int)", 1, "only 'Real'"),
        ("(declare-const X_0 Real)\n(declare-const X_0 Real)", 2, "declared twice"),
        ("(declare-const X_0 Real)\n(assert (<= X_0 nan))", 2, "not a finite number"),
        ("(declare-const X_0 Real)\n(assert (<= X_0 foo))", 2, "unknown symbol 'foo'"),
    ],
)
def test_errors_name_the_line(text, line, words):
    with pytest.raises(pnn.errors.InvalidVnnlibError) as info:
        parse_vnnlib(text, source="prop.vnnlib")
    assert info.value.line == line
    assert str(info.value).startswith(f"prop.vnnlib:{line}: ")
    assert words in str(info.value)


def test_gap_in_numbering_is_refused():
    with pytest.raises(pnn.errors.InvalidVnnlibError, match="X_1 is not declared"):
        parse_vnnlib("(declare-const X_0 Real)(declare-const X_2 Real)")


def test_missing_file_and_unbounded_input(tmp_path):
    with pytest.raises(pnn.errors.InvalidVnnlibError, match="file not found"):
        pnn.load_vnnlib(tmp_path / "missing.vnnlib")
    spec = parse_vnnlib("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= X_0 1))")
    with pytest.raises(pnn.errors.UnboundedDomainError, match="X_0"):
        spec.domain()


def test_specification_constrains_a_network_block():
    """add_to_model makes any block's model feasible exactly when the disjunct holds."""
    net = pnn.load_onnx(DATA / "acasxu_test_sat.onnx")
    spec = pnn.load_vnnlib(VNNLIB / "test_prop.vnnlib")
    bounds = pnn.compute_bounds(net, spec.domain(), method="symbolic")
    model = pyo.ConcreteModel()
    model.nn = pnn.NetworkBlock(net, bounds)
    spec.add_to_model(model, model.nn, disjunct=0)
    model.objective = pyo.Objective(expr=model.nn.outputs[0])
    result = pnn.solve(model, time_limit=60)
    assert result.verified
    x, y = result.x, net.source.run(result.x)[0]
    assert spec.disjuncts[0].violation(x, y)[0] <= 1e-6
