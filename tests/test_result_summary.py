"""The result types share one gap, one status vocabulary and one printed layout."""

from __future__ import annotations

import pytest

from pyomo_nn.result import Result
from pyomo_nn.result.summary import ANSWERS, STATUSES, relative_gap, table
from pyomo_nn.solvers.outcome import SolveOutcome
from pyomo_nn.vnnlib import Counterexample, PropertyResult


def test_relative_gap_is_highs_definition():
    assert relative_gap(10.0, 9.0) == pytest.approx(0.1)
    assert relative_gap(0.0, 1e-12) == pytest.approx(1e-2)
    assert relative_gap(None, 1.0) is None and relative_gap(1.0, None) is None


def test_result_gap_and_table():
    result = Result("time_limit", "highs", 4.0, 5.0, 1.5, "stopped")
    assert result.gap == pytest.approx(0.25)
    lines = str(result).splitlines()
    assert lines[0] == "status      time_limit (highs: stopped)"
    assert lines[3] == "gap         25%"
    assert table([("dual bound", "x")]) == ["dual bound  x"]


def test_statuses_and_answers_are_checked():
    assert "optimal" in STATUSES and "sat" in ANSWERS
    with pytest.raises(ValueError, match="not one of"):
        SolveOutcome("solved", True, 1.0, 1.0, 0.1, "")
    with pytest.raises(ValueError, match="not one of"):
        PropertyResult("proved", "", 0.0)


def test_property_result_prints_as_a_table():
    result = PropertyResult(
        "sat", "found", 1.25, Counterexample(None, None, 2), rejected_candidates=1, refuted_by={"LP": 3}
    )
    text = str(result)
    assert text.splitlines()[0] == "answer      sat"
    assert "refuted     3 by LP" in text and "disjunct 2" in text and "1 candidate(s)" in text
