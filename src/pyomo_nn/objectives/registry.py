"""Objective registry: names to objective classes, built-ins plus third-party plug-ins.

A third-party package adds an objective without touching pyomo-nn by declaring an entry
point in the group :data:`ENTRY_POINT_GROUP`, e.g. in its ``pyproject.toml``::

    [project.entry-points."pyomo_nn.objectives"]
    margin = "my_package.objectives:MarginObjective"

after which ``get("margin")`` (and ``pyomo-nn compare --objective margin``) find it.
:func:`register` does the same at run time, for code that is not an installed package.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from pyomo_nn.errors import ObjectiveConfigError
from pyomo_nn.objectives.adversarial import Adversarial
from pyomo_nn.objectives.base import Objective
from pyomo_nn.objectives.feature import Feature
from pyomo_nn.objectives.maxdiff import MaxDiff
from pyomo_nn.objectives.maxflip import MaxFlip
from pyomo_nn.objectives.maxout import MaxOut
from pyomo_nn.objectives.mineps import MinEps
from pyomo_nn.objectives.verify import Verify

#: Entry-point group under which installed packages register objective classes.
ENTRY_POINT_GROUP = "pyomo_nn.objectives"

BUILTIN: dict[str, type[Objective]] = {
    cls.name: cls for cls in (MaxDiff, MaxOut, MaxFlip, MinEps, Verify, Adversarial, Feature)
}

_registered: dict[str, type[Objective]] = {}


def register(name: str, cls: type[Objective]) -> None:
    """Make ``cls`` available as ``get(name)`` in this process."""
    _check_objective_class(name, cls, "register()")
    if name in BUILTIN:
        raise ObjectiveConfigError(f"{name!r} is a built-in objective; choose another name")
    _registered[name] = cls


def available() -> list[str]:
    """Names of every objective: built-in, registered at run time and from entry points."""
    names = set(BUILTIN) | set(_registered) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def get(name: str) -> type[Objective]:
    """The objective class called ``name``; an unknown name is an error that lists the known ones."""
    if name in BUILTIN:
        return BUILTIN[name]
    if name in _registered:
        return _registered[name]
    for point in entry_points(group=ENTRY_POINT_GROUP, name=name):
        try:
            cls = point.load()
        except Exception as error:
            raise ObjectiveConfigError(
                f"objective {name!r} is registered by entry point {point.value!r} (group "
                f"{ENTRY_POINT_GROUP!r}) but could not be loaded: {type(error).__name__}: {error}"
            ) from error
        _check_objective_class(name, cls, f"entry point {point.value!r}")
        return cls
    raise ObjectiveConfigError(f"unknown objective {name!r}; available: {', '.join(available())}")


def _check_objective_class(name: str, cls: object, origin: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Objective)):
        raise ObjectiveConfigError(
            f"objective {name!r} from {origin} is {cls!r}, not a subclass of pyomo_nn.objectives.Objective"
        )
