"""The top-level namespace: what a script imports, one meaning per name, and deprecation
shims for the names the docs and examples once used at the top level."""

from __future__ import annotations

import importlib
import inspect
import warnings

import pytest

import pyomo_nn
from pyomo_nn import _MOVED


def test_top_level_is_small_and_every_name_resolves_silently():
    assert len(pyomo_nn.__all__) <= 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in pyomo_nn.__all__:
            assert getattr(pyomo_nn, name) is not None


def test_errors_and_layers_live_in_their_modules():
    exported = [getattr(pyomo_nn, name) for name in pyomo_nn.__all__]
    exceptions = [obj for obj in exported if inspect.isclass(obj) and issubclass(obj, BaseException)]
    assert exceptions == [pyomo_nn.errors.PyomoNNError]
    layers = [obj for obj in exported if inspect.isclass(obj) and obj.__module__.startswith("pyomo_nn.ir.")]
    assert layers == [pyomo_nn.ir.Network]
    assert pyomo_nn.errors.StaleBoundsError and pyomo_nn.ir.Dense


@pytest.mark.parametrize("name", sorted(_MOVED))
def test_moved_names_warn_and_still_work(name):
    home = importlib.import_module(_MOVED[name])
    with pytest.warns(DeprecationWarning, match=f"use {_MOVED[name]}.{name}"):
        assert getattr(pyomo_nn, name) is getattr(home, name)
    assert name not in pyomo_nn.__all__


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'Add'"):
        pyomo_nn.Add  # noqa: B018 - moved without a shim: pyomo_nn.ir.Add


def test_solve_is_one_thing():
    """``pyomo_nn.solve`` is the function; the solver sub-package is ``pyomo_nn.solvers``."""
    assert inspect.isfunction(pyomo_nn.solve)
    assert pyomo_nn.solvers.SolverConfig is pyomo_nn.SolverConfig
    assert pyomo_nn.solvers.solve is pyomo_nn.solve
