"""The objective registry: built-ins by name, run-time registration, entry-point plug-ins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pyomo_nn as pnn
from pyomo_nn import objectives as obj
from pyomo_nn.objectives import registry

PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "objective_plugin"


def test_builtins_are_found_by_name():
    assert obj.get("maxdiff") is obj.MaxDiff
    builtin = {"maxdiff", "maxout", "maxflip", "mineps", "verify", "adversarial", "feature"}
    assert builtin <= set(obj.available())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(pnn.errors.ObjectiveConfigError, match=r"unknown objective 'maxdif'.*maxdiff"):
        obj.get("maxdif")


def test_register_at_run_time(monkeypatch):
    monkeypatch.setattr(registry, "_registered", {})

    class Half(obj.Feature):
        name = "half"

    obj.register("half", Half)
    assert obj.get("half") is Half
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="not a subclass"):
        obj.register("bad", dict)
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="built-in"):
        obj.register("maxdiff", Half)


def _install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """What ``pip install examples/objective_plugin`` leaves on sys.path: the module and a
    dist-info directory whose entry_points.txt names it in the group pyomo_nn.objectives."""
    info = tmp_path / "pyomo_nn_margin-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pyomo-nn-margin\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[{obj.ENTRY_POINT_GROUP}]\nmargin = {target}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PLUGIN))


def test_entry_point_plugin_is_found_and_solves(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "pyomo_nn_margin:Margin")
    assert "margin" in obj.available()
    margin = obj.get("margin")
    net = pnn.Network.mlp([np.array([[1.0], [-1.0]])], [np.zeros(2)])
    result = pnn.Verification(net, pnn.Box(-1, 2)).solve(margin(right=0, wrong=1), time_limit=30)
    assert result.objective == pytest.approx(2.0, abs=1e-6)  # -x - x at x = -1
    assert result.details["network_wrong"] is True and result.verified
    assert result.solve_result.start.startswith("gradient search")  # the plug-in's search_score


def test_broken_entry_point_is_a_clear_error(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "pyomo_nn_margin:Missing")
    with pytest.raises(pnn.errors.ObjectiveConfigError, match="could not be loaded"):
        obj.get("margin")


def test_pyproject_declares_every_builtin_in_the_entry_point_group():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    declared = pyproject["project"]["entry-points"][obj.ENTRY_POINT_GROUP]
    assert declared == {name: f"{cls.__module__}:{cls.__name__}" for name, cls in registry.BUILTIN.items()}
