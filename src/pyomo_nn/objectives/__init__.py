"""Objective plug-ins: what to ask of one network or of several networks sharing an input.

One network (:class:`~pyomo_nn.Verification`): :class:`Verify` (PV), :class:`Adversarial`,
:class:`Feature`. Several networks (:class:`~pyomo_nn.Comparison`, problem (PC)):
:class:`MaxDiff`, :class:`MaxOut`, :class:`MaxFlip`, :class:`MinEps`. :func:`get` looks
objectives up by name, including third-party ones (entry-point group ``pyomo_nn.objectives``).
"""

from pyomo_nn.objectives.adversarial import Adversarial
from pyomo_nn.objectives.base import Evaluation, Objective, ProblemView, SearchScore
from pyomo_nn.objectives.feature import Feature
from pyomo_nn.objectives.maxdiff import MaxDiff
from pyomo_nn.objectives.maxflip import MaxFlip
from pyomo_nn.objectives.maxout import MaxOut
from pyomo_nn.objectives.mineps import MinEps
from pyomo_nn.objectives.registry import ENTRY_POINT_GROUP, available, get, register
from pyomo_nn.objectives.verify import Verify

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adversarial",
    "Evaluation",
    "Feature",
    "MaxDiff",
    "MaxFlip",
    "MaxOut",
    "MinEps",
    "Objective",
    "ProblemView",
    "SearchScore",
    "Verify",
    "available",
    "get",
    "register",
]
